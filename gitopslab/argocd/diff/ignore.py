"""``ignoreDifferences`` rules (Argo CD ``normalizers/diff_normalizer.go``, ``managedfields``), pure.

A rule matches on group and kind (``*`` globs), and optionally name and
namespace. ``jsonPointers`` and ``jqPathExpressions`` remove fields from the
desired, live and last-applied objects before the diff; a pointer or
expression that does not apply is skipped silently, as in Argo CD.
``managedFieldsManagers`` removes the fields a trusted manager owns in the live
object wherever desired and live disagree on them.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any, Iterable

from . import jqpath

STATUS_RULE_POINTER = "/status"


@dataclass(frozen=True)
class IgnoreDifference:
    """One ``spec.ignoreDifferences`` item (or an argocd-cm resource customization)."""

    group: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    managed_fields_managers: tuple[str, ...] = ()

    @classmethod
    def from_spec(cls, item: "dict | IgnoreDifference") -> "IgnoreDifference":
        """Accepts the Application spec shape (camelCase keys)."""
        if isinstance(item, IgnoreDifference):
            return item
        return cls(
            group=item.get("group", ""), kind=item.get("kind", ""), name=item.get("name", ""),
            namespace=item.get("namespace", ""),
            json_pointers=tuple(item.get("jsonPointers") or ()),
            jq_path_expressions=tuple(item.get("jqPathExpressions") or ()),
            managed_fields_managers=tuple(item.get("managedFieldsManagers") or ()),
        )

    def matches(self, obj: dict) -> bool:
        api_version = str(obj.get("apiVersion") or "")
        group = api_version.split("/", 1)[0] if "/" in api_version else ""
        metadata = obj.get("metadata") or {}
        return (
            _glob(self.group, group) and _glob(self.kind, str(obj.get("kind") or ""))
            and (not self.name or self.name == metadata.get("name"))
            and (not self.namespace or self.namespace == metadata.get("namespace"))
        )


IGNORE_STATUS = IgnoreDifference(group="*", kind="*", json_pointers=(STATUS_RULE_POINTER,))


def _glob(pattern: str, value: str) -> bool:
    return pattern == value or fnmatch.fnmatchcase(value, pattern)


def rules(items: Iterable["dict | IgnoreDifference"]) -> list[IgnoreDifference]:
    return [IgnoreDifference.from_spec(item) for item in items]


def apply_rules(obj: dict, found: list[IgnoreDifference]) -> dict:
    """Remove ignored fields from ``obj`` in place; returns it."""
    for rule in found:
        if not rule.matches(obj):
            continue
        for pointer in rule.json_pointers:
            remove_pointer(obj, pointer)
        for expression in rule.jq_path_expressions:
            try:
                candidate = json.loads(json.dumps(obj))
                if jqpath.delete_paths(candidate, expression) is not None:
                    obj.clear()
                    obj.update(candidate)
            except jqpath.JqError:
                continue
    return obj


def remove_pointer(obj: Any, pointer: str) -> bool:
    """RFC 6901 ``remove``; False (nothing done) when the path does not exist."""
    if not pointer.startswith("/"):
        return False
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
    parent = obj
    for part in parts[:-1]:
        parent = _child(parent, part)
        if parent is None:
            return False
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
        return True
    return False


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def managers_for(obj: dict, found: list[IgnoreDifference]) -> list[str]:
    return [m for rule in found if rule.matches(obj) for m in rule.managed_fields_managers]


def drop_managed_conflicts(config: dict, live: dict, managers: list[str]) -> None:
    """Remove, from both objects in place, leaf fields owned by ``managers`` in live that differ."""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") in managers and isinstance(entry.get("fieldsV1"), dict):
            for path in _leaf_paths(entry["fieldsV1"], live, config, ()):
                _remove_path(live, path)
                _remove_path(config, path)


def _leaf_paths(fields: dict, live: Any, config: Any, path: tuple) -> list[tuple]:
    found = []
    for key, children in fields.items():
        if key == ".":
            continue
        step = _resolve(key, live, config)
        if step is None:
            continue
        live_child, config_child = _at(live, step), _at(config, step)
        if live_child is _MISSING or config_child is _MISSING:
            continue
        if children:
            found += _leaf_paths(children, live_child, config_child, path + (step,))
        elif live_child != config_child:
            found.append(path + (step,))
    return found


_MISSING = object()


def _resolve(key: str, live: Any, config: Any):
    """A fieldsV1 key as a path step: a field name, or a list item selector."""
    prefix, _, rest = key.partition(":")
    if prefix == "f":
        return ("f", rest)
    if prefix == "k":
        return ("k", json.loads(rest))
    if prefix == "v":
        return ("v", json.loads(rest))
    if prefix == "i":
        return ("i", int(rest))
    return None


def _at(node: Any, step) -> Any:
    kind, arg = step
    if kind == "f":
        return node.get(arg, _MISSING) if isinstance(node, dict) else _MISSING
    if not isinstance(node, list):
        return _MISSING
    for index, item in enumerate(node):
        if _selects(step, index, item):
            return item
    return _MISSING


def _selects(step, index: int, item: Any) -> bool:
    kind, arg = step
    if kind == "k":
        return isinstance(item, dict) and all(item.get(k) == v for k, v in arg.items())
    if kind == "v":
        return item == arg
    return index == arg


def _remove_path(node: Any, path: tuple) -> None:
    for step in path[:-1]:
        node = _at(node, step)
        if node is _MISSING:
            return
    kind, arg = path[-1]
    if kind == "f" and isinstance(node, dict):
        node.pop(arg, None)
    elif isinstance(node, list):
        node[:] = [item for i, item in enumerate(node) if not _selects(path[-1], i, item)]
