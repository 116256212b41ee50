"""List ordering after a strategic merge (apimachinery ``normalizeElementOrder``
and friends): the patch order first, server-only items interleaved where the
live order puts them.
"""
from __future__ import annotations

from gitopslab.cluster.patch.errors import PatchError, go_type, go_value

DIRECTIVE = "$patch"
_ABSENT = object()


def partition(items: list, by: list, merge_key: str | None) -> tuple[list, list]:
    """Split items into those present in ``by`` and the others."""
    present, absent = [], []
    for item in items:
        if merge_key:
            if not isinstance(item, dict):
                raise PatchError.internal(f"expected a map[string]interface {{}}, but received a {go_type(item)}")
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
            found = any(isinstance(b, dict) and merge_key in b and b[merge_key] == item[merge_key] for b in by)
        else:
            found = item in by
        (present if found else absent).append(item)
    return present, absent


def normalize_order(patch_items: list, server_only: list, patch_order: list, server_order: list,
                     merge_key: str | None, kind: str) -> list:
    patch_items = _sort_by(patch_items, patch_order, merge_key, kind)
    server_only = _sort_by(server_only, server_order, merge_key, kind)
    return _merge_sorted(server_only, patch_items, server_order, merge_key, kind)


def _sort_by(items: list, order: list, merge_key: str | None, kind: str) -> list:
    deletes: list = []
    if kind == "map":
        for item in items + order:
            if not isinstance(item, dict):
                raise PatchError.internal(f"expected a map[string]interface {{}}, but received a {go_type(item)}")
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
        items, deletes = split_deletes(items)
    items = list(items)
    # sort.SliceStable on these few items is an insertion sort whose "less"
    # is true whenever either item is missing from the order.
    def less(a, b) -> bool:
        ia, ib = _index(order, a, merge_key, kind), _index(order, b, merge_key, kind)
        return ia < ib if ia >= 0 and ib >= 0 else True
    for i in range(1, len(items)):
        j = i
        while j > 0 and less(items[j], items[j - 1]):
            items[j], items[j - 1] = items[j - 1], items[j]
            j -= 1
    return items + deletes


def split_deletes(items: list) -> tuple[list, list]:
    keep, delete = [], []
    for item in items:
        if not isinstance(item, dict):
            raise PatchError.internal(f"expected a map[string]interface {{}}, but received a {go_type(item)}")
        (delete if item.get(DIRECTIVE) == "delete" else keep).append(item)
    return keep, delete


def _merge_sorted(left: list, right: list, server_order: list, merge_key: str | None, kind: str) -> list:
    """Interleave server-only items (left) into patch items (right): a left
    item goes first only when both are in the live order and it comes first."""
    out, i, j = [], 0, 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j]); j += 1
        elif j >= len(right):
            out.append(left[i]); i += 1
        else:
            li = _index(server_order, left[i], merge_key, kind)
            ri = _index(server_order, right[j], merge_key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i]); i += 1
            else:
                out.append(right[j]); j += 1
    return out


def _index(items: list, value, merge_key: str | None, kind: str) -> int:
    def key_of(item):
        if kind == "map":
            return item.get(merge_key) if isinstance(item, dict) else None
        return item
    wanted = key_of(value)
    for index, item in enumerate(items):
        if key_of(item) == wanted:
            return index
    return -1


def aliased_view(live: list, merge_key: str, deleted: list, appended: list) -> list:
    """What upstream's caller still sees of the live list after merging.

    Go deletes list items in place (``append(s[:i], s[i+1:]...)``) and
    appends new ones into the freed slots, in the backing array the caller
    shares (the server's object comes from ToUnstructured, so capacity is
    length). The caller then orders server-only items against this view,
    which decides where they land next to added items.
    """
    backing, length = list(live), len(live)
    for value in deleted:
        while True:
            index = next((i for i in range(length) if isinstance(backing[i], dict)
                          and backing[i].get(merge_key, _ABSENT) == value), None)
            if index is None:
                break
            backing[index:length - 1] = backing[index + 1:length]
            length -= 1
    for item in appended:
        if length >= len(live):
            break  # the append reallocated: the caller no longer sees it
        backing[length] = item
        length += 1
    return backing


def deduplicate(items: list) -> list:
    """apimachinery's in-place deduplication (moves the last item into each
    duplicate's slot); the order is fixed afterwards by normalisation."""
    s = list(items)
    last = len(s) - 1
    i = 0
    while i < last:
        j = i + 1
        while j <= last:
            if s[i] == s[j]:
                s[j] = s[last]
                s = s[:last]
                last -= 1
                j -= 1
            j += 1
        i += 1
    return s


def no_merge_key(item: dict, merge_key: str) -> PatchError:
    return PatchError.internal(f"map: {go_value(item)} does not contain declared merge key: {merge_key}")
