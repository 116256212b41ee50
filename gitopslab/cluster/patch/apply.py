"""Server-side apply (structured-merge-diff ``merge.Updater.Apply`` behind
apimachinery's field manager).

The applied configuration is merged onto the live object with the same
list keys as strategic merge; the applier then owns exactly the fields of
its configuration. Fields it applied last time and no longer applies are
removed unless another manager owns them. Changing a field another manager
owns is a conflict, unless ``force`` moves the ownership. For the manager
``kubectl``, fields still as ``kubectl.kubernetes.io/last-applied-configuration``
recorded them may be taken over from client-side apply without force, and
that annotation is kept up to date.
"""
from __future__ import annotations

import copy
import json

from gitopslab.cluster.patch import fieldset as fs
from gitopslab.cluster.patch import managedfields as mf
from gitopslab.cluster.patch import typed
from gitopslab.cluster.patch.errors import ApplyConflict, PatchError
from gitopslab.cluster.patch.schema import schema_or_default

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
BEFORE_FIRST_APPLY = "before-first-apply"


def server_side_apply(live: dict | None, applied: dict, *, manager: str, force: bool, api_version: str,
                      kind: str, now: str, subresource: str = "") -> dict:
    """The object after ``manager`` applies ``applied`` (``live`` is None on
    create), with ``metadata.managedFields`` updated. Raises PatchError for
    an invalid configuration and ApplyConflict for ownership conflicts."""
    _check_applied(applied, api_version)
    applied = copy.deepcopy(applied)
    schema = schema_or_default(api_version, kind)
    live_obj = mf.without_managed_fields(live)
    managers = mf.decode((live or {}).get("metadata", {}).get("managedFields")) or {}
    if live is not None and not managers:
        managers = mf.record_update({}, {}, live_obj, schema,
                                    mf.identity(BEFORE_FIRST_APPLY, "Update", api_version), now)
    ident = mf.identity(manager, "Apply", api_version, subresource)
    applier = mf.manager_identifier(ident)
    try:
        config = mf.owned(typed.field_set(applied, schema), subresource)
        merged = typed.merge(live_obj, applied, schema)
    except typed.SchemaError as err:
        raise PatchError.internal(f"failed to create typed patch object ({_describe(applied, api_version, kind)}): "
                                  f"{err}") from err
    previous = managers.get(applier)
    managers[applier] = mf.Entry(ident, config, previous.time if previous else None)
    if previous:
        merged = _prune(merged, managers, applier, previous.fields, schema)
    merged = typed.drop_nulls(merged)
    _take_ownership(managers, applier, live_obj, merged, schema, force, subresource, manager)
    if not typed.same(merged, live_obj):
        managers[applier].time = now
    if manager == "kubectl":
        _refresh_last_applied(merged, applied)
    return mf.with_managed_fields(merged, managers)


def _check_applied(applied: dict, api_version: str) -> None:
    if not isinstance(applied, dict):
        raise PatchError.bad_request("error decoding YAML: the body of the request must be an object")
    version = applied.get("apiVersion", "")
    if version != api_version:
        raise PatchError.bad_request("Incorrect version specified in apply patch. "
                                     f"Specified patch version: {version}, expected: {api_version}")
    if (applied.get("metadata") or {}).get("managedFields") is not None:
        raise PatchError.bad_request("metadata.managedFields must be nil")


def _describe(applied: dict, api_version: str, kind: str) -> str:
    meta = applied.get("metadata") or {}
    group, _, version = api_version.rpartition("/")
    gvk = f"{group}/{version}, Kind={kind}" if group else f"/{version}, Kind={kind}"
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}; {gvk}"


def _prune(merged: dict, managers: dict, applier: str, last: frozenset, schema) -> dict:
    """Remove what the applier applied last time and no longer applies,
    unless some manager (the applier's new configuration included) still
    owns it or something below it; then drop what pruning left empty."""
    owners = [e.fields for e in managers.values()]
    claimed = frozenset().union(*owners)
    gone = [p for p in last - claimed if not _claimed_below(p, claimed)]
    if not gone:
        return merged
    pruned = typed.remove(merged, gone, schema)
    return _drop_emptied(pruned, merged, gone, claimed)


def _claimed_below(path: tuple, claimed: frozenset) -> bool:
    return any(len(p) > len(path) and fs.has_prefix(p, path) for p in claimed)


def _drop_emptied(pruned: dict, merged: dict, gone: list, claimed: frozenset) -> dict:
    """Containers emptied by pruning and owned by nobody go too (upstream
    removes the named field once nothing in it is owned)."""
    parents = {p[:i] for p in gone for i in range(1, len(p))}
    for parent in sorted(parents, key=len, reverse=True):
        if parent in claimed or _claimed_below(parent, claimed):
            continue
        if _get(pruned, parent) in ({}, []) and _get(merged, parent) not in ({}, []):
            pruned = _drop(pruned, parent)
    return pruned


def _get(obj, path: tuple):
    node = obj
    for kind, content in path:
        if kind == fs.FIELD and isinstance(node, dict):
            node = node.get(content, typed.MISSING)
        elif kind == fs.KEY and isinstance(node, list):
            node = next((i for i in node if isinstance(i, dict)
                         and all(i.get(k) == v for k, v in content)), typed.MISSING)
        else:
            return typed.MISSING
    return node


def _drop(obj: dict, path: tuple) -> dict:
    parent = _get(obj, path[:-1])
    kind, content = path[-1]
    if kind == fs.FIELD and isinstance(parent, dict):
        parent.pop(content, None)
    elif kind == fs.KEY and isinstance(parent, list):
        parent[:] = [i for i in parent if not (isinstance(i, dict) and all(i.get(k) == v for k, v in content))]
    return obj


def _take_ownership(managers: dict, applier: str, live: dict, merged: dict, schema, force: bool,
                    subresource: str, manager: str) -> None:
    ident = managers[applier].identity
    changes = mf.scoped(mf.compare_typed(live, merged, schema, ident["apiVersion"], merged.get("kind", "")),
                        subresource)
    conflicts = mf.changed_by_others(managers, changes, applier)
    if conflicts and not force:
        conflicts = _beyond_last_applied(conflicts, live, api_version=ident["apiVersion"],
                                         schema=schema) if manager == "kubectl" else conflicts
        if conflicts:
            raise ApplyConflict(_conflict_list(managers, conflicts))
        conflicts = mf.changed_by_others(managers, changes, applier)
    mf.apply_changes(managers, changes, applier, conflicts)


def _beyond_last_applied(conflicts: dict, live: dict, *, api_version: str, schema) -> dict:
    """Conflicts not excused by the last-applied annotation: kubectl may take
    over fields client-side apply recorded there and nobody changed since."""
    text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        last = json.loads(text) if text else None
    except ValueError:
        last = None
    if not isinstance(last, dict) or last.get("apiVersion") != api_version:
        return conflicts
    try:
        drift = typed.compare(last, live, schema)
        allowed = typed.field_set(last, schema) - drift.modified - drift.added - drift.removed
    except typed.SchemaError:
        return conflicts
    remaining = {key: paths - allowed for key, paths in conflicts.items()}
    return {key: paths for key, paths in remaining.items() if paths}


def _conflict_list(managers: dict, conflicts: dict) -> list[tuple[dict, str]]:
    out = []
    for key in sorted(conflicts):
        identity = managers[key].identity
        out.extend((identity, fs.path_string(p)) for p in fs.iteration_order(conflicts[key]))
    return out


def _refresh_last_applied(merged: dict, applied: dict) -> None:
    annotations = (merged.get("metadata") or {}).get("annotations") or {}
    if not annotations.get(LAST_APPLIED):
        return
    config = json.loads(json.dumps(applied))
    (config.get("metadata") or {}).get("annotations", {}).pop(LAST_APPLIED, None)
    annotations[LAST_APPLIED] = go_json(config) + "\n"


def go_json(value) -> str:
    """encoding/json output: sorted keys, compact, HTML characters escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
