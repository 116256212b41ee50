"""GitHub Actions expressions: ``${{ … }}`` parsed and evaluated (pure, no I/O).

Grammar and semantics as documented by GitHub ("Evaluate expressions in
workflows and actions") and implemented by actions/runner's
``Sdk/Expressions``: literals (``null``, booleans, numbers, single-quoted
strings with ``''`` escapes), context property access (``a.b``, ``a['b']``,
``a.*.b``), ``!``, comparisons (loose equality, case-insensitive strings),
``&&``/``||`` returning an operand, and function calls. Context and property
names are case-insensitive.

``evaluate(expr, contexts, functions)`` returns a Python value;
``interpolate(text, …)`` replaces each ``${{ … }}`` by its string form.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from gitopslab.ci import exprvalues as values

Functions = dict[str, Callable[..., Any]]


class ExpressionError(Exception):
    """Raised for syntax errors and unknown names, with GitHub's wording where it has one."""


@dataclass(frozen=True)
class Token:
    kind: str   # num, str, ident, op, end
    value: Any
    pos: int


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>0x[0-9a-fA-F]+|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_]))
  | (?P<str>'(?:[^']|'')*')
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\].,*])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
""", re.VERBOSE)


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExpressionError(f"Unexpected symbol: '{text[pos:]}'. Located at position {pos + 1} "
                                  f"within expression: {text}")
        kind = m.lastgroup
        if kind == "num":
            raw = m.group()
            # A number straight after a value is an operator-less sequence, e.g. "a-1": keep "-1" apart.
            if raw[0] in "+-" and tokens and tokens[-1].kind in ("num", "str", "ident") or \
                    raw[0] in "+-" and tokens and tokens[-1].value in (")", "]"):
                raise ExpressionError(f"Unexpected symbol: '{raw[0]}'. Located at position {pos + 1} "
                                      f"within expression: {text}")
            tokens.append(Token("num", int(raw, 16) if raw.lower().startswith("0x") else float(raw), pos))
        elif kind == "str":
            tokens.append(Token("str", m.group()[1:-1].replace("''", "'"), pos))
        elif kind in ("op", "ident"):
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


# --- AST -------------------------------------------------------------------------
@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Index:
    target: Any
    key: Any          # an AST node; Star for ".*" / "[*]"


@dataclass(frozen=True)
class Star:
    pass


@dataclass(frozen=True)
class Not:
    operand: Any


@dataclass(frozen=True)
class Binary:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


_KEYWORDS = {"null": None, "true": True, "false": False, "NaN": float("nan"), "Infinity": float("inf")}
_PRECEDENCE = [("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">=")]


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, op: str) -> None:
        token = self.take()
        if token.value != op or token.kind != "op":
            self.fail(token)

    def fail(self, token: Token):
        shown = "end of expression" if token.kind == "end" else f"symbol: '{token.value}'"
        raise ExpressionError(f"Unexpected {shown}. Located at position {token.pos + 1} within expression: "
                              f"{self.text}")

    def parse(self):
        node = self.binary(0)
        if self.peek().kind != "end":
            self.fail(self.peek())
        return node

    def binary(self, level: int):
        if level == len(_PRECEDENCE):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().value in _PRECEDENCE[level]:
            op = self.take().value
            node = Binary(op, node, self.binary(level + 1))
        return node

    def unary(self):
        if self.peek().kind == "op" and self.peek().value == "!":
            self.take()
            return Not(self.unary())
        return self.postfix(self.primary())

    def primary(self):
        token = self.take()
        if token.kind in ("num", "str"):
            return Literal(token.value)
        if token.kind == "op" and token.value == "(":
            node = self.binary(0)
            self.expect(")")
            return node
        if token.kind == "ident":
            if token.value in _KEYWORDS:
                return Literal(_KEYWORDS[token.value])
            if self.peek().kind == "op" and self.peek().value == "(":
                return self.call(token.value)
            return Name(token.value)
        self.fail(token)

    def call(self, name: str):
        self.take()
        args = []
        if not (self.peek().kind == "op" and self.peek().value == ")"):
            args.append(self.binary(0))
            while self.peek().kind == "op" and self.peek().value == ",":
                self.take()
                args.append(self.binary(0))
        self.expect(")")
        return Call(name, tuple(args))

    def postfix(self, node):
        while self.peek().kind == "op" and self.peek().value in (".", "["):
            if self.take().value == ".":
                token = self.take()
                if token.kind == "op" and token.value == "*":
                    node = Index(node, Star())
                elif token.kind == "ident" or (token.kind == "num" and float(token.value).is_integer()):
                    node = Index(node, Literal(token.value if token.kind == "ident" else str(int(token.value))))
                else:
                    self.fail(token)
            else:
                if self.peek().kind == "op" and self.peek().value == "*":
                    self.take()
                    key = Star()
                else:
                    key = self.binary(0)
                self.expect("]")
                node = Index(node, key)
        return node


def parse(text: str):
    return _Parser(text.strip()).parse()


# --- evaluation -------------------------------------------------------------------
class _Evaluator:
    def __init__(self, contexts: dict[str, Any], functions: Functions):
        self.contexts = {k.lower(): v for k, v in contexts.items()}
        self.functions = {k.lower(): v for k, v in functions.items()}

    def eval(self, node):
        method = getattr(self, f"_{type(node).__name__.lower()}")
        return method(node)

    def _literal(self, node: Literal):
        return node.value

    def _name(self, node: Name):
        key = node.name.lower()
        if key not in self.contexts:
            raise ExpressionError(f"Unrecognized named-value: '{node.name}'. Located at position 1 within "
                                  f"expression: {node.name}")
        return self.contexts[key]

    def _index(self, node: Index):
        target = self.eval(node.target)
        if isinstance(node.key, Star):
            return values.star(target)
        return values.index(target, self.eval(node.key))

    def _not(self, node: Not):
        return not values.truthy(self.eval(node.operand))

    def _binary(self, node: Binary):
        if node.op == "&&":
            left = self.eval(node.left)
            return self.eval(node.right) if values.truthy(left) else left
        if node.op == "||":
            left = self.eval(node.left)
            return left if values.truthy(left) else self.eval(node.right)
        return values.compare(node.op, self.eval(node.left), self.eval(node.right))

    def _call(self, node: Call):
        func = self.functions.get(node.name.lower())
        if func is None:
            raise ExpressionError(f"Unrecognized function: '{node.name}'. Located at position 1 within "
                                  f"expression: {node.name}()")
        return func(*[self.eval(a) for a in node.args])


def evaluate(text: str, contexts: dict[str, Any], functions: Functions | None = None) -> Any:
    all_functions = {**values.BUILTINS, **(functions or {})}
    return _Evaluator(contexts, all_functions).eval(parse(text))


_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def interpolate(text: str, contexts: dict[str, Any], functions: Functions | None = None) -> str:
    """Replace every ``${{ expr }}`` in ``text`` by the string form of its value."""
    return _TEMPLATE.sub(lambda m: values.to_string(evaluate(m.group(1), contexts, functions)), text)


def interpolate_value(value: Any, contexts: dict[str, Any], functions: Functions | None = None) -> Any:
    """A whole ``${{ expr }}`` keeps the value's type; anything else becomes a string."""
    if not isinstance(value, str):
        return value
    m = _TEMPLATE.fullmatch(value.strip())
    if m:
        return evaluate(m.group(1), contexts, functions)
    return interpolate(value, contexts, functions)


def has_template(text: str) -> bool:
    return bool(_TEMPLATE.search(text))


STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


def condition_source(condition: Any) -> str:
    """The expression an ``if:`` stands for: ``${{ }}`` stripped, ``success() && (…)`` implied."""
    if condition is None or condition == "":
        return "success()"
    if isinstance(condition, bool):
        return "true" if condition else "false"
    text = str(condition).strip()
    m = _TEMPLATE.fullmatch(text)
    if m:
        text = m.group(1).strip()
    if not _uses_status_function(parse(text)):
        return f"success() && ({text})"
    return text


def _uses_status_function(node) -> bool:
    if isinstance(node, Call):
        return node.name.lower() in STATUS_FUNCTIONS or any(_uses_status_function(a) for a in node.args)
    if isinstance(node, Binary):
        return _uses_status_function(node.left) or _uses_status_function(node.right)
    if isinstance(node, Not):
        return _uses_status_function(node.operand)
    if isinstance(node, Index):
        return _uses_status_function(node.target) or _uses_status_function(node.key)
    return False
