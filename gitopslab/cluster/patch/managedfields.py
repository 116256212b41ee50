"""``metadata.managedFields``: who owns which fields (apimachinery
``util/managedfields``).

Entries are keyed by manager identity (manager, operation, apiVersion for
updaters, subresource). ``update_managed_fields`` records a non-apply write
(create, update, JSON/merge/strategic patch): the writer takes the fields it
added or changed, from whoever owned them, and fields it removed leave
every owner. ``server_side_apply`` (in ``apply.py``) builds on the same
pieces.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from gitopslab.cluster.patch import fieldset as fs
from gitopslab.cluster.patch import typed
from gitopslab.cluster.patch.errors import manager_identifier
from gitopslab.cluster.patch.schema import POD_TEMPLATE_ROOTS, schema_or_default, supports_strategic_merge

# Fields nobody owns (stripmeta.go).
STRIPPED = frozenset({(fs.field("apiVersion"),), (fs.field("kind"),), (fs.field("metadata"),)} | {
    (fs.field("metadata"), fs.field(name)) for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
        "generation", "managedFields", "resourceVersion")})
STATUS = (fs.field("status"),)


@dataclass
class Entry:
    identity: dict  # manager, operation, apiVersion, subresource
    fields: frozenset
    time: str | None = None

    @property
    def applied(self) -> bool:
        return self.identity["operation"] == "Apply"


def identity(manager: str, operation: str, api_version: str, subresource: str = "") -> dict:
    return {"manager": manager, "operation": operation, "apiVersion": api_version, "subresource": subresource}


def decode(entries) -> dict[str, Entry] | None:
    """Entries by manager identifier; None when they cannot be decoded."""
    managers: dict[str, Entry] = {}
    for raw in entries or []:
        if not isinstance(raw, dict) or raw.get("operation") not in ("Apply", "Update") \
                or not raw.get("apiVersion") or raw.get("fieldsType") != "FieldsV1":
            return None
        ident = identity(raw.get("manager", ""), raw["operation"], raw["apiVersion"], raw.get("subresource", ""))
        try:
            paths = fs.from_fields_v1(raw.get("fieldsV1") or {})
        except (ValueError, TypeError):
            return None
        managers[manager_identifier(ident)] = Entry(ident, paths, raw.get("time"))
    return managers


def encode(managers: dict[str, Entry]) -> list[dict]:
    """Wire entries, sorted as upstream sorts them (operation, time, manager…)."""
    entries = [e for e in managers.values() if e.fields]
    entries.sort(key=lambda e: (e.identity["operation"], e.time or "", e.identity["manager"],
                                e.identity["apiVersion"], e.identity["subresource"]))
    out = []
    for entry in entries:
        raw = {"manager": entry.identity["manager"], "operation": entry.identity["operation"],
               "apiVersion": entry.identity["apiVersion"]}
        if entry.time:
            raw["time"] = entry.time
        raw["fieldsType"] = "FieldsV1"
        raw["fieldsV1"] = fs.to_fields_v1(entry.fields)
        if entry.identity["subresource"]:
            raw["subresource"] = entry.identity["subresource"]
        out.append(raw)
    return out


def without_managed_fields(obj: dict | None) -> dict:
    obj = copy.deepcopy(obj) if obj else {}
    if isinstance(obj.get("metadata"), dict):
        obj["metadata"].pop("managedFields", None)
    return obj


def with_managed_fields(obj: dict, managers: dict[str, Entry]) -> dict:
    entries = encode(managers)
    metadata = obj.setdefault("metadata", {})
    if entries:
        metadata["managedFields"] = entries
    else:
        metadata.pop("managedFields", None)
    return obj


def owned(paths, subresource: str) -> frozenset:
    """What a write may own: never the stripped metadata; the status
    subresource owns only status, the main resource never status (the reset
    fields of built-in strategies)."""
    paths = frozenset(paths) - STRIPPED
    if subresource == "status":
        return frozenset(p for p in paths if fs.has_prefix(p, STATUS))
    return frozenset(p for p in paths if not fs.has_prefix(p, STATUS))


def scoped(changes: typed.Comparison, subresource: str) -> typed.Comparison:
    """The comparison seen through the write's reset fields."""
    keep = lambda paths: set(owned(paths, subresource) | (frozenset(paths) & STRIPPED))
    return typed.Comparison(keep(changes.added), keep(changes.modified), keep(changes.removed))


def compare_typed(before: dict, after: dict, schema, api_version: str, kind: str) -> typed.Comparison:
    """Compare two objects as their typed forms would: the structs a typed
    object always serialises are present on both sides."""
    skeleton = empty_object(api_version, kind)
    return typed.compare(_overlay(skeleton, before), _overlay(skeleton, after), schema)


def _overlay(skeleton: dict, obj: dict) -> dict:
    out = dict(obj)
    for key, value in skeleton.items():
        if key not in out:
            out[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = _overlay(value, out[key])
    return out


def empty_object(api_version: str, kind: str) -> dict:
    """What an empty object of this kind serialises to: built-in kinds carry
    their non-omitempty structs, so creating one never "adds" them."""
    if not supports_strategic_merge(api_version, kind):
        return {}
    obj: dict = {"metadata": {}, "spec": {}, "status": {}}
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    root = POD_TEMPLATE_ROOTS.get((group, kind))
    if root:
        node = obj
        for part in root.split(".")[:-1]:
            node = node.setdefault(part, {})
            if part in ("template", "jobTemplate"):
                node.setdefault("metadata", {})
        node.setdefault("spec", {})["containers"] = None  # `json:"containers"`, no omitempty
    if (group, kind) == ("apps", "Deployment"):
        obj["spec"]["strategy"] = {}
    return obj


def apply_changes(managers: dict[str, Entry], changes: typed.Comparison, writer: str,
                  conflicts_to_drop: dict[str, frozenset] | None = None) -> None:
    """Fields a write removed leave every other owner; ``conflicts_to_drop``
    (changed fields owned by others) move away from them."""
    for key, entry in list(managers.items()):
        if key == writer:
            continue
        lost = frozenset(changes.removed) | (conflicts_to_drop or {}).get(key, frozenset())
        entry.fields = entry.fields - lost
        if not entry.fields:
            del managers[key]


def changed_by_others(managers: dict[str, Entry], changes: typed.Comparison, writer: str) -> dict[str, frozenset]:
    touched = frozenset(changes.modified) | frozenset(changes.added)
    found = {}
    for key, entry in managers.items():
        if key != writer and entry.fields & touched:
            found[key] = entry.fields & touched
    return found


def managers_for_write(old: dict | None, new: dict, subresource: str) -> dict[str, Entry]:
    """decodeLiveOrNew: a request may carry managedFields (``[]`` resets
    them); a subresource write always starts from the live ones."""
    live = decode((old or {}).get("metadata", {}).get("managedFields")) or {}
    if subresource:
        return live
    requested = (new.get("metadata") or {}).get("managedFields", None)
    if isinstance(requested, list) and (requested == [] or requested == [{}]):
        return {}
    decoded = decode(requested)
    return decoded if decoded else live


def update_managed_fields(old: dict | None, new: dict, *, manager: str, api_version: str, kind: str,
                          now: str, operation: str = "Update", subresource: str = "") -> dict:
    """``new`` with ``metadata.managedFields`` recording this non-apply write
    by ``manager`` (``old`` is None on create). ``new`` should be the object
    about to be stored (after defaulting)."""
    if operation != "Update":
        raise ValueError("update_managed_fields records Update operations; use server_side_apply")
    managers = managers_for_write(old, new, subresource)
    result = without_managed_fields(new)
    if not managers and old is not None:
        return result  # objects never tracked stay untracked until first apply
    schema = schema_or_default(api_version, kind)
    before = without_managed_fields(old)
    managers = record_update(managers, before, result, schema, identity(manager, "Update", api_version, subresource),
                             now)
    return with_managed_fields(result, cap_update_managers(managers))


MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"


def cap_update_managers(managers: dict[str, Entry]) -> dict[str, Entry]:
    """Beyond ten Update entries, the oldest are folded, per apiVersion, into
    an ``ancient-changes`` entry (capmanagers.go)."""
    updaters = [key for key, entry in managers.items() if not entry.applied]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return managers
    updaters.sort(key=lambda key: (managers[key].time or "", key))
    first_of_version: dict[str, str] = {}
    count = len(updaters)
    for key in updaters:
        if count <= MAX_UPDATE_MANAGERS:
            break
        entry = managers[key]
        version = entry.identity["apiVersion"]
        bucket_ident = identity(ANCIENT_CHANGES, "Update", version)
        bucket = manager_identifier(bucket_ident)
        if version not in first_of_version:
            first_of_version[version] = key
            continue
        if bucket not in managers:
            first = managers.pop(first_of_version[version])
            managers[bucket] = Entry(bucket_ident, first.fields, first.time)
        managers[bucket] = Entry(bucket_ident, managers[bucket].fields | entry.fields, entry.time)
        del managers[key]
        count -= 1
    return managers


def record_update(managers: dict[str, Entry], before: dict, after: dict, schema, ident: dict,
                  now: str) -> dict[str, Entry]:
    """The Update bookkeeping shared with apply's "before-first-apply"."""
    try:
        changes = compare_typed(before, after, schema, ident["apiVersion"], after.get("kind", ""))
    except typed.SchemaError:
        return managers  # upstream logs and keeps the previous managedFields
    changes = scoped(changes, ident["subresource"])
    writer = manager_identifier(ident)
    apply_changes(managers, changes, "", changed_by_others(managers, changes, ""))
    taken = owned(changes.modified | changes.added, ident["subresource"])
    previous = managers.get(writer)
    if taken:
        fields = taken | (previous.fields if previous else frozenset())
        managers[writer] = Entry(ident, fields, now)
    return managers
