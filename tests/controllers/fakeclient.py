"""A small in-memory ``Client`` with the REST semantics the controllers rely on.

Tests only. It keeps a journal for watch replay, assigns uid/resourceVersion/
generation, honours ``generateName``, label and simple field selectors,
``/status``, ``/binding`` and ``/finalize`` subresources, finalizers with
``deletionTimestamp`` and the foreground/orphan propagation finalizers. It does
no garbage collection: that is the controllers' job.
"""
from __future__ import annotations

import asyncio
import copy
import itertools
import re
import uuid
from datetime import datetime, timezone

from gitopslab.cluster.client import Client, WatchEvent
from gitopslab.cluster.controllers.hashing import random_suffix
from gitopslab.cluster.errors import ApiError, already_exists, conflict, not_found
from gitopslab.cluster.kinds import KindRegistry

_REG = KindRegistry()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rdef(api_version: str, kind: str):
    r = _REG.by_kind(api_version, kind)
    if r is None:
        raise ApiError(404, "NotFound", f"the server could not find the requested resource ({kind})")
    return r


def _merge(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge(out.get(k), v)
    return out


_REQ = re.compile(r"^\s*(!)?([\w./-]+)\s*(?:(==|=|!=)\s*([\w./-]*)|\s+(in|notin)\s+\(([^)]*)\))?\s*$")


def _split_selector(s: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def label_selector_matches(sel: str | None, labels: dict) -> bool:
    for req in _split_selector(sel or ""):
        m = _REQ.match(req)
        if not m:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {req}")
        neg, key, op, val, setop, vals = m.groups()
        if neg:
            ok = key not in labels
        elif op in ("=", "=="):
            ok = labels.get(key) == val
        elif op == "!=":
            ok = labels.get(key) != val
        elif setop == "in":
            ok = labels.get(key) in [v.strip() for v in vals.split(",")]
        elif setop == "notin":
            ok = labels.get(key) not in [v.strip() for v in vals.split(",")]
        else:
            ok = key in labels
        if not ok:
            return False
    return True


def _field(obj: dict, path: str):
    cur = obj
    for p in path.split("."):
        cur = cur.get(p) if isinstance(cur, dict) else None
    return "" if cur is None else str(cur)


def field_selector_matches(sel: str | None, obj: dict) -> bool:
    for req in (sel or "").split(","):
        if not req.strip():
            continue
        if "!=" in req:
            k, v = req.split("!=", 1)
            if _field(obj, k.strip()) == v.strip():
                return False
        else:
            k, v = re.split("==?", req, maxsplit=1)
            if _field(obj, k.strip()) != v.strip():
                return False
    return True


class FakeClient(Client):
    def __init__(self):
        self.objects: dict[tuple, dict] = {}  # (apiVersion, kind, ns, name) -> obj
        self.journal: list[tuple[int, str, tuple, dict]] = []
        self._rv = itertools.count(1)
        self._last_rv = 0
        self._changed = asyncio.Condition()
        self.calls: list[tuple] = []

    # --- storage ---------------------------------------------------------------
    def _key(self, api_version, kind, name, namespace):
        r = _rdef(api_version, kind)
        return (api_version, kind, namespace if r.namespaced else None, name)

    async def _emit(self, type_: str, key: tuple, obj: dict) -> None:
        self.journal.append((int(obj["metadata"]["resourceVersion"]), type_, key, copy.deepcopy(obj)))
        async with self._changed:
            self._changed.notify_all()

    def _bump(self, obj: dict) -> None:
        self._last_rv = next(self._rv)
        obj["metadata"]["resourceVersion"] = str(self._last_rv)

    async def _store(self, key, obj, type_):
        if type_ != "ADDED" and obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers") \
                and not (obj["kind"] == "Namespace" and (obj.get("spec") or {}).get("finalizers")):
            self.objects.pop(key, None)
            self._bump(obj)
            await self._emit("DELETED", key, obj)
            return obj
        self._bump(obj)
        self.objects[key] = obj
        await self._emit(type_, key, obj)
        return copy.deepcopy(obj)

    # --- Client API ----------------------------------------------------------------
    async def get(self, api_version, kind, name, namespace=None, *, subresource=None):
        key = self._key(api_version, kind, name, namespace)
        obj = self.objects.get(key)
        if obj is None:
            r = _rdef(api_version, kind)
            raise not_found(r.group, r.plural, name)
        return copy.deepcopy(obj)

    async def list(self, api_version, kind, namespace=None, *, label_selector=None, field_selector=None):
        items = [copy.deepcopy(o) for (av, k, ns, _), o in sorted(self.objects.items(), key=lambda kv: str(kv[0]))
                 if av == api_version and k == kind and (namespace is None or ns == namespace)
                 and label_selector_matches(label_selector, o["metadata"].get("labels") or {})
                 and field_selector_matches(field_selector, o)]
        return {"kind": f"{kind}List", "apiVersion": api_version, "metadata": {"resourceVersion": str(self._last_rv)},
                "items": items}

    async def create(self, obj, *, namespace=None, subresource=None, field_manager=None, dry_run=False):
        obj = copy.deepcopy(obj)
        self.calls.append(("create", obj.get("kind"), subresource))
        if subresource == "binding":
            pod = self.objects.get(("v1", "Pod", namespace, obj["metadata"]["name"]))
            if pod is None:
                raise not_found("", "pods", obj["metadata"]["name"])
            if pod["spec"].get("nodeName"):
                raise conflict("", "pods/binding", obj["metadata"]["name"], f"pod {obj['metadata']['name']} is already assigned to node \"{pod['spec']['nodeName']}\"")
            pod["spec"]["nodeName"] = obj["target"]["name"]
            await self._store(("v1", "Pod", namespace, pod["metadata"]["name"]), pod, "MODIFIED")
            return {"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 201}
        meta = obj.setdefault("metadata", {})
        r = _rdef(obj["apiVersion"], obj["kind"])
        if r.namespaced:
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + random_suffix()
        key = self._key(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        if key in self.objects:
            raise already_exists(r.group, r.plural, meta["name"])
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
        if obj["kind"] == "Namespace":
            obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
            obj["status"] = {"phase": "Active"}
        return await self._store(key, obj, "ADDED")

    async def replace(self, obj, *, subresource=None, field_manager=None, dry_run=False):
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        key = self._key(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        self.calls.append(("replace", obj["kind"], meta["name"], subresource))
        cur = self.objects.get(key)
        r = _rdef(obj["apiVersion"], obj["kind"])
        if cur is None:
            raise not_found(r.group, r.plural, meta["name"])
        if meta.get("resourceVersion") and meta["resourceVersion"] != cur["metadata"]["resourceVersion"]:
            raise conflict(r.group, r.plural, meta["name"])
        new = copy.deepcopy(cur)
        if subresource == "status":
            new["status"] = obj.get("status")
        elif subresource == "finalize":
            new.setdefault("spec", {})["finalizers"] = (obj.get("spec") or {}).get("finalizers") or []
        else:
            keep_meta = {k: cur["metadata"][k] for k in ("uid", "creationTimestamp", "generation", "deletionTimestamp") if k in cur["metadata"]}
            new = {**obj, "status": cur.get("status")} if r.has_status() else obj
            new["metadata"] = {**obj["metadata"], **keep_meta}
            if new.get("spec") != cur.get("spec"):
                new["metadata"]["generation"] = cur["metadata"].get("generation", 1) + 1
        return await self._store(key, new, "MODIFIED")

    async def patch(self, api_version, kind, name, patch, namespace=None, *, patch_type="merge", subresource=None,
                    field_manager=None, force=False, dry_run=False):
        cur = await self.get(api_version, kind, name, namespace)
        self.calls.append(("patch", kind, name, subresource))
        merged = _merge(cur, patch)
        merged["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
        merged["metadata"]["uid"] = cur["metadata"]["uid"]
        return await self.replace(merged, subresource=subresource)

    async def delete(self, api_version, kind, name, namespace=None, *, propagation_policy=None,
                     grace_period_seconds=None, preconditions=None, dry_run=False):
        key = self._key(api_version, kind, name, namespace)
        self.calls.append(("delete", kind, name, propagation_policy))
        cur = self.objects.get(key)
        r = _rdef(api_version, kind)
        if cur is None:
            raise not_found(r.group, r.plural, name)
        if preconditions and preconditions.get("uid") and preconditions["uid"] != cur["metadata"]["uid"]:
            raise conflict(r.group, r.plural, name, "Precondition failed: UID in precondition")
        meta = cur["metadata"]
        fins = list(meta.get("finalizers") or [])
        if propagation_policy == "Foreground" and "foregroundDeletion" not in fins:
            fins.append("foregroundDeletion")
        if propagation_policy == "Orphan" and "orphan" not in fins:
            fins.append("orphan")
        if kind == "Namespace":
            cur.setdefault("status", {})["phase"] = "Terminating"
        if fins or (kind == "Namespace" and (cur.get("spec") or {}).get("finalizers")):
            if meta.get("deletionTimestamp") and fins == (meta.get("finalizers") or []):
                return copy.deepcopy(cur)
            meta["finalizers"] = fins
            meta.setdefault("deletionTimestamp", _now())
            return await self._store(key, copy.deepcopy(cur), "MODIFIED")
        self.objects.pop(key)
        self._bump(cur)
        await self._emit("DELETED", key, cur)
        return {"kind": "Status", "apiVersion": "v1", "status": "Success", "details": {"name": name, "uid": meta["uid"]}}

    async def watch(self, api_version, kind, namespace=None, *, resource_version=None, label_selector=None,
                    field_selector=None, allow_bookmarks=False):
        def wanted(key, obj):
            return (key[0] == api_version and key[1] == kind and (namespace is None or key[2] == namespace)
                    and label_selector_matches(label_selector, obj["metadata"].get("labels") or {})
                    and field_selector_matches(field_selector, obj))

        if resource_version in (None, "0", ""):
            lst = await self.list(api_version, kind, namespace, label_selector=label_selector, field_selector=field_selector)
            for o in lst["items"]:
                yield WatchEvent("ADDED", o)
            pos = int(lst["metadata"]["resourceVersion"])
        else:
            pos = int(resource_version)
        while True:
            for rv, type_, key, obj in self.journal:
                if rv > pos:
                    pos = rv
                    if wanted(key, obj):
                        yield WatchEvent(type_, copy.deepcopy(obj))
            async with self._changed:
                if not self.journal or self.journal[-1][0] <= pos:
                    await self._changed.wait()

    async def read_log(self, name, namespace, *, container=None, previous=False, tail_lines=None, timestamps=False):
        return ""

    # --- test helpers -----------------------------------------------------------------
    def find(self, kind: str, namespace: str | None = None) -> list[dict]:
        return [copy.deepcopy(o) for (av, k, ns, _), o in self.objects.items()
                if k == kind and (namespace is None or ns == namespace)]
