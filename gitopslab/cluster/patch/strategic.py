"""Strategic merge patch, as apimachinery ``util/strategicpatch`` applies it
on the server (``MergeParallelList`` and ``IgnoreUnmatchedNulls`` on).

Maps merge key by key and ``null`` deletes; lists merge by their merge key,
as a set of scalars, or are replaced, as ``schema.py`` says. Directives:
``$patch: replace|delete`` on a map or a list element (``merge`` is refused,
as upstream refuses it), ``$setElementOrder/<list>``,
``$deleteFromPrimitiveList/<list>`` and ``$retainKeys``. Directives are
consumed: none survives in the result.

The functions below work on private deep copies, so the caller's target and
patch are never mutated.
"""
from __future__ import annotations

import copy

from gitopslab.cluster.patch import schema as schemas
from gitopslab.cluster.patch import smp_order
from gitopslab.cluster.patch.errors import (
    BAD_PRIMITIVE_LIST, BAD_RETAIN_KEYS, BAD_SET_ELEMENT_ORDER, NO_LIST_OF_LISTS,
    PatchError, go_type, go_value)

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder"
DELETE_FROM = "$deleteFromPrimitiveList"
UNSUPPORTED = "strategic merge patch format is not supported"


def strategic_merge_patch(target: dict, patch: dict, api_version: str, kind: str) -> dict:
    """Apply a strategic merge patch to a built-in object."""
    if not isinstance(patch, dict):
        raise PatchError.bad_request(
            f"json: cannot unmarshal {_json_kind(patch)} into Go value of type map[string]interface {{}}")
    if not schemas.supports_strategic_merge(api_version, kind):
        raise PatchError.bad_request(UNSUPPORTED)
    schema = schemas.schema_for(api_version, kind)
    merged = _merge_map(copy.deepcopy(target) or {}, copy.deepcopy(patch), (), schema)
    return _strip(merged)


# --- maps -----------------------------------------------------------------

def _merge_map(original: dict, patch: dict, path: tuple, schema) -> dict:
    if DIRECTIVE in patch:
        return _map_directive(patch)
    _apply_retain_keys(original, patch)
    _merge_ordered_lists(original, patch, path, schema)
    for key, value in list(patch.items()):
        is_delete_list = key.startswith(DELETE_FROM)
        if is_delete_list:
            key = _extract_key(key, DELETE_FROM, BAD_PRIMITIVE_LIST)
        if value is None:
            original.pop(key, None)
            continue
        if key not in original or _go_kind(original[key]) != _go_kind(value):
            if not is_delete_list:
                _set_clean(original, key, value)
            continue
        _merge_field(original, key, value, path + (key,), schema, is_delete_list)
    return original


def _merge_field(original: dict, key: str, value, path: tuple, schema, is_delete_list: bool) -> None:
    current = original[key]
    if isinstance(current, dict):
        if schema.map_rule(path).smp == "replace":
            original[key] = value
        else:
            original[key] = _merge_map(current, value, path, schema)
    elif isinstance(current, list):
        original[key] = _merge_list_field(current, value, path, schema, is_delete_list)
    else:
        _set_clean(original, key, value)


def _map_directive(patch: dict) -> dict:
    directive = patch[DIRECTIVE]
    if directive == "replace":
        del patch[DIRECTIVE]
        return patch
    if directive == "delete":
        return {}
    raise PatchError.internal(f"unknown patch type: {go_value(directive)} in map: {go_value(patch)}")


def _apply_retain_keys(original: dict, patch: dict) -> None:
    if RETAIN_KEYS not in patch:
        return
    retained = patch.pop(RETAIN_KEYS)
    if not isinstance(retained, list):
        raise PatchError.bad_request(BAD_RETAIN_KEYS)
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM, SET_ORDER)):
            continue
        if key not in retained:
            raise PatchError.bad_request(BAD_RETAIN_KEYS)
    for key in [k for k in original if k not in retained]:
        del original[key]


def _extract_key(key: str, prefix: str, error: str) -> str:
    head, sep, tail = key.partition("/")
    if not sep or head != prefix:
        raise PatchError.bad_request(error)
    return tail


def _set_clean(original: dict, key: str, value) -> None:
    """Store a patch value that has nothing to merge with: nulls are
    discarded and maps carrying ``$patch`` vanish (``removeDirectives``)."""
    cleaned, keep = _remove_directives(_discard_nulls(value))
    if keep:
        original[key] = cleaned
    else:
        original.pop(key, None)


def _discard_nulls(value):
    if isinstance(value, dict):
        return {k: _discard_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_discard_nulls(v) for v in value]
    return value


def _remove_directives(value) -> tuple[object, bool]:
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return None, False
        kept = {}
        for key, item in value.items():
            cleaned, keep = _remove_directives(item)
            if keep:
                kept[key] = cleaned
        return kept, True
    if isinstance(value, list):
        kept_items = [_remove_directives(v) for v in value]
        return [cleaned for cleaned, keep in kept_items if keep], True
    return value, True


def _strip(value):
    """What decoding into a typed object would drop: directive keys left in
    values taken whole, and nulls."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


# --- $setElementOrder ------------------------------------------------------

def _merge_ordered_lists(original: dict, patch: dict, path: tuple, schema) -> None:
    """Merge each list named by a ``$setElementOrder/<list>`` directive, then
    order it: the directive's order first, server-only items where the live
    order puts them (``mergePatchIntoOriginal``)."""
    for directive in [k for k in patch if k.startswith(SET_ORDER)]:
        order = patch.pop(directive)
        if not isinstance(order, list):
            raise PatchError.internal(f"expected a []interface {{}}, but received a {go_type(order)}")
        key = _extract_key(directive, SET_ORDER, BAD_SET_ELEMENT_ORDER)
        live, patched = original.get(key), patch.get(key)
        for value in (live, patched):
            if value is not None and not isinstance(value, list):
                raise PatchError.internal(f"expected a []interface {{}}, but received a {go_type(value)}")
        rule = schema.list_rule(path + (key,))
        merge_key = rule.smp_key
        _validate_order(patched, order, merge_key)
        live_view = live or []
        if key in original and key in patch:
            merged, live_view = _merge_list(live, patched, path + (key,), schema, False)
        elif key in patch:
            merged = _remove_directives(patched)[0]
        elif key in original:
            merged = live
        else:
            continue
        in_order, server_only = smp_order.partition(merged, order, merge_key)
        kind = _element_kind(live or [], patched or [])
        original[key] = smp_order.normalize_order(in_order, server_only, order, live_view, merge_key, kind)
        patch.pop(key, None)


def _validate_order(patch_list: list | None, order: list, merge_key: str | None) -> None:
    """The relative order of the patch list must agree with the directive."""
    if not order or not patch_list:
        return
    items = smp_order.split_deletes(patch_list)[0] if merge_key else patch_list
    p = s = 0
    while p < len(items) and s < len(order):
        if isinstance(items[p], dict) and DIRECTIVE in items[p]:
            p += 1
            continue
        if _same_key(items[p], order[s], merge_key):
            p += 1
        s += 1
    if p < len(items) and s >= len(order):
        raise PatchError.internal(f"The order in patch list:\n{go_value(patch_list)}\n doesn't match "
                                  f"{SET_ORDER} list:\n{go_value(order)}\n")


def _same_key(left, right, merge_key: str | None) -> bool:
    if not merge_key:
        return left == right
    for item in (left, right):
        if not isinstance(item, dict):
            raise PatchError.internal(f"expected a map[string]interface {{}}, but received a {go_type(item)}")
        if merge_key not in item:
            raise smp_order.no_merge_key(item, merge_key)
    return left[merge_key] == right[merge_key]


# --- lists ----------------------------------------------------------------

def _merge_list_field(live: list, patched: list, path: tuple, schema, is_delete_list: bool) -> list:
    return _merge_list(live, patched, path, schema, is_delete_list)[0]


def _merge_list(live: list, patched: list, path: tuple, schema, is_delete_list: bool) -> tuple[list, list]:
    """The merged list, and the live list as the caller then sees it (see
    ``_aliased_view``)."""
    rule = schema.list_rule(path)
    if not (rule.smp_merge or is_delete_list):
        return patched, live
    if not live and not patched:
        return live, live
    kind = _element_kind(live, patched)
    merge_key = rule.smp_key
    view = live
    if kind != "map":
        if is_delete_list:
            return [v for v in live if v not in patched], live
        merged = smp_order.deduplicate(live + patched)
    else:
        if not merge_key:
            raise PatchError.internal(f"cannot merge lists without merge key for {'.'.join(path)}")
        original = live
        live, patched, deleted, replaced = _special_elements(live, patched, merge_key)
        merged = _merge_items(live, patched, merge_key, path + (schemas.ITEM,), schema)
        appended = [] if replaced else merged[len(live):]
        view = smp_order.aliased_view(original, merge_key, deleted, appended)
    in_patch, server_only = smp_order.partition(merged, patched, merge_key)
    return smp_order.normalize_order(in_patch, server_only, patched, live, merge_key, kind), view


def _special_elements(live: list, patched: list, merge_key: str) -> tuple[list, list, list, bool]:
    """Handle list elements carrying ``$patch``: delete drops live items with
    that key, replace makes the (other) patch items the whole list. Returns
    the live items left, the plain patch items, the deleted keys and whether
    the list was replaced."""
    plain, replace, deleted = [], False, []
    for item in patched:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise smp_order.no_merge_key(item, merge_key)
            live = [v for v in _maps(live) if not (merge_key in v and v[merge_key] == item[merge_key])]
            deleted.append(item[merge_key])
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError.internal("merging lists cannot yet be specified in the patch")
        else:
            raise PatchError.internal(f"unknown patch type: {go_value(directive)} in map: {go_value(item)}")
    return (plain, [], deleted, True) if replace else (live, plain, deleted, False)


def _merge_items(live: list, patched: list, merge_key: str, item_path: tuple, schema) -> list:
    live = list(live)  # the caller keeps the live order to sort by
    for item in patched:
        if merge_key not in item:
            raise smp_order.no_merge_key(item, merge_key)
        for index, current in enumerate(_maps(live)):
            if merge_key in current and current[merge_key] == item[merge_key]:
                live[index] = _merge_map(current, item, item_path, schema)
                break
        else:
            live.append(item)
    return live


def _maps(items: list) -> list:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise PatchError.internal(f"value for key {index} is not a map")
    return items


def _element_kind(*lists: list) -> str:
    """All elements must share one JSON type, and not be lists."""
    kind = None
    for items in lists:
        for item in items:
            current = _go_kind(item)
            if kind is None:
                if current == "slice":
                    raise PatchError.invalid(NO_LIST_OF_LISTS)
                kind = current
            elif current != kind:
                raise PatchError.internal(f"list element types are not identical: {go_value(list(lists))}")
    if kind is None:
        raise PatchError.internal("no elements in any of the given slices")
    return kind


def _go_kind(value) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    return go_type(value)


def _json_kind(value) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "null"
