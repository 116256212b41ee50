"""Field paths and field sets, as structured-merge-diff names them.

A path is a tuple of path elements, each a small tuple:
``("f", name)`` a field, ``("k", ((key, value), ...))`` an item of a keyed
list (keys sorted by name), ``("v", value)`` an item of a set,
``("i", index)`` a list index. A field set is a frozenset of paths, its
*members*; the tree shape of ``fieldsV1`` is derived from them.

``fieldsV1`` is the wire form: ``{"f:spec": {"f:replicas": {}}}``, with
``"."`` marking a node that is itself a member and has children, and the
children in structured-merge-diff's order (fields, keys, values, indexes).
Paths print as ``.spec.template.spec.containers[name="web"].image``.
"""
from __future__ import annotations

import json

FIELD, KEY, VALUE, INDEX = "f", "k", "v", "i"
_KIND_ORDER = {FIELD: 0, KEY: 1, VALUE: 2, INDEX: 3}


def field(name: str) -> tuple:
    return (FIELD, name)


def key_element(pairs: dict) -> tuple:
    return (KEY, tuple(sorted(pairs.items())))


def value_element(value) -> tuple:
    return (VALUE, value)


# --- printing -------------------------------------------------------------

def path_string(path: tuple) -> str:
    """fieldpath.Path.String()."""
    return "".join(element_string(pe) for pe in path)


def element_string(pe: tuple) -> str:
    kind, content = pe
    if kind == FIELD:
        return "." + content
    if kind == KEY:
        return "[" + ",".join(f"{k}={value_string(v)}" for k, v in content) + "]"
    if kind == VALUE:
        return f"[={value_string(content)}]"
    return f"[{content}]"


def value_string(value) -> str:
    """value.ToString: strings quoted (%q), numbers and booleans bare."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --- ordering -------------------------------------------------------------

def _value_order(value) -> tuple:
    """value.Compare: numbers < strings < booleans < others < null."""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if value is None:
        return (5,)
    return (3, json.dumps(value, sort_keys=True))


def element_order(pe: tuple) -> tuple:
    kind, content = pe
    if kind == KEY:
        content = tuple((k, _value_order(v)) for k, v in content)
    elif kind == VALUE:
        content = _value_order(content)
    return (_KIND_ORDER[kind], content)


# --- fieldsV1 -------------------------------------------------------------

def serialize_element(pe: tuple) -> str:
    kind, content = pe
    if kind == FIELD:
        return "f:" + content
    if kind == KEY:
        return "k:" + json.dumps(dict(content), separators=(",", ":"), ensure_ascii=False)
    if kind == VALUE:
        return "v:" + json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    return f"i:{content}"


def parse_element(text: str) -> tuple:
    kind, sep, content = text.partition(":")
    if not sep or kind not in _KIND_ORDER:
        raise ValueError(f"unknown path element {text!r}")
    if kind == FIELD:
        return (FIELD, content)
    if kind == KEY:
        return key_element(json.loads(content))
    if kind == VALUE:
        return (VALUE, json.loads(content))
    return (INDEX, int(content))


def _tree(paths) -> dict:
    """{pe: (is_member, subtree)} built from a set of member paths."""
    root: dict = {}
    for path in paths:
        node = root
        for depth, pe in enumerate(path):
            member, children = node.get(pe, (False, {}))
            member = member or depth == len(path) - 1
            node[pe] = (member, children)
            node = children
    return root


def to_fields_v1(paths) -> dict:
    return _emit(_tree(paths))


def _emit(tree: dict) -> dict:
    out: dict = {}
    for pe in sorted(tree, key=element_order):
        member, children = tree[pe]
        body = _emit(children)
        if member and children:
            body = {".": {}, **body}
        out[serialize_element(pe)] = body
    return out


def from_fields_v1(fields: dict) -> frozenset:
    paths: set = set()
    _collect(fields or {}, (), paths)
    return frozenset(paths)


def _collect(fields: dict, prefix: tuple, out: set) -> None:
    for key, children in fields.items():
        if key == ".":
            out.add(prefix)
            continue
        path = prefix + (parse_element(key),)
        if children:
            _collect(children, path, out)
        else:
            out.add(path)


def iteration_order(paths) -> list:
    """Set.Iterate's order: at each level members first, then children,
    each in element order (the order conflicts are reported in)."""
    ordered: list = []
    _walk(_tree(paths), (), ordered)
    return ordered


def _walk(tree: dict, prefix: tuple, out: list) -> None:
    names = sorted(tree, key=element_order)
    out.extend(prefix + (pe,) for pe in names if tree[pe][0])
    for pe in names:
        if tree[pe][1]:
            _walk(tree[pe][1], prefix + (pe,), out)


def has_prefix(path: tuple, prefix: tuple) -> bool:
    return path[:len(prefix)] == prefix


def under(paths, prefix: tuple) -> bool:
    """Whether any path of the set is ``prefix`` or lies below it."""
    return any(has_prefix(p, prefix) for p in paths)
