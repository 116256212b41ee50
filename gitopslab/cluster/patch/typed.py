"""Schema-aware walks over objects for server-side apply (structured-merge-
diff's ``typed`` package): the field set of a configuration, the comparison
of two objects, the merge of a configuration onto a live object, and the
removal of fields.

Lists are atomic unless ``schema.py`` keys them (``map``) or makes them a
``set``; maps are granular unless marked atomic.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field

from gitopslab.cluster.patch import fieldset as fs
from gitopslab.cluster.patch.schema import ITEM, Schema

MISSING = object()  # absent, as opposed to an explicit null


class SchemaError(ValueError):
    """An object that does not fit the schema (missing or duplicate keys)."""


def item_element(item, rule, where: str) -> tuple:
    """The path element naming one item of a keyed list or of a set."""
    if rule.ssa == "set":
        return fs.value_element(item)
    if not isinstance(item, dict):
        raise SchemaError(f"{where}: expected map, got {item!r}")
    pairs = {}
    defaults = dict(rule.key_defaults)
    for key in rule.keys:
        if key in item and item[key] is not None:
            pairs[key] = item[key]
        elif key in defaults:
            pairs[key] = defaults[key]
        else:
            raise SchemaError(f"{where}: associative list with keys has an element that omits key "
                              f"field {fs.value_string(key)} (and doesn't have default value)")
    return fs.key_element(pairs)


def _list_elements(items: list, rule, fpath: tuple, allow_duplicates: bool) -> list[tuple]:
    elements, seen = [], set()
    for index, item in enumerate(items):
        pe = item_element(item, rule, f"{fs.path_string(fpath)}: element {index}")
        if pe in seen and not allow_duplicates:
            raise SchemaError(f"{fs.path_string(fpath)}: duplicate entries for key {fs.element_string(pe)}")
        seen.add(pe)
        elements.append(pe)
    return elements


# --- field set of a configuration (ToFieldSet) ---------------------------

def field_set(obj: dict, schema: Schema) -> frozenset:
    out: set = set()
    _fields(obj, (), (), schema, out)
    return frozenset(out)


def _fields(value, spath: tuple, fpath: tuple, schema: Schema, out: set) -> None:
    if isinstance(value, dict):
        if schema.map_rule(spath).ssa_atomic:
            out.add(fpath)
            return
        for key, child in value.items():
            child_path = fpath + (fs.field(key),)
            _fields(child, spath + (key,), child_path, schema, out)
            if child is None or child == {}:
                out.add(child_path)
    elif isinstance(value, list):
        rule = schema.list_rule(spath)
        if rule.ssa == "atomic":
            out.add(fpath)
            return
        for item, pe in zip(value, _list_elements(value, rule, fpath, False)):
            _fields(item, spath + (ITEM,), fpath + (pe,), schema, out)
            out.add(fpath + (pe,))
    else:
        out.add(fpath)


# --- comparison (Compare) --------------------------------------------------

@dataclass
class Comparison:
    added: set = dataclass_field(default_factory=set)
    modified: set = dataclass_field(default_factory=set)
    removed: set = dataclass_field(default_factory=set)


def compare(lhs: dict, rhs: dict, schema: Schema) -> Comparison:
    result = Comparison()
    _compare(lhs, rhs, (), (), schema, result)
    return result


def _compare(lhs, rhs, spath: tuple, fpath: tuple, schema: Schema, out: Comparison) -> None:
    kind = _node_kind(lhs, rhs)
    leaf = True
    if kind == "map" and not schema.map_rule(spath).ssa_atomic and (_filled(lhs) or _filled(rhs)):
        leaf = False
        lmap, rmap = _as(lhs, dict), _as(rhs, dict)
        for key in list(lmap) + [k for k in rmap if k not in lmap]:
            _compare(lmap.get(key, MISSING), rmap.get(key, MISSING), spath + (key,),
                     fpath + (fs.field(key),), schema, out)
    elif kind == "list" and schema.list_rule(spath).ssa != "atomic" and (_filled(lhs) or _filled(rhs)):
        leaf = False
        _compare_items(_as(lhs, list), _as(rhs, list), spath, fpath, schema, out)
    if leaf:
        if lhs is MISSING:
            out.added.add(fpath)
        elif rhs is MISSING:
            out.removed.add(fpath)
        elif not same(lhs, rhs):
            out.modified.add(fpath)
    elif lhs is MISSING:
        out.added.add(fpath)
    elif rhs is MISSING:
        out.removed.add(fpath)


def _compare_items(lhs: list, rhs: list, spath: tuple, fpath: tuple, schema: Schema, out: Comparison) -> None:
    rule = schema.list_rule(spath)
    left = dict(zip(_list_elements(lhs, rule, fpath, True), lhs))
    right = dict(zip(_list_elements(rhs, rule, fpath, True), rhs))
    for pe in list(left) + [p for p in right if p not in left]:
        _compare(left.get(pe, MISSING), right.get(pe, MISSING), spath + (ITEM,), fpath + (pe,), schema, out)


def _node_kind(lhs, rhs) -> str:
    kinds = {_kind(v) for v in (lhs, rhs) if v is not MISSING and v is not None}
    return kinds.pop() if len(kinds) == 1 else "scalar"


def _kind(value) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return "scalar"


def _filled(value) -> bool:
    return isinstance(value, (dict, list)) and len(value) > 0


def _as(value, kind: type):
    return value if isinstance(value, kind) else kind()


def same(left, right) -> bool:
    """Value equality where true is not 1 but 1 is 1.0 (value.Equals)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right))
    if type(left) is not type(right) and not all(isinstance(v, (int, float)) for v in (left, right)):
        return False
    return left == right


# --- merge of a configuration onto a live object (Merge) -------------------

def merge(lhs, rhs, schema: Schema, spath: tuple = (), fpath: tuple = ()):
    if rhs is MISSING:
        return lhs
    if lhs is MISSING:
        return rhs
    kind = _node_kind(lhs, rhs)
    if kind == "map" and isinstance(lhs, dict) and isinstance(rhs, dict) \
            and not schema.map_rule(spath).ssa_atomic:
        out = dict(lhs)
        for key, value in rhs.items():
            out[key] = merge(lhs.get(key, MISSING), value, schema, spath + (key,), fpath + (fs.field(key),))
        return out
    if kind == "list" and isinstance(lhs, list) and isinstance(rhs, list) \
            and schema.list_rule(spath).ssa != "atomic":
        return _merge_items(lhs, rhs, schema, spath, fpath)
    return rhs


def _merge_items(lhs: list, rhs: list, schema: Schema, spath: tuple, fpath: tuple) -> list:
    """Keyed list merge keeping both orders (typed/merge.go visitListItems):
    live items stay where they were, applied items follow the applied order."""
    rule = schema.list_rule(spath)
    rhs_pes = _list_elements(rhs, rule, fpath, False)
    lhs_pes = _list_elements(lhs, rule, fpath, True)
    right, left = dict(zip(rhs_pes, rhs)), {}
    for pe, item in zip(lhs_pes, lhs):
        left.setdefault(pe, item)
    shared = [pe for pe in rhs_pes if pe in left]
    next_shared = shared.pop(0) if shared else None
    merged_rhs: set = set()
    out: list = []
    item_path = spath + (ITEM,)

    def emit(pe, lchild, rchild):
        out.append(merge(lchild, rchild, schema, item_path, fpath + (pe,)))

    li = ri = 0
    while li < len(lhs_pes) or ri < len(rhs_pes):
        if li < len(lhs_pes) and ri < len(rhs_pes):
            pe = lhs_pes[li]
            if pe == rhs_pes[ri]:
                merged_rhs.add(pe)
                emit(pe, left[pe], right[pe])
                li, ri = li + 1, ri + 1
                next_shared = shared.pop(0) if shared else None
                continue
            if pe in right and next_shared is not None and next_shared != pe:
                li += 1
                continue
        if li < len(lhs_pes):
            pe = lhs_pes[li]
            if pe not in right:
                emit(pe, lhs[li], MISSING)
                li += 1
                continue
            if pe in merged_rhs:
                li += 1
        if ri < len(rhs_pes):
            pe = rhs_pes[ri]
            merged_rhs.add(pe)
            emit(pe, left.get(pe, MISSING), right[pe])
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = shared.pop(0) if shared else None
    return out


# --- removal of fields (RemoveItems) ----------------------------------------

def remove(obj: dict, paths, schema: Schema) -> dict:
    """A copy of ``obj`` without the fields and list items named by ``paths``."""
    return _remove(obj, frozenset(paths), (), (), schema)


def _remove(value, paths: frozenset, spath: tuple, fpath: tuple, schema: Schema):
    if isinstance(value, dict) and not schema.map_rule(spath).ssa_atomic:
        out = {}
        for key, child in value.items():
            child_path = fpath + (fs.field(key),)
            if child_path in paths:
                continue
            out[key] = _remove(child, paths, spath + (key,), child_path, schema) \
                if fs.under(paths, child_path) else child
        return out
    if isinstance(value, list) and value and schema.list_rule(spath).ssa != "atomic":
        rule = schema.list_rule(spath)
        out = []
        for item, pe in zip(value, _list_elements(value, rule, fpath, True)):
            child_path = fpath + (pe,)
            if child_path in paths:
                continue
            out.append(_remove(item, paths, spath + (ITEM,), child_path, schema)
                       if fs.under(paths, child_path) else item)
        return out
    return value


def drop_nulls(value):
    """What a typed object keeps of explicit nulls: nothing."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value
