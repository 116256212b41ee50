"""A subset of jq path expressions for ``ignoreDifferences.jqPathExpressions`` (pure).

Argo CD runs ``del(<expression>)`` with gojq. Supported here:

* paths: ``.``, ``.a.b``, ``."a/b"``, ``.["a/b"]``, ``.a[0]``, ``.a[-1]``, ``.a[]``, ``?`` after a step;
* pipes ``|`` between paths and ``select(...)``;
* conditions: ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``and``, ``or``, ``not``
  (as ``cond | not``), parentheses, string/number/true/false/null literals,
  relative paths, and ``| startswith("x")``, ``endswith``, ``test("regex")``,
  ``contains("x")`` on a path.

Anything else raises ``JqError`` (the ignore rule is then skipped, as Argo
CD skips a failing patch).
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|<=|>=|<|>|\||\.|\[|\]|\(|\)|\?|,)'
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*))"
)
_FUNCS = {"startswith", "endswith", "test", "contains"}


class JqError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    found, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise JqError(f"unsupported jq syntax near {text[pos:]!r}")
        kind = match.lastgroup
        found.append((kind, match.group(kind)))
        pos = match.end()
    return found


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self, value: str | None = None) -> bool:
        if self.pos >= len(self.tokens):
            return False
        return value is None or self.tokens[self.pos][1] == value

    def take(self, value: str | None = None) -> tuple[str, str]:
        if not self.peek(value):
            raise JqError(f"expected {value or 'token'} in jq expression")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def pipeline(self) -> list:
        terms = [self.term()]
        while self.peek("|"):
            self.take("|")
            terms.append(self.term())
        return terms

    def term(self):
        if self.peek("select"):
            self.take()
            self.take("(")
            cond = self.condition()
            self.take(")")
            return ("select", cond)
        return ("path", self.path())

    def path(self) -> list:
        steps = []
        if not self.peek(".") and not self.peek("["):
            raise JqError("a jq path must start with '.'")
        while self.peek(".") or self.peek("["):
            if self.take()[1] == ".":
                if self.peek() and self.tokens[self.pos][0] in ("ident", "str") and not self._is_keyword():
                    steps.append(("key", self._key(self.take())))
                elif self.peek("["):
                    continue
                else:
                    steps.append(("identity", None))
                    continue
            else:
                steps.append(self._bracket())
            if self.peek("?"):
                self.take()
                steps[-1] = (steps[-1][0] + "?", steps[-1][1])
        return steps

    def _is_keyword(self) -> bool:
        return self.tokens[self.pos][1] in ("and", "or", "not") and self.tokens[self.pos][0] == "ident"

    def _bracket(self):
        if self.peek("]"):
            self.take()
            return ("iter", None)
        kind, value = self.take()
        self.take("]")
        if kind == "str":
            return ("key", self._key((kind, value)))
        if kind == "num" and "." not in value:
            return ("index", int(value))
        raise JqError("unsupported index in jq expression")

    @staticmethod
    def _key(token: tuple[str, str]) -> str:
        kind, value = token
        return _unquote(value) if kind == "str" else value

    def condition(self):
        left = self.conjunction()
        while self.peek("or"):
            self.take()
            left = ("or", left, self.conjunction())
        return left

    def conjunction(self):
        left = self.comparison()
        while self.peek("and"):
            self.take()
            left = ("and", left, self.comparison())
        return left

    def comparison(self):
        left = self.operand()
        if self.peek() and self.tokens[self.pos][1] in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            left = ("cmp", op, left, self.operand())
        while self.peek("|") and self.pos + 1 < len(self.tokens) and self.tokens[self.pos + 1][1] == "not":
            self.take()
            self.take()
            left = ("not", left)
        return left

    def operand(self):
        if self.peek("("):
            self.take()
            inner = self.condition()
            self.take(")")
            return inner
        kind, value = self.tokens[self.pos] if self.peek() else ("", "")
        if kind == "str":
            self.take()
            return ("lit", _unquote(value))
        if kind == "num":
            self.take()
            return ("lit", float(value) if "." in value else int(value))
        if kind == "ident" and value in ("true", "false", "null"):
            self.take()
            return ("lit", {"true": True, "false": False, "null": None}[value])
        path = ("rel", self.path())
        if self.peek("|") and self.pos + 1 < len(self.tokens) and self.tokens[self.pos + 1][1] in _FUNCS:
            self.take()
            func = self.take()[1]
            self.take("(")
            arg = self.operand()
            self.take(")")
            return ("func", func, path, arg)
        return path


def _unquote(text: str) -> str:
    import json

    return json.loads(text)


def compile_expression(text: str) -> list:
    parser = _Parser(text)
    program = parser.pipeline()
    if parser.peek():
        raise JqError(f"unsupported jq syntax near {parser.tokens[parser.pos][1]!r}")
    return program


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        if isinstance(doc, dict):
            doc = doc.get(key)
        elif isinstance(doc, list) and isinstance(key, int) and -len(doc) <= key < len(doc):
            doc = doc[key]
        else:
            return None
    return doc


def _step(doc: Any, path: tuple, step: tuple) -> list[tuple]:
    kind, arg = step
    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    value = _get(doc, path)
    if kind == "identity":
        return [path]
    if kind == "key":
        if value is None or isinstance(value, dict):
            return [path + (arg,)]
    elif kind == "index":
        if value is None:
            return [path + (arg,)]
        if isinstance(value, list):
            return [path + (arg if arg >= 0 else len(value) + arg,)]
    elif kind == "iter":
        if isinstance(value, list):
            return [path + (i,) for i in range(len(value))]
        if isinstance(value, dict):
            return [path + (k,) for k in value]
    if optional:
        return []
    raise JqError(f"cannot apply {kind} to {type(value).__name__}")


def _paths(doc: Any, start: tuple, steps: list) -> list[tuple]:
    paths = [start]
    for step in steps:
        paths = [p for path in paths for p in _step(doc, path, step)]
    return paths


def _values(doc: Any, base: tuple, expr) -> list:
    kind = expr[0]
    if kind == "lit":
        return [expr[1]]
    if kind == "rel":
        return [_get(doc, p) for p in _paths(doc, base, expr[1])]
    if kind == "func":
        _, func, path, arg = expr
        results = []
        for value in _values(doc, base, path):
            for needle in _values(doc, base, arg):
                results.append(_call(func, value, needle))
        return results
    return [_truth(doc, base, expr)]


def _call(func: str, value: Any, needle: Any) -> bool:
    if not isinstance(value, str) or not isinstance(needle, str):
        raise JqError(f"{func} requires strings")
    if func == "startswith":
        return value.startswith(needle)
    if func == "endswith":
        return value.endswith(needle)
    if func == "contains":
        return needle in value
    return re.search(needle, value) is not None


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return left == right and type(left) is type(right) or (_is_num(left) and _is_num(right) and left == right)
    if op == "!=":
        return not _compare("==", left, right)
    try:
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    except TypeError as err:
        raise JqError(str(err)) from err


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _truth(doc: Any, base: tuple, cond) -> bool:
    kind = cond[0]
    if kind == "or":
        return _truth(doc, base, cond[1]) or _truth(doc, base, cond[2])
    if kind == "and":
        return _truth(doc, base, cond[1]) and _truth(doc, base, cond[2])
    if kind == "not":
        return not _truth(doc, base, cond[1])
    if kind == "cmp":
        _, op, left, right = cond
        return any(_compare(op, a, b) for a in _values(doc, base, left) for b in _values(doc, base, right))
    return any(v is not None and v is not False for v in _values(doc, base, cond))


def matching_paths(doc: Any, expression: str) -> list[tuple]:
    """Concrete paths (tuples of keys and indices) selected by ``expression``."""
    paths = [()]
    for term in compile_expression(expression):
        if term[0] == "path":
            paths = [p for path in paths for p in _paths(doc, path, term[1])]
        else:
            paths = [p for p in paths if _truth(doc, p, term[1])]
    return paths


def delete_paths(doc: Any, expression: str) -> Any:
    """``del(expression)`` on a copy-free doc: removes what the expression selects, in place."""
    for path in sorted(set(matching_paths(doc, expression)), key=_sort_key, reverse=True):
        if not path:
            return None
        parent = _get(doc, path[:-1])
        key = path[-1]
        if isinstance(parent, dict) and not isinstance(key, int):
            parent.pop(key, None)
        elif isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent):
            del parent[key]
    return doc


def _sort_key(path: tuple) -> tuple:
    return tuple((0, k) if isinstance(k, int) else (1, str(k)) for k in path)
