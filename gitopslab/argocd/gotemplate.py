"""A Go ``text/template`` engine for the subset Argo CD's templates use (pure).

Shared by notification templates and ApplicationSet ``goTemplate`` rendering.

Supported: text and actions with trim markers (``{{-``/``-}}``) and comments;
``.`` and field chains (``.app.metadata.name``, ``$x.type``, ``(pipe).Message``);
variables (``$``, ``$x := …``, ``$i, $x := …`` in ``range``); ``if``/``else
if``/``else``/``end``, ``range`` (lists, maps by sorted key, ints) with
``else``, ``with``; pipelines ``a | b``; literals (strings, raw strings,
numbers, ``true``/``false``/``nil``); the built-ins (``and or not eq ne lt
le gt ge len index print printf println call html js urlquery``) and the
sprig functions templates commonly use (``quote``, ``upper``, ``default``,
``toJson``…). Methods of Go values (``.Format``, ``.Unix`` on a time) are
called as Go calls them.

Semantics follow Go's: a missing map key prints ``<no value>`` (with
``missing_key="error"``, Go's ``missingkey=error``: ``map has no entry for key
"k"``); with ``parse(…, funcs=…)`` an unknown function is a parse error; a field of a
nil value is an error (``nil pointer evaluating interface {}.phase``);
``if`` is false for zero values; ``and``/``or`` return one of their
arguments; ``eq`` of different basic kinds is ``incompatible types for
comparison``. Errors raise ``TemplateError`` worded like Go's
(``template: NAME:LINE:COL: executing "NAME" at <…>: …``).
"""
from __future__ import annotations

import base64
import html
import json
import math
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable

from gitopslab.argocd.gotime import Duration, GoTime


class TemplateError(Exception):
    pass


class _NoValue:
    """Go's invalid ``reflect.Value``: what a missing map key evaluates to."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _NoValue()


class GoStruct:
    """A Go struct value (e.g. ``CommitMetadata``): exported fields, no map semantics."""

    go_type = "struct"

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        return "{" + " ".join(format_value(v) for v in self.__dict__.values()) + "}"


# --- lexing -----------------------------------------------------------------------
@dataclass
class _Action:
    text: str
    line: int
    col: int
    inner: int = 2     # characters from the opening ``{{`` to the action's text (4 after ``{{- ``)


_TRIM_SPACE = " \t\r\n"


def _split(source: str, name: str) -> list[str | _Action]:
    """Text and action items, trim markers applied, comments dropped."""
    items: list[str | _Action] = []
    pos = 0
    trim_next = False
    while True:
        start = source.find("{{", pos)
        if start < 0:
            text = source[pos:]
            items.append(text.lstrip(_TRIM_SPACE) if trim_next else text)
            break
        text = source[pos:start]
        if trim_next:
            text = text.lstrip(_TRIM_SPACE)
        inner_start = start + 2
        if source.startswith("-", inner_start) and source[inner_start + 1:inner_start + 2] in list(_TRIM_SPACE):
            text = text.rstrip(_TRIM_SPACE)
            inner_start += 2
        items.append(text)
        end = _action_end(source, inner_start, name)
        inner_end, after = end, end + 2
        trim_next = False
        if source[inner_end - 1:inner_end] == "-" and source[inner_end - 2:inner_end - 1] in list(_TRIM_SPACE):
            trim_next = True
            inner_end -= 2
        inner = source[inner_start:inner_end]
        line = source.count("\n", 0, start) + 1
        col = start - (source.rfind("\n", 0, start) + 1)
        stripped = inner.strip()
        if stripped.startswith("/*"):
            if not stripped.endswith("*/"):
                raise TemplateError(f"template: {name}:{line}: unclosed comment")
        else:
            items.append(_Action(inner, line, col, inner_start - start))
        pos = after
    return items


def _action_end(source: str, pos: int, name: str) -> int:
    i = pos
    while i < len(source):
        c = source[i]
        if c in "\"'`":
            close = source.find(c, i + 1) if c == "`" else _quote_end(source, i)
            if close < 0:
                raise TemplateError(f"template: {name}:{source.count(chr(10), 0, i) + 1}: unterminated quoted string")
            i = close + 1
            continue
        if source.startswith("/*", i):
            close = source.find("*/", i + 2)
            if close < 0:
                break
            i = close + 2
            continue
        if source.startswith("}}", i):
            return i
        i += 1
    raise TemplateError(f"template: {name}:{source.count(chr(10), 0, pos) + 1}: unclosed action")


def _quote_end(source: str, start: int) -> int:
    quote = source[start]
    i = start + 1
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source[i] == quote:
            return i
        if source[i] == "\n":
            return -1
        i += 1
    return -1


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\]|\\.)+')
  | (?P<decl>:=)
  | (?P<assign>=)
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))
  | (?P<field>\.[A-Za-z_][A-Za-z0-9_]*)
  | (?P<dot>\.)
  | (?P<variable>\$[A-Za-z0-9_]*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[()|,])
""", re.VERBOSE)


@dataclass(frozen=True)
class _Tok:
    kind: str
    value: str
    pos: int = 0       # offset in the action's text


def _tokens(action: _Action, name: str) -> list[_Tok]:
    out = []
    pos = 0
    text = action.text
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise TemplateError(f"template: {name}:{action.line}: unexpected {text[pos]!r} in command")
        out.append(_Tok(m.lastgroup, m.group(), pos))
        pos = m.end()
    return out


# --- tree -------------------------------------------------------------------------
@dataclass
class Operand:
    kind: str          # field, dot, variable, ident, string, number, bool, nil, pipe
    value: Any = None
    chain: tuple = ()  # trailing field names
    pipe: "Pipeline | None" = None
    pos: int = 0       # offset in the action's text, for error positions
    source: str = ""   # the node as Go prints it in errors (``.path.basename``)


@dataclass
class Command:
    args: list


@dataclass
class Pipeline:
    decl: list
    commands: list
    is_assign: bool = False
    source: str = ""
    inner: int = 2     # the action's ``_Action.inner``


@dataclass
class Text:
    text: str


@dataclass
class ActionNode:
    pipe: Pipeline
    line: int
    col: int


@dataclass
class Branch:
    kind: str                    # if, with, range
    pipe: Pipeline
    body: list
    otherwise: list
    line: int
    col: int


@dataclass
class Template:
    name: str
    nodes: list = field(default_factory=list)

    def execute(self, data, funcs: dict | None = None, *, missing_key: str = "default") -> str:
        """Run the template; ``missing_key`` is Go's ``Option("missingkey=…")``: ``default``/``invalid``
        (a missing map key prints ``<no value>``), ``zero`` (same for ``map[string]any`` data) or
        ``error`` (``map has no entry for key "k"``)."""
        if missing_key not in MISSING_KEY_OPTIONS:
            raise TemplateError(f"unrecognized option: missingkey={missing_key}")
        state = _State(self.name, {**BUILTINS, **SPRIG, **(funcs or {})}, data)
        state.missing_key_error = missing_key == "error"
        out: list[str] = []
        state.walk(self.nodes, data, out)
        return "".join(out)


class _Parser:
    def __init__(self, name: str, items: list, known: set | None = None):
        self.name = name
        self.items = items
        self.i = 0
        self.known = known

    def parse(self) -> list:
        nodes, end = self._list(())
        if end is not None:
            raise TemplateError(f"template: {self.name}:{end[1].line}: unexpected {{{{{end[0]}}}}}")
        return nodes

    def _list(self, stops: tuple) -> tuple[list, tuple | None]:
        """Nodes until one of ``stops`` (``end``/``else``); returns (nodes, (keyword, action, rest tokens))."""
        nodes: list = []
        while self.i < len(self.items):
            item = self.items[self.i]
            self.i += 1
            if isinstance(item, str):
                if item:
                    nodes.append(Text(item))
                continue
            toks = _tokens(item, self.name)
            words = [t for t in toks if t.kind != "space"]
            if not words:
                raise TemplateError(f"template: {self.name}:{item.line}: missing value for command")
            keyword = words[0].value if words[0].kind == "ident" else ""
            if keyword in ("end", "else"):
                if keyword not in stops:
                    raise TemplateError(f"template: {self.name}:{item.line}: unexpected {{{{{keyword}}}}}")
                return nodes, (keyword, item, toks[toks.index(words[0]) + 1:])
            if keyword in ("if", "with", "range"):
                rest = toks[toks.index(words[0]) + 1:]
                nodes.append(self._branch(keyword, rest, item))
                continue
            if keyword in ("define", "template", "block", "break", "continue"):
                raise TemplateError(f"template: {self.name}:{item.line}: {{{{{keyword}}}}} is not supported here")
            nodes.append(ActionNode(self._pipeline(toks, item, allow_decl=True), item.line, item.col))
        if stops:
            raise TemplateError(f"template: {self.name}:{len(self.items)}: unexpected EOF")
        return nodes, None

    def _branch(self, keyword: str, toks: list, item: _Action) -> Branch:
        pipe = self._pipeline(toks, item, allow_decl=True, range_decl=keyword == "range")
        body, end = self._list(("end", "else"))
        otherwise: list = []
        if end[0] == "else":
            words = [t for t in end[2] if t.kind != "space"]
            if keyword != "range" and words and words[0].kind == "ident" and words[0].value in ("if", "with"):
                # {{else if …}}: an if nested in the else branch, sharing the final {{end}}
                nested = end[2][end[2].index(words[0]) + 1:]
                otherwise = [self._branch(words[0].value, nested, end[1])]
            else:
                otherwise, _ = self._list(("end",))
        return Branch(keyword, pipe, body, otherwise, item.line, item.col)

    def _pipeline(self, toks: list, item: _Action, *, allow_decl: bool = False, range_decl: bool = False) -> Pipeline:
        words = [t for t in toks if t.kind != "space"]
        source = "".join(t.value for t in toks).strip()
        decl: list[str] = []
        is_assign = False
        if allow_decl and words and words[0].kind == "variable":
            if len(words) > 1 and words[1].kind in ("decl", "assign"):
                decl = [words[0].value]
                is_assign = words[1].kind == "assign"
                toks = toks[toks.index(words[1]) + 1:]
            elif range_decl and len(words) > 3 and words[1].value == "," and words[2].kind == "variable" \
                    and words[3].kind in ("decl", "assign"):
                decl = [words[0].value, words[2].value]
                is_assign = words[3].kind == "assign"
                toks = toks[toks.index(words[3]) + 1:]
        stream = _Stream(toks, self.name, item, self.known)
        pipe = stream.pipeline(end=None)
        pipe.decl, pipe.is_assign, pipe.source, pipe.inner = decl, is_assign, source, item.inner
        if not pipe.commands:
            raise TemplateError(f"template: {self.name}:{item.line}: missing value for command")
        return pipe


class _Stream:
    """Tokens of one action, parsed into a pipeline (commands, operands, chains)."""

    def __init__(self, toks: list, name: str, item: _Action, known: set | None = None):
        self.toks = toks
        self.i = 0
        self.name = name
        self.item = item
        self.known = known

    def _err(self, message: str) -> TemplateError:
        return TemplateError(f"template: {self.name}:{self.item.line}: {message}")

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def skip_space(self) -> None:
        while self.peek() is not None and self.peek().kind == "space":
            self.i += 1

    def pipeline(self, end: str | None) -> Pipeline:
        commands: list[Command] = []
        args: list[Operand] = []
        while True:
            self.skip_space()
            tok = self.peek()
            if tok is None or (end and tok.value == end):
                if end and tok is None:
                    raise self._err("unclosed left paren")
                if end:
                    self.i += 1
                break
            if tok.value == "|":
                if not args:
                    raise self._err("missing value for command")
                commands.append(Command(args))
                args = []
                self.i += 1
                continue
            if tok.value == ")":
                raise self._err("unexpected right paren")
            args.append(self.operand())
        if args:
            commands.append(Command(args))
        elif commands:
            raise self._err("missing value for command")
        return Pipeline([], commands)

    def operand(self) -> Operand:
        tok = self.toks[self.i]
        self.i += 1
        if tok.kind == "field":
            chain = tuple([tok.value[1:]] + self._chain())
            return Operand("field", chain=chain, pos=tok.pos, source="".join("." + n for n in chain))
        if tok.kind == "dot":
            chain = tuple(self._chain())
            return Operand("dot", chain=chain, pos=tok.pos, source="." + ".".join(chain))
        if tok.kind == "variable":
            chain = tuple(self._chain())
            return Operand("variable", tok.value, chain, pos=tok.pos,
                           source=tok.value + "".join("." + n for n in chain))
        if tok.kind == "ident":
            if tok.value in ("true", "false"):
                return Operand("bool", tok.value == "true")
            if tok.value == "nil":
                return Operand("nil")
            if self.known is not None and tok.value not in self.known:
                raise self._err(f'function "{tok.value}" not defined')
            return Operand("ident", tok.value)
        if tok.kind == "string":
            return Operand("string", _go_unquote(tok.value))
        if tok.kind == "raw":
            return Operand("string", tok.value[1:-1])
        if tok.kind == "char":
            return Operand("number", ord(_go_unquote('"' + tok.value[1:-1] + '"')))
        if tok.kind == "number":
            return Operand("number", _parse_number(tok.value))
        if tok.value == "(":
            pipe = self.pipeline(end=")")
            return Operand("pipe", chain=tuple(self._chain()), pipe=pipe)
        raise self._err(f"unexpected {tok.value!r} in operand")

    def _chain(self) -> list[str]:
        names = []
        while self.peek() is not None and self.peek().kind == "field":
            names.append(self.peek().value[1:])
            self.i += 1
        return names


def _parse_number(text: str):
    clean = text.replace("_", "")
    if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", clean):
        return int(clean, 16)
    if re.fullmatch(r"[-+]?\d+", clean):
        return int(clean)
    return float(clean)


_GO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b", "f": "\f",
               "v": "\v"}


def _go_unquote(text: str) -> str:
    body = text[1:-1]
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _GO_ESCAPES:
            out.append(_GO_ESCAPES[nxt])
            i += 2
        elif nxt == "x":
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        elif nxt == "u":
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif nxt == "U":
            out.append(chr(int(body[i + 2:i + 10], 16)))
            i += 10
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def parse(source: str, name: str = "template", funcs: dict | None = None) -> Template:
    """Parse a template; raises ``TemplateError`` on a syntax error. With ``funcs`` (the functions the
    template will run with), an unknown function is a parse error, as Go checks them at parse time."""
    known = None if funcs is None else set(BUILTINS) | set(SPRIG) | set(funcs)
    return Template(name, _Parser(name, _split(source, name), known).parse())


def render(source: str, data, funcs: dict | None = None, name: str = "template") -> str:
    return parse(source, name).execute(data, funcs)


# --- execution --------------------------------------------------------------------
class _ExecError(Exception):
    pass


class _NodeError(_ExecError):
    """An error Go reports at one node of the pipeline (position and text of that node)."""

    def __init__(self, message: str, op: Operand):
        super().__init__(message)
        self.op = op


MISSING_KEY_OPTIONS = ("default", "invalid", "zero", "error")


class _State:
    def __init__(self, name: str, funcs: dict, root):
        self.name = name
        self.funcs = funcs
        self.vars: list[tuple[str, Any]] = [("$", root)]
        self.where = ""
        self.pos = (1, 0)
        self.missing_key_error = False

    # --- walking ------------------------------------------------------------------
    def walk(self, nodes: list, dot, out: list[str]) -> None:
        for node in nodes:
            if isinstance(node, Text):
                out.append(node.text)
            elif isinstance(node, ActionNode):
                value = self._pipe(node.pipe, dot, node.line, node.col)
                if not node.pipe.decl:
                    out.append(self._print(value))
            else:
                self._branch(node, dot, out)

    def _branch(self, node: Branch, dot, out: list[str]) -> None:
        mark = len(self.vars)
        try:
            if node.kind == "range":
                self._range(node, dot, out)
                return
            value = self._pipe(node.pipe, dot, node.line, node.col, declare=node.kind != "range")
            if truth(value):
                self.walk(node.body, value if node.kind == "with" else dot, out)
            else:
                self.walk(node.otherwise, dot, out)
        finally:
            del self.vars[mark:]

    def _range(self, node: Branch, dot, out: list[str]) -> None:
        value = self._pipe(Pipeline([], node.pipe.commands, source=node.pipe.source), dot, node.line, node.col)
        if value is NO_VALUE or value is None:
            pairs: list = []
        elif isinstance(value, dict):
            pairs = [(k, value[k]) for k in sorted(value, key=_sort_key)]
        elif isinstance(value, (list, tuple)):
            pairs = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            pairs = [(i, i) for i in range(value)]
        else:
            raise self._fail(node.line, node.col, node.pipe.source, f"range can't iterate over {format_value(value)}")
        if not pairs:
            self.walk(node.otherwise, dot, out)
            return
        mark = len(self.vars)
        for key, item in pairs:
            del self.vars[mark:]
            if len(node.pipe.decl) == 1:
                self.vars.append((node.pipe.decl[0], item))
            elif len(node.pipe.decl) == 2:
                self.vars.append((node.pipe.decl[0], key))
                self.vars.append((node.pipe.decl[1], item))
            self.walk(node.body, item, out)

    def _pipe(self, pipe: Pipeline, dot, line: int, col: int, declare: bool = True):
        self.pos = (line, col)
        try:
            value = _MISSING_FINAL
            for command in pipe.commands:
                value = self._command(command, dot, value)
        except _NodeError as e:
            raise self._fail(line, col + pipe.inner + e.op.pos - 2, e.op.source, str(e)) from None
        except _ExecError as e:
            raise self._fail(line, col, pipe.source, str(e)) from None
        if declare:
            for name in pipe.decl:
                if pipe.is_assign:
                    for i in range(len(self.vars) - 1, -1, -1):
                        if self.vars[i][0] == name:
                            self.vars[i] = (name, value)
                            break
                    else:
                        raise self._fail(line, col, pipe.source, f"undefined variable: {name}")
                else:
                    self.vars.append((name, value))
        return value

    def _fail(self, line: int, col: int, source: str, message: str) -> TemplateError:
        return TemplateError(f'template: {self.name}:{line}:{col + 2}: executing "{self.name}" at <{source}>: '
                             f'{message}')

    # --- commands -----------------------------------------------------------------
    def _command(self, command: Command, dot, final):
        first = command.args[0]
        rest = command.args[1:]
        if first.kind == "ident":
            return self._call_function(first.value, rest, dot, final)
        if first.kind in ("field", "variable", "dot", "pipe") and first.chain:
            receiver = self._base(first, dot)
            return self._eval_chain(receiver, first.chain, rest, dot, final, first)
        if rest or final is not _MISSING_FINAL:
            raise _ExecError(f"can't give argument to non-function {self._describe(first)}")
        if first.kind == "nil":
            raise _ExecError("nil is not a command")
        return self._operand(first, dot)

    def _describe(self, op: Operand) -> str:
        if op.kind == "string":
            return json.dumps(op.value)
        if op.kind == "variable":
            return op.value
        if op.kind == "dot":
            return "."
        return str(op.value)

    def _base(self, op: Operand, dot):
        if op.kind == "field":
            return dot
        if op.kind == "dot":
            return dot
        if op.kind == "variable":
            return self._variable(op.value)
        return self._pipe_value(op.pipe, dot)

    def _pipe_value(self, pipe: Pipeline, dot):
        value = _MISSING_FINAL
        for command in pipe.commands:
            value = self._command(command, dot, value)
        return value

    def _variable(self, name: str):
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        raise _ExecError(f"undefined variable: {name}")

    def _operand(self, op: Operand, dot):
        if op.kind in ("string", "number", "bool"):
            return op.value
        if op.kind == "nil":
            raise _ExecError("cannot assign nil to argument")
        if op.kind == "ident":
            fn = self.funcs.get(op.value)
            if fn is None:
                raise _ExecError(f'function "{op.value}" not defined')
            return self._call_function(op.value, [], dot, _MISSING_FINAL)
        base = self._base(op, dot)
        return self._eval_chain(base, op.chain, [], dot, _MISSING_FINAL, op) if op.chain else base

    def _eval_chain(self, receiver, chain: tuple, args: list, dot, final, op: Operand):
        for i, name in enumerate(chain):
            last = i == len(chain) - 1
            if self.missing_key_error and isinstance(receiver, dict) and name not in receiver:
                raise _NodeError(f'map has no entry for key "{name}"', op)
            receiver = self._field(receiver, name, args if last else [], dot, final if last else _MISSING_FINAL)
        return receiver

    def _field(self, receiver, name: str, args: list, dot, final):
        if receiver is NO_VALUE:
            return NO_VALUE
        if receiver is None:
            raise _ExecError(f"nil pointer evaluating interface {{}}.{name}")
        has_args = bool(args) or final is not _MISSING_FINAL
        if isinstance(receiver, dict):
            if has_args:
                raise _ExecError(f"{name} is not a method but has arguments")
            return receiver.get(name, NO_VALUE) if name in receiver else NO_VALUE
        method = getattr(receiver, name, None) if name[:1].isupper() else None
        if method is not None and isinstance(receiver, (GoTime, Duration)) and callable(method):
            values = [self._arg(a, dot) for a in args]
            if final is not _MISSING_FINAL:
                values.append(final)
            try:
                return method(*values)
            except TypeError as e:
                raise _ExecError(f"wrong number of args for {name}: {e}") from None
            except Exception as e:  # noqa: BLE001
                raise _ExecError(f"error calling {name}: {e}") from None
        if isinstance(receiver, GoStruct) and name in receiver.__dict__:
            if has_args:
                raise _ExecError(f"{name} has arguments but cannot be invoked as function")
            return receiver.__dict__[name]
        raise _ExecError(f"can't evaluate field {name} in type {go_type(receiver)}")

    def _arg(self, op: Operand, dot):
        if op.kind == "nil":
            return None
        if op.kind == "pipe" and not op.chain:
            return self._pipe_value(op.pipe, dot)
        if op.kind == "ident":
            return self._call_function(op.value, [], dot, _MISSING_FINAL)
        return self._operand(op, dot)

    def _call_function(self, name: str, args: list, dot, final):
        fn = self.funcs.get(name)
        if fn is None:
            raise _ExecError(f'function "{name}" not defined')
        if name in ("and", "or"):
            return self._and_or(name, args, dot, final)
        values = [self._arg(a, dot) for a in args]
        if final is not _MISSING_FINAL:
            values.append(final)
        try:
            return fn(*values)
        except _ExecError:
            raise
        except TemplateError:
            raise
        except Exception as e:  # noqa: BLE001 - a function's error is the template's
            raise _ExecError(f"error calling {name}: {e}") from None

    def _and_or(self, name: str, args: list, dot, final):
        values: list = []
        if not args and final is _MISSING_FINAL:
            raise _ExecError(f"wrong number of args for {name}: want at least 1 got 0")
        ops = list(args)
        for op in ops:
            value = self._arg(op, dot)
            if (name == "and") != truth(value):
                return value
            values.append(value)
        if final is not _MISSING_FINAL:
            return final
        return values[-1]

    # --- printing -----------------------------------------------------------------
    def _print(self, value) -> str:
        if callable(value) and not isinstance(value, (GoTime, Duration, GoStruct)):
            raise TemplateError(f"template: {self.name}:{self.pos[0]}:{self.pos[1] + 2}: executing "
                                f'"{self.name}" at <…>: can\'t print value of type func')
        return format_value(value)


_MISSING_FINAL = object()


def _sort_key(key):
    return (0, key) if isinstance(key, (int, float)) else (1, str(key))


def truth(value) -> bool:
    """Go's ``isTrue``: zero values (false, 0, "", empty collections, nil) are false."""
    if value is NO_VALUE or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) > 0
    if isinstance(value, Duration):
        return value.ns != 0
    return True


def go_type(value) -> str:
    if value is None:
        return "interface {}"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
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
    if isinstance(value, GoStruct):
        return value.go_type
    return type(value).__name__


# --- Go's fmt -------------------------------------------------------------------
def format_float(value: float) -> str:
    """Go's ``%v`` for a float64 (``strconv.FormatFloat(f, 'g', -1, 64)`` with Go's exponent rule)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    text = repr(value)
    mantissa, _, exp = text.partition("e")
    exponent = int(exp) if exp else None
    if exponent is None:
        digits = abs(value)
        exponent = math.floor(math.log10(digits)) if digits else 0
        if exponent < -4 or exponent >= 21:
            return _exp_form(value)
        return text[:-2] if text.endswith(".0") else text
    if -4 <= exponent < 21:
        return format(value, "f").rstrip("0").rstrip(".") if "." in format(value, "f") else format(value, "f")
    return _exp_form(value)


def _exp_form(value: float) -> str:
    text = repr(value)
    if "e" not in text:
        text = f"{value:e}"
        mantissa, _, exp = text.partition("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
    else:
        mantissa, _, exp = text.partition("e")
        if mantissa.endswith(".0"):
            mantissa = mantissa[:-2]
    sign = "-" if int(exp) < 0 else "+"
    return f"{mantissa}e{sign}{abs(int(exp)):02d}"


def format_value(value) -> str:
    """Go's ``fmt.Sprint`` of one value as templates print it."""
    if value is NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{format_value(k)}:{format_value(value[k])}"
                                 for k in sorted(value, key=_sort_key)) + "]"
    if isinstance(value, bytes):
        return "[" + " ".join(str(b) for b in value) + "]"
    return str(value)


def go_quote(text: str) -> str:
    """Go's ``%q`` / ``strconv.Quote``: printable runes kept, others escaped."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                        "\v": "\\v"}[ch])
        elif code < 0x20 or code == 0x7f:
            out.append(f"\\x{code:02x}")
        elif not ch.isprintable() and code > 0x7f:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])")


def sprintf(fmt: str, *args) -> str:
    """Go's ``fmt.Sprintf`` for the verbs templates use (``%s %v %d %q %f %t %x %X %g %e %%``)."""
    out = []
    pos = 0
    used = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, precision, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[used]
        used += 1
        text = _format_verb(verb, arg, precision)
        if width and width != "*":
            w = int(width)
            if "-" in flags:
                text = text.ljust(w)
            elif "0" in flags and verb in "dfxXge":
                sign = text[0] if text[:1] in "+-" else ""
                text = sign + text[len(sign):].rjust(w - len(sign), "0")
            else:
                text = text.rjust(w)
        if "+" in flags and verb in "dfge" and _is_number(arg) and arg >= 0:
            text = "+" + text
        out.append(text)
    out.append(fmt[pos:])
    if used < len(args):
        extra = ", ".join(f"{go_type(a)}={format_value(a)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bad_verb(verb: str, arg) -> str:
    return f"%!{verb}({go_type(arg)}={format_value(arg)})"


def _format_verb(verb: str, arg, precision: str | None) -> str:
    if verb == "v":
        return format_value(arg)
    if verb == "T":
        return go_type(arg)
    if verb == "s":
        if isinstance(arg, (bool, int, float)) and not isinstance(arg, str):
            return _bad_verb(verb, arg)
        text = format_value(arg)
        return text[: int(precision)] if precision else text
    if verb == "q":
        if isinstance(arg, str):
            return go_quote(arg)
        if isinstance(arg, int) and not isinstance(arg, bool):
            return "'" + chr(arg) + "'"
        return _bad_verb(verb, arg)
    if verb == "t":
        return format_value(arg) if isinstance(arg, bool) else _bad_verb(verb, arg)
    if verb in "dxXob":
        if isinstance(arg, bool) or not isinstance(arg, int):
            if isinstance(arg, str) and verb in "xX":
                return arg.encode().hex() if verb == "x" else arg.encode().hex().upper()
            return _bad_verb(verb, arg)
        return {"d": str(arg), "x": format(arg, "x"), "X": format(arg, "X"), "o": format(arg, "o"),
                "b": format(arg, "b")}[verb]
    if verb in "feEgG":
        if not _is_number(arg):
            return _bad_verb(verb, arg)
        if verb == "f":
            return f"{float(arg):.{int(precision) if precision else 6}f}"
        if verb in "eE":
            text = f"{float(arg):.{int(precision) if precision else 6}e}"
            return text.upper() if verb == "E" else text
        return format_float(float(arg)) if precision is None else f"{float(arg):.{int(precision)}g}"
    return _bad_verb(verb, arg)


def sprint(*args) -> str:
    """Go's ``fmt.Sprint``: a space between operands when neither is a string."""
    out = []
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(format_value(arg))
    return "".join(out)


# --- built-in functions ------------------------------------------------------------
def _kind(value) -> str:
    if value is NO_VALUE or value is None:
        return "invalid"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "other"


def _eq(arg1, *others) -> bool:
    if not others:
        raise _ExecError("missing argument for comparison")
    k1 = _kind(arg1)
    for arg in others:
        k2 = _kind(arg)
        if k1 != k2:
            if k1 != "invalid" and k2 != "invalid":
                raise _ExecError("incompatible types for comparison")
            continue
        if k1 == "invalid":
            return True
        if k1 == "other":
            if isinstance(arg1, (dict, list)) or isinstance(arg, (dict, list)):
                raise _ExecError(f"non-comparable type {format_value(arg1)}: {go_type(arg1)}")
        if arg1 == arg:
            return True
    return False


def _ne(a, b) -> bool:
    return not _eq(a, b)


def _lt(a, b) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka in ("invalid", "other", "bool") or kb in ("invalid", "other", "bool"):
        raise _ExecError("invalid type for comparison")
    if ka != kb:
        raise _ExecError("incompatible types for comparison")
    return a < b


def _le(a, b) -> bool:
    return _lt(a, b) or _eq(a, b)


def _gt(a, b) -> bool:
    return not _le(a, b)


def _ge(a, b) -> bool:
    return not _lt(a, b)


def _not(value) -> bool:
    return not truth(value)


def _len(value) -> int:
    if isinstance(value, (str, list, tuple, dict)):
        return len(value.encode()) if isinstance(value, str) else len(value)
    raise _ExecError(f"len of type {go_type(value)}")


def _index(item, *indexes):
    for index in indexes:
        if isinstance(item, dict):
            item = item.get(index)
        elif isinstance(item, (list, tuple, str)):
            if not isinstance(index, int) or isinstance(index, bool):
                raise _ExecError(f"cannot index slice/array with type {go_type(index)}")
            if not 0 <= index < len(item):
                raise _ExecError(f"error calling index: index out of range: {index}")
            item = item[index]
        elif item is None or item is NO_VALUE:
            raise _ExecError("index of untyped nil")
        else:
            raise _ExecError(f"can't index item of type {go_type(item)}")
    return item


def _call(fn=None, *args):
    if fn is None or fn is NO_VALUE:
        raise _ExecError("call of nil")
    if not callable(fn):
        raise _ExecError(f"non-function of type {go_type(fn)}")
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - a panic in the called function
        raise _ExecError(f"error calling call: {e}") from None


def _js(*args) -> str:
    text = sprint(*args)
    out = []
    for ch in text:
        if ch in "\\'\"":
            out.append("\\" + ch)
        elif ch in "<>&=":
            out.append(f"\\u{ord(ch):04X}")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(ch)
    return "".join(out)


BUILTINS: dict[str, Callable] = {
    "and": lambda *a: a[-1], "or": lambda *a: a[-1],  # short-circuit handled by the executor
    "not": _not, "eq": _eq, "ne": _ne, "lt": _lt, "le": _le, "gt": _gt, "ge": _ge,
    "len": _len, "index": _index, "call": _call,
    "print": sprint, "printf": sprintf, "println": lambda *a: " ".join(format_value(x) for x in a) + "\n",
    "html": lambda *a: html.escape(sprint(*a), quote=True).replace("&#x27;", "&#39;"),
    "js": _js, "urlquery": lambda *a: urllib.parse.quote_plus(sprint(*a)),
}


# --- sprig (the commonly used part) --------------------------------------------------
def _to_string(value) -> str:
    if value is None or value is NO_VALUE:
        return ""
    return format_value(value)


def _default(default, *given):
    value = given[0] if given else None
    return value if truth(value) else default


def _to_json(value) -> str:
    return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False)


def _to_pretty_json(value) -> str:
    return json.dumps(_jsonable(value), indent=2, ensure_ascii=False)


def _jsonable(value):
    if value is NO_VALUE:
        return None
    if isinstance(value, dict):
        return {k: _jsonable(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (GoTime, Duration)):
        return str(value)
    return value


def _trunc(length, text):
    text = _to_string(text)
    if length < 0:
        return text[length:] if -length < len(text) else text
    return text[:length]


def _indent(spaces, text):
    pad = " " * spaces
    return pad + _to_string(text).replace("\n", "\n" + pad)


SPRIG: dict[str, Callable] = {
    "quote": lambda *a: " ".join(go_quote(_to_string(x)) for x in a if x is not None and x is not NO_VALUE),
    "squote": lambda *a: " ".join(f"'{_to_string(x)}'" for x in a if x is not None and x is not NO_VALUE),
    "upper": lambda s: _to_string(s).upper(), "lower": lambda s: _to_string(s).lower(),
    "title": lambda s: " ".join(w[:1].upper() + w[1:] for w in _to_string(s).split(" ")),
    "trim": lambda s: _to_string(s).strip(), "trimAll": lambda c, s: _to_string(s).strip(c),
    "trimPrefix": lambda p, s: _to_string(s).removeprefix(p), "trimSuffix": lambda p, s: _to_string(s).removesuffix(p),
    "replace": lambda old, new, s: _to_string(s).replace(old, new),
    "contains": lambda sub, s: sub in _to_string(s),
    "hasPrefix": lambda p, s: _to_string(s).startswith(p), "hasSuffix": lambda p, s: _to_string(s).endswith(p),
    "repeat": lambda n, s: _to_string(s) * n, "substr": lambda a, b, s: _to_string(s)[a:b],
    "trunc": _trunc, "indent": _indent, "nindent": lambda n, s: "\n" + _indent(n, s),
    "default": _default, "empty": lambda v: not truth(v),
    "coalesce": lambda *a: next((x for x in a if truth(x)), None),
    "ternary": lambda a, b, cond: a if cond else b,
    "toJson": _to_json, "toRawJson": _to_json, "toPrettyJson": _to_pretty_json,
    "b64enc": lambda s: base64.b64encode(_to_string(s).encode()).decode(),
    "b64dec": lambda s: base64.b64decode(_to_string(s)).decode(errors="replace"),
    "join": lambda sep, items: sep.join(_to_string(x) for x in (items or [])),
    "splitList": lambda sep, s: _to_string(s).split(sep),
    "list": lambda *a: list(a), "dict": lambda *a: {str(a[i]): a[i + 1] if i + 1 < len(a) else ""
                                                    for i in range(0, len(a), 2)},
    "toString": _to_string, "int": lambda v: int(float(v)) if v not in (None, "") else 0,
    "add": lambda *a: sum(int(x) for x in a), "sub": lambda a, b: int(a) - int(b),
}
