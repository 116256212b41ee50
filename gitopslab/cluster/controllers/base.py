"""What every lab controller shares: shared informers, a work queue, workers, events.

A controller subclasses ``Controller``, declares its watches in ``setup``
(usually ``self.watch(kind, key_fn)``) and implements ``reconcile(key)``.
Reconciles read the object they reconcile fresh through the API. What it
owns may come from the shared informer cache (``index_by_controller``, then
``controlled_by`` and ``orphans_in``), as upstream controllers read their
listers: writes made from a cache that lags fail on resourceVersion or name
conflicts, and a controller that creates objects with generated names guards
against a lagging cache with ``expectations``.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from gitopslab.cluster.client import Client
from gitopslab.cluster.context import DaemonContext
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.events import EventRecorder
from gitopslab.cluster.informer import Informer, SharedInformers, WorkQueue, object_key, run_workers

log = logging.getLogger(__name__)

KeyFn = Callable[[dict], "str | list[str] | None"]


class Controller:
    name = "controller"
    component = "controller-manager"
    workers = 1

    def __init__(self, ctx: DaemonContext, informers: SharedInformers, *, recorder: EventRecorder | None = None):
        self.ctx = ctx
        self.client: Client = ctx.client
        self.clock = ctx.clock
        self.informers = informers
        self.queue = WorkQueue()
        self.recorder = recorder or EventRecorder(ctx.client, self.component)

    # --- wiring -------------------------------------------------------------
    def setup(self) -> None:
        """Register watches; called before the informers start."""

    def watch(self, api_version: str, kind: str, key_fn: KeyFn | None = None) -> Informer:
        """Enqueue ``key_fn(obj)`` (default: the object's own key) on every change of ``kind``."""
        inf = self.informers.get(api_version, kind)
        fn = key_fn or object_key

        def enqueue(obj: dict) -> None:
            keys = fn(obj)
            for k in ([keys] if isinstance(keys, str) else keys or []):
                if k:
                    self.queue.add(k)

        def on_update(old: dict, new: dict) -> None:
            # a label or owner change can move an object between parents: tell both
            if old is not new and fn is not object_key:
                enqueue(old)
            enqueue(new)

        inf.add_handler(on_add=enqueue, on_update=on_update, on_delete=enqueue)
        return inf

    async def start(self) -> None:
        """Runs once after the caches synced, before the workers (seed objects here)."""

    async def run(self) -> None:
        try:
            await self.start()
        except ApiError as e:
            log.warning("%s start: %s", self.name, e)
        await run_workers(self.queue, self.reconcile, workers=self.workers, name=self.name)

    async def reconcile(self, key: str) -> None:
        raise NotImplementedError

    # --- helpers ------------------------------------------------------------
    def requeue_after(self, key: str, lab_seconds: float) -> None:
        """Reconcile ``key`` again after ``lab_seconds`` of lab time."""
        self.queue.add_after(key, self.clock.delay(lab_seconds))

    async def get_or_none(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        obj = await self.client.get_or_none(api_version, kind, name, namespace)
        if obj is not None:
            obj.setdefault("apiVersion", api_version)
            obj.setdefault("kind", kind)
        return obj

    async def list_items(self, api_version: str, kind: str, namespace: str | None = None, **kw) -> list[dict]:
        lst = await self.client.list(api_version, kind, namespace, **kw)
        items = lst.get("items") or []
        for o in items:
            o.setdefault("apiVersion", api_version)
            o.setdefault("kind", kind)
        return items

    async def delete_quietly(self, api_version: str, kind: str, name: str, namespace: str | None = None, **kw) -> bool:
        try:
            await self.client.delete(api_version, kind, name, namespace, **kw)
            return True
        except ApiError as e:
            if e.code == 404:
                return False
            raise


CONTROLLER_UID_INDEX = "controller-uid"
ORPHANS_INDEX = "orphans-by-namespace"


def _controller_ref(obj: dict) -> dict | None:
    return next((r for r in (obj.get("metadata") or {}).get("ownerReferences") or [] if r.get("controller")), None)


def _controller_uid(obj: dict) -> list[str]:
    ref = _controller_ref(obj)
    return [ref["uid"]] if ref and ref.get("uid") else []


def _orphan_namespace(obj: dict) -> list[str]:
    ns = (obj.get("metadata") or {}).get("namespace")
    return [ns] if ns and _controller_ref(obj) is None else []


def index_by_controller(inf: Informer) -> Informer:
    """Index a shared informer by controller uid and by the namespace of objects without a controller."""
    inf.add_index(CONTROLLER_UID_INDEX, _controller_uid)
    inf.add_index(ORPHANS_INDEX, _orphan_namespace)
    return inf


def controlled_by(inf: Informer, owner: dict) -> list[dict]:
    """Cached objects whose controller is ``owner`` (shared with other controllers: read-only)."""
    return inf.by_index(CONTROLLER_UID_INDEX, (owner.get("metadata") or {}).get("uid") or "")


def orphans_in(inf: Informer, namespace: str) -> list[dict]:
    """Cached objects of ``namespace`` without a controller (read-only)."""
    return inf.by_index(ORPHANS_INDEX, namespace)


def owner_key(kind: str) -> KeyFn:
    """Key of the controlling owner of the given kind (for pods -> their ReplicaSet…)."""

    def fn(obj: dict) -> str | None:
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
            if ref.get("controller") and ref.get("kind") == kind:
                ns = (obj.get("metadata") or {}).get("namespace")
                return f"{ns}/{ref['name']}" if ns else ref["name"]
        return None

    return fn


async def gather_forever(*coros) -> None:
    """Run coroutines concurrently; cancelling this cancels them all."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
