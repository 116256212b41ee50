"""The subset of the ``expr`` language (expr-lang/expr) trigger conditions use (pure, safe).

Nothing is ``eval``'d: source is tokenised, parsed into a small tree and
walked. Supported: literals (numbers, single/double quoted strings, arrays,
``true``/``false``/``nil``), identifiers read from the environment, member
access ``a.b`` and optional chaining ``a?.b``, indexing ``a[i]``, calls of
functions and Go methods (``time.Parse(x).Add(1 * time.Minute).Before(y)``),
unary ``!``/``not``/``-``, ``* / %``, ``+ -``, comparisons, ``in``/``not in``,
``contains``/``startsWith``/``endsWith``/``matches``, ``and``/``&&``,
``or``/``||``, ``??`` and ``?:``.

Runtime behaviour follows expr's: a missing key reads as ``nil``; fetching a
field from ``nil`` is an error (``cannot fetch phase from <nil>``) unless
``?.`` is used; ``and``/``or``/``!`` need booleans. Errors raise ``ExprError``
(the notifications controller then treats the condition as false, as
``triggers.Run`` does after logging ``failed to execute when condition``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from gitopslab.argocd.gotime import Duration, GoTime


class ExprError(Exception):
    """A compile or runtime error of an expression."""


# --- tokens ----------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d[\d_]*\.\d+(?:[eE][+-]?\d+)?|\d[\d_]*(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>\?\.|\?\?|==|!=|<=|>=|&&|\|\||\*\*|\.\.|[-+*/%<>!()\[\]{},.?:^])
""", re.VERBOSE)

_WORD_OPERATORS = {"and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith"}


@dataclass(frozen=True)
class Token:
    kind: str   # number, string, name, op, eof
    value: Any
    pos: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if not m:
            raise ExprError(f"unexpected token {source[pos]!r} (1:{pos + 1})")
        kind = m.lastgroup
        text = m.group()
        if kind == "number":
            clean = text.replace("_", "")
            value: Any = int(clean, 16) if clean.lower().startswith("0x") else (
                float(clean) if any(c in clean for c in ".eE") else int(clean))
            tokens.append(Token("number", value, pos))
        elif kind == "string":
            tokens.append(Token("string", _unquote(text), pos))
        elif kind == "name":
            tokens.append(Token("op" if text in _WORD_OPERATORS else "name", text, pos))
        elif kind == "op":
            tokens.append(Token("op", text, pos))
        pos = m.end()
    tokens.append(Token("eof", None, pos))
    return tokens


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v"}


def _unquote(text: str) -> str:
    body = text[1:-1]
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and i + 5 < len(body) + 1:
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


# --- tree -------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    op: str                # literal, ident, member, index, call, unary, binary, array, ternary
    args: tuple = ()


_BINARY = {  # operator -> (precedence, right associative)
    "??": (1, False),
    "or": (10, False), "||": (10, False),
    "and": (15, False), "&&": (15, False),
    "==": (20, False), "!=": (20, False), "<": (20, False), ">": (20, False), "<=": (20, False),
    ">=": (20, False), "in": (20, False), "not in": (20, False), "matches": (20, False),
    "contains": (20, False), "startsWith": (20, False), "endsWith": (20, False),
    "..": (25, False),
    "+": (30, False), "-": (30, False),
    "*": (60, False), "/": (60, False), "%": (60, False),
    "**": (100, True), "^": (100, True),
}
_UNARY_PRECEDENCE = {"not": 50, "!": 50, "-": 90, "+": 90}


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        tok = self.next()
        if tok.kind != "op" or tok.value != value:
            raise ExprError(f"unexpected token {_show(tok)} (1:{tok.pos + 1})")

    def parse(self) -> Node:
        node = self.expression(0)
        if self.peek().kind != "eof":
            tok = self.peek()
            raise ExprError(f"unexpected token {_show(tok)} (1:{tok.pos + 1})")
        return node

    def _binary_operator(self) -> str | None:
        tok = self.peek()
        if tok.kind != "op":
            return None
        if tok.value == "not" and self.peek(1).kind == "op" and self.peek(1).value == "in":
            return "not in"
        return tok.value if tok.value in _BINARY else None

    def expression(self, min_precedence: int) -> Node:
        left = self.unary()
        while True:
            op = self._binary_operator()
            if op is None:
                if self.peek().kind == "op" and self.peek().value == "?" and min_precedence == 0:
                    self.next()
                    then = self.expression(0)
                    self.expect(":")
                    otherwise = self.expression(0)
                    left = Node("ternary", (left, then, otherwise))
                    continue
                return left
            precedence, right_assoc = _BINARY[op]
            if precedence < min_precedence:
                return left
            self.next()
            if op == "not in":
                self.next()
            right = self.expression(precedence if right_assoc else precedence + 1)
            left = Node("binary", (op, left, right))

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.value in _UNARY_PRECEDENCE:
            self.next()
            operand = self.expression(_UNARY_PRECEDENCE[tok.value])
            return Node("unary", (tok.value, operand))
        return self.postfix(self.primary())

    def primary(self) -> Node:
        tok = self.next()
        if tok.kind in ("number", "string"):
            return Node("literal", (tok.value,))
        if tok.kind == "name":
            if tok.value == "true":
                return Node("literal", (True,))
            if tok.value == "false":
                return Node("literal", (False,))
            if tok.value == "nil":
                return Node("literal", (None,))
            return Node("ident", (tok.value,))
        if tok.kind == "op" and tok.value == "(":
            node = self.expression(0)
            self.expect(")")
            return node
        if tok.kind == "op" and tok.value == "[":
            items = []
            while not (self.peek().kind == "op" and self.peek().value == "]"):
                items.append(self.expression(0))
                if self.peek().kind == "op" and self.peek().value == ",":
                    self.next()
                else:
                    break
            self.expect("]")
            return Node("array", tuple(items))
        raise ExprError(f"unexpected token {_show(tok)} (1:{tok.pos + 1})")

    def postfix(self, node: Node) -> Node:
        while True:
            tok = self.peek()
            if tok.kind != "op":
                return node
            if tok.value in (".", "?."):
                self.next()
                name = self.next()
                if name.kind not in ("name", "op") or not isinstance(name.value, str) or not name.value.isidentifier():
                    raise ExprError(f"expected name (1:{name.pos + 1})")
                node = Node("member", (node, name.value, tok.value == "?."))
            elif tok.value == "[":
                self.next()
                key = self.expression(0)
                self.expect("]")
                node = Node("index", (node, key))
            elif tok.value == "(":
                self.next()
                args = []
                while not (self.peek().kind == "op" and self.peek().value == ")"):
                    args.append(self.expression(0))
                    if self.peek().kind == "op" and self.peek().value == ",":
                        self.next()
                    else:
                        break
                self.expect(")")
                node = Node("call", (node, tuple(args)))
            else:
                return node


def _show(tok: Token) -> str:
    return "EOF" if tok.kind == "eof" else f'{_kind_name(tok)}("{tok.value}")'


def _kind_name(tok: Token) -> str:
    return {"op": "Operator", "name": "Identifier", "number": "Number", "string": "String"}.get(tok.kind, tok.kind)


def compile_expr(source: str) -> Node:
    """Parse ``source``; raises ``ExprError`` on a syntax error."""
    return _Parser(source).parse()


# --- evaluation -----------------------------------------------------------------
_MISSING = object()


def type_name(value) -> str:
    """How Go's ``%T`` names a value of the environment (for error messages)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    if isinstance(value, GoTime):
        return "time.Time"
    if isinstance(value, Duration):
        return "time.Duration"
    return type(value).__name__


def fetch(obj, name, optional: bool = False):
    """expr's ``runtime.Fetch``: maps by key, lists by index, Go values by method."""
    if obj is None:
        if optional:
            return None
        raise ExprError(f"cannot fetch {name} from <nil>")
    if isinstance(obj, dict):
        return obj.get(name)
    if isinstance(obj, (list, tuple, str)) and isinstance(name, int) and not isinstance(name, bool):
        index = name + len(obj) if name < 0 else name
        if not 0 <= index < len(obj):
            raise ExprError(f"index out of range: {name} (array length is {len(obj)})")
        return obj[index]
    if isinstance(name, str) and isinstance(obj, (GoTime, Duration)) and name[:1].isupper():
        attr = getattr(obj, name, _MISSING)
        if attr is not _MISSING:
            return attr
    raise ExprError(f"cannot fetch {name} from {type_name(obj)}")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def equal(a, b) -> bool:
    """expr's ``runtime.Equal``: numbers across int/float, otherwise same type and value."""
    if _number(a) and _number(b):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if type(a) is not type(b) and not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    return a == b


def _bool(value, op: str) -> bool:
    if not isinstance(value, bool):
        raise ExprError(f"invalid operation: {op} (mismatched types {type_name(value)} and bool)")
    return value


def _compare(op: str, a, b) -> bool:
    ok = (_number(a) and _number(b)) or (type(a) is type(b) and isinstance(a, (str, GoTime, Duration)))
    if not ok:
        raise ExprError(f"invalid operation: {type_name(a)} {op} {type_name(b)}")
    return {"<": a < b, ">": b < a, "<=": not b < a, ">=": not a < b}[op]


def _arith(op: str, a, b):
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    if op == "+" and isinstance(a, GoTime) and isinstance(b, Duration):
        return a.Add(b)
    if op in "+-*" and (isinstance(a, Duration) or isinstance(b, Duration)):
        try:
            result = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b}[op]()
        except TypeError:
            result = NotImplemented
        if result is not NotImplemented:
            return result
    if not (_number(a) and _number(b)):
        raise ExprError(f"invalid operation: {type_name(a)} {op} {type_name(b)}")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            return float("inf") if a > 0 else float("-inf") if a < 0 else float("nan")
        return a / b  # expr's "/" always yields a float
    if op == "%":
        if not (isinstance(a, int) and isinstance(b, int)):
            raise ExprError(f"invalid operation: {type_name(a)} % {type_name(b)}")
        if b == 0:
            raise ExprError("integer divide by zero")
        return int(a - b * int(a / b))  # Go's truncated modulo
    if op in ("**", "^"):
        return float(a) ** float(b)
    raise ExprError(f"unknown operator {op}")


def _in(a, b) -> bool:
    if b is None:
        return False
    if isinstance(b, dict):
        return a in b
    if isinstance(b, (list, tuple)):
        return any(equal(a, x) for x in b)
    raise ExprError(f"operator \"in\" not defined on {type_name(b)}")


def _call(fn, args: list):
    if not callable(fn):
        raise ExprError(f"{type_name(fn)} is not callable")
    try:
        return fn(*args)
    except ExprError:
        raise
    except Exception as e:  # noqa: BLE001 - a helper's panic is the expression's error
        raise ExprError(str(e)) from None


def evaluate(node: Node, env: dict):
    op, args = node.op, node.args
    if op == "literal":
        return args[0]
    if op == "ident":
        return env.get(args[0])
    if op == "array":
        return [evaluate(a, env) for a in args]
    if op == "member":
        target, name, optional = args
        return fetch(evaluate(target, env), name, optional)
    if op == "index":
        return fetch(evaluate(args[0], env), evaluate(args[1], env))
    if op == "call":
        callee, call_args = args
        return _call(evaluate(callee, env), [evaluate(a, env) for a in call_args])
    if op == "unary":
        operator, operand = args
        value = evaluate(operand, env)
        if operator in ("!", "not"):
            return not _bool(value, operator)
        if not (_number(value) or isinstance(value, Duration)):
            raise ExprError(f"invalid operation: {operator}{type_name(value)}")
        return -value if operator == "-" else value
    if op == "ternary":
        cond, then, otherwise = args
        return evaluate(then, env) if _bool(evaluate(cond, env), "?:") else evaluate(otherwise, env)
    if op == "binary":
        return _binary(args[0], args[1], args[2], env)
    raise ExprError(f"unknown node {op}")


def _binary(operator: str, left: Node, right: Node, env: dict):
    if operator in ("and", "&&"):
        return _bool(evaluate(left, env), operator) and _bool(evaluate(right, env), operator)
    if operator in ("or", "||"):
        return _bool(evaluate(left, env), operator) or _bool(evaluate(right, env), operator)
    if operator == "??":
        value = evaluate(left, env)
        return evaluate(right, env) if value is None else value
    a, b = evaluate(left, env), evaluate(right, env)
    if operator == "==":
        return equal(a, b)
    if operator == "!=":
        return not equal(a, b)
    if operator in ("<", ">", "<=", ">="):
        return _compare(operator, a, b)
    if operator == "in":
        return _in(a, b)
    if operator == "not in":
        return not _in(a, b)
    if operator in ("contains", "startsWith", "endsWith", "matches"):
        if not (isinstance(a, str) and isinstance(b, str)):
            raise ExprError(f"invalid operation: {type_name(a)} {operator} {type_name(b)}")
        if operator == "matches":
            return re.search(b, a) is not None
        return {"contains": b in a, "startsWith": a.startswith(b), "endsWith": a.endswith(b)}[operator]
    if operator == "..":
        return list(range(a, b + 1))
    return _arith(operator, a, b)


class Program:
    """A compiled expression, run against environments."""

    def __init__(self, source: str):
        self.source = source
        self.tree = compile_expr(source)

    def run(self, env: dict):
        return evaluate(self.tree, env)


def run(source: str, env: dict):
    return Program(source).run(env)


Function = Callable[..., Any]
