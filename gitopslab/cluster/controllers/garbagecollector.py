"""Garbage collector through ownerReferences (``pkg/controller/garbagecollector``).

- background: a dependent whose owners are all gone is deleted; a dependent
  that keeps some owners loses the dangling references;
- foreground: an owner carrying the ``foregroundDeletion`` finalizer has its
  dependents deleted (in foreground too); the finalizer is removed once no
  dependent with ``blockOwnerDeletion: true`` remains;
- orphan: an owner carrying the ``orphan`` finalizer has its ownerReference
  removed from every dependent, then the finalizer removed.

Objects are watched through the shared informers for every built-in kind
(Events excluded) and every custom resource; an owner's absence is always
confirmed through the API (by name and uid) before a dependent is deleted.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from gitopslab.cluster.controllers.base import Controller
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import Informer
from gitopslab.cluster.kinds import KindRegistry

log = logging.getLogger(__name__)

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
SKIP_KINDS = {"Event", "Binding"}
RESCAN_SECONDS = 60.0  # lab seconds between full consistency scans


@dataclass(frozen=True)
class Ident:
    api_version: str
    kind: str
    namespace: str | None
    name: str

    def key(self) -> str:
        return f"{self.api_version}|{self.kind}|{self.namespace or ''}|{self.name}"

    @classmethod
    def parse(cls, key: str) -> "Ident":
        av, kind, ns, name = key.split("|", 3)
        return cls(av, kind, ns or None, name)

    @classmethod
    def of(cls, obj: dict) -> "Ident":
        m = obj.get("metadata") or {}
        return cls(obj.get("apiVersion", ""), obj.get("kind", ""), m.get("namespace"), m.get("name", ""))


def classify_owner(ref: dict, owner: dict | None) -> str:
    """``absent`` (gone or replaced by a new uid), ``foreground`` (being deleted in foreground) or ``present``."""
    if owner is None or (owner.get("metadata") or {}).get("uid") != ref.get("uid"):
        return "absent"
    m = owner.get("metadata") or {}
    if m.get("deletionTimestamp") and FOREGROUND in (m.get("finalizers") or []):
        return "foreground"
    return "present"


def dependent_action(refs: list[dict], states: list[str]) -> tuple[str, list[dict]]:
    """What to do with a dependent given its owners' states: (action, refs to keep).

    ``delete`` (background), ``delete-foreground``, ``patch`` (drop dangling refs) or ``none``.
    """
    if not refs:
        return "none", refs
    absent = [r for r, s in zip(refs, states) if s == "absent"]
    alive = [r for r, s in zip(refs, states) if s != "absent"]
    if not alive:
        return "delete", []
    waiting = [r for r, s in zip(refs, states) if s == "foreground"]
    if len(waiting) == len(alive):
        blocking = any(r.get("blockOwnerDeletion") for r in waiting)
        return ("delete-foreground" if blocking else "delete"), alive
    if absent:
        return "patch", alive
    return "none", refs


class GarbageCollector(Controller):
    name = "garbage-collector"
    component = "garbage-collector-controller"
    workers = 2

    def setup(self) -> None:
        self.registry = KindRegistry()
        self.by_uid: dict[str, Ident] = {}
        self.watched: list[Informer] = []
        for r in self.registry.all():
            if r.kind not in SKIP_KINDS and "list" in r.verbs and "watch" in r.verbs:
                self._watch_kind(r.api_version, r.kind)
        crds = self.informers.get("apiextensions.k8s.io/v1", "CustomResourceDefinition")
        crds.add_handler(on_add=self._crd_added, on_update=lambda old, new: self._crd_added(new))

    def _crd_added(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        for v in spec.get("versions") or []:
            if v.get("served", True) and v.get("storage", True):
                self._watch_kind(f"{spec.get('group')}/{v['name']}", (spec.get("names") or {}).get("kind", ""))

    def _watch_kind(self, api_version: str, kind: str) -> None:
        inf = self.informers.get(api_version, kind)
        if inf in self.watched:
            return
        self.watched.append(inf)
        inf.add_handler(on_add=self._on_upsert, on_update=lambda old, new: self._on_upsert(new),
                        on_delete=self._on_delete)

    # --- event handlers -----------------------------------------------------------
    def _on_upsert(self, obj: dict) -> None:
        m = obj.get("metadata") or {}
        ident = Ident.of(obj)
        if m.get("uid"):
            self.by_uid[m["uid"]] = ident
        if m.get("deletionTimestamp") and {FOREGROUND, ORPHAN} & set(m.get("finalizers") or []):
            self.queue.add("owner:" + ident.key())
            self._enqueue_dependents(m.get("uid"))
        for ref in m.get("ownerReferences") or []:
            if ref.get("uid") not in self.by_uid:
                self.queue.add("dep:" + ident.key())
                break

    def _on_delete(self, obj: dict) -> None:
        m = obj.get("metadata") or {}
        self.by_uid.pop(m.get("uid"), None)
        self._enqueue_dependents(m.get("uid"))
        for ref in m.get("ownerReferences") or []:
            owner = self.by_uid.get(ref.get("uid"))
            if owner is not None:  # a foreground owner may now be free to go
                self.queue.add("owner:" + owner.key())

    def _enqueue_dependents(self, uid: str | None) -> None:
        if not uid:
            return
        for dep in self._dependents(uid):
            self.queue.add("dep:" + Ident.of(dep).key())

    def _dependents(self, uid: str) -> list[dict]:
        return [o for inf in self.watched for o in list(inf.cache.values())
                if any(r.get("uid") == uid for r in (o.get("metadata") or {}).get("ownerReferences") or [])]

    async def start(self) -> None:
        for inf in self.watched:
            for obj in list(inf.cache.values()):
                refs = (obj.get("metadata") or {}).get("ownerReferences") or []
                if any(r.get("uid") not in self.by_uid for r in refs):
                    self.queue.add("dep:" + Ident.of(obj).key())
        self.queue.add_after("rescan", self.clock.delay(RESCAN_SECONDS))

    # --- reconcile ---------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        if key == "rescan":
            await self.start()
            return
        kind, _, rest = key.partition(":")
        ident = Ident.parse(rest)
        if kind == "dep":
            await self._check_dependent(ident)
        else:
            await self._process_owner(ident)

    async def _get(self, ident: Ident) -> dict | None:
        try:
            return await self.get_or_none(ident.api_version, ident.kind, ident.name, ident.namespace)
        except ApiError as e:
            if e.code == 404:
                return None
            raise

    async def _owner_of(self, ref: dict, namespace: str | None) -> dict | None:
        rdef = self.registry.by_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
        known = self.by_uid.get(ref.get("uid"))
        if rdef is None and known is None:
            ns = namespace  # a custom resource: namespaced like its dependent, else cluster-scoped
            owner = await self._get(Ident(ref.get("apiVersion", ""), ref.get("kind", ""), ns, ref.get("name", "")))
            if owner is None and ns:
                owner = await self._get(Ident(ref.get("apiVersion", ""), ref.get("kind", ""), None, ref.get("name", "")))
            return owner
        ns = namespace if (rdef is None or rdef.namespaced) else None
        return await self._get(Ident(ref.get("apiVersion", ""), ref.get("kind", ""), ns, ref.get("name", "")))

    async def _check_dependent(self, ident: Ident) -> None:
        obj = await self._get(ident)
        if obj is None:
            return
        m = obj["metadata"]
        refs = m.get("ownerReferences") or []
        states = [classify_owner(r, await self._owner_of(r, m.get("namespace"))) for r in refs]
        action, keep = dependent_action(refs, states)
        if action == "none":
            return
        if action == "patch":
            await self.client.patch(ident.api_version, ident.kind, ident.name,
                                    {"metadata": {"ownerReferences": keep, "resourceVersion": m.get("resourceVersion")}},
                                    ident.namespace, patch_type="merge")
            return
        if m.get("deletionTimestamp"):
            return
        policy = "Foreground" if action == "delete-foreground" else "Background"
        try:
            await self.client.delete(ident.api_version, ident.kind, ident.name, ident.namespace,
                                     propagation_policy=policy, preconditions={"uid": m.get("uid")})
        except ApiError as e:
            if e.code not in (404, 409):
                raise

    async def _process_owner(self, ident: Ident) -> None:
        owner = await self._get(ident)
        if owner is None or not owner["metadata"].get("deletionTimestamp"):
            return
        m = owner["metadata"]
        fins = m.get("finalizers") or []
        uid = m.get("uid")
        if ORPHAN in fins:
            for dep in self._dependents(uid):
                await self._drop_ref(dep, uid)
            await self._remove_finalizer(owner, ORPHAN)
            return
        if FOREGROUND in fins:
            live = await self._live_dependents(uid)
            for dep in live:
                if not dep["metadata"].get("deletionTimestamp"):
                    self.queue.add("dep:" + Ident.of(dep).key())
            blocking = [d for d in live if any(r.get("uid") == uid and r.get("blockOwnerDeletion")
                                                for r in d["metadata"].get("ownerReferences") or [])]
            if not blocking:
                await self._remove_finalizer(owner, FOREGROUND)
            else:
                self.queue.add_after("owner:" + ident.key(), 0.5)

    async def _live_dependents(self, uid: str) -> list[dict]:
        out = []
        for dep in self._dependents(uid):
            fresh = await self._get(Ident.of(dep))
            if fresh is not None and any(r.get("uid") == uid for r in fresh["metadata"].get("ownerReferences") or []):
                out.append(fresh)
        return out

    async def _drop_ref(self, dep: dict, uid: str) -> None:
        ident = Ident.of(dep)
        fresh = await self._get(ident)
        if fresh is None:
            return
        refs = [r for r in fresh["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
        await self.client.patch(ident.api_version, ident.kind, ident.name,
                                {"metadata": {"ownerReferences": refs or None,
                                              "resourceVersion": fresh["metadata"].get("resourceVersion")}},
                                ident.namespace, patch_type="merge")

    async def _remove_finalizer(self, owner: dict, finalizer: str) -> None:
        ident = Ident.of(owner)
        fins = [f for f in owner["metadata"].get("finalizers") or [] if f != finalizer]
        await self.client.patch(ident.api_version, ident.kind, ident.name,
                                {"metadata": {"finalizers": fins or None,
                                              "resourceVersion": owner["metadata"].get("resourceVersion")}},
                                ident.namespace, patch_type="merge")
