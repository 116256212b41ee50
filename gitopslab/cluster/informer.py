"""Shared informers and work queues for the lab's controllers (client-go style).

An ``Informer`` lists then watches one kind through a ``Client``, keeps an
in-memory cache keyed ``namespace/name`` (or ``name`` for cluster-scoped
objects) and calls handlers on add, update and delete. When the watch ends it
resumes from the last seen resourceVersion; when that version has expired
(ERROR 410 Expired) it lists again and replays the difference as events.

Indexes (client-go's ``Indexers``) answer "which cached objects have this
value" without scanning the cache: ``add_index(name, fn)`` with ``fn(obj)``
giving the object's values; ``by_index(name, value)``. Every informer keeps
a ``namespace`` index, so ``items(namespace)`` costs what the namespace holds.

A ``WorkQueue`` holds keys to reconcile: a key queued twice before a worker
takes it is processed once; a key re-added while being processed is queued
again once the worker calls ``done``; ``add_after`` delays a key (lab clock
already applied by the caller) and ``add_rate_limited`` delays it by a
per-key exponential back-off (5 ms doubling up to 1000 s, as client-go's
default controller rate limiter) until ``forget`` resets it.

Typical use::

    pods = Informer(client, "v1", "Pod")
    queue = WorkQueue()
    pods.add_handler(on_add=lambda o: queue.add(object_key(o)),
                     on_update=lambda old, new: queue.add(object_key(new)),
                     on_delete=lambda o: queue.add(object_key(o)))
    asyncio.create_task(pods.run())
    await pods.wait_synced()
    await run_workers(queue, reconcile, workers=2)
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable

from gitopslab.cluster.client import Client
from gitopslab.cluster.errors import ApiError

log = logging.getLogger(__name__)

AddHandler = Callable[[dict], None]
UpdateHandler = Callable[[dict, dict], None]
DeleteHandler = Callable[[dict], None]
IndexFn = Callable[[dict], Iterable[str]]


def object_key(obj: dict) -> str:
    """``namespace/name`` for namespaced objects, ``name`` otherwise."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name', '')}" if ns else meta.get("name", "")


NAMESPACE_INDEX = "namespace"


def namespace_index(obj: dict) -> list[str]:
    ns = (obj.get("metadata") or {}).get("namespace")
    return [ns] if ns else []


def split_key(key: str) -> tuple[str | None, str]:
    ns, sep, name = key.partition("/")
    return (ns, name) if sep else (None, ns)


@dataclass
class _Handlers:
    on_add: AddHandler | None = None
    on_update: UpdateHandler | None = None
    on_delete: DeleteHandler | None = None


class Informer:
    """List+watch cache of one kind, with event handlers.

    ``resync_seconds`` (real seconds, the caller scales it) replays every
    cached object as an update periodically, as client-go's resync does.
    """

    def __init__(self, client: Client, api_version: str, kind: str, namespace: str | None = None, *,
                 label_selector: str | None = None, field_selector: str | None = None,
                 resync_seconds: float | None = None, retry_seconds: float = 1.0):
        self.client = client
        self.api_version = api_version
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_seconds = resync_seconds
        self.retry_seconds = retry_seconds
        self.cache: dict[str, dict] = {}
        self._indexers: dict[str, IndexFn] = {}
        self._indices: dict[str, dict[str, dict[str, None]]] = {}
        self._handlers: list[_Handlers] = []
        self._synced = asyncio.Event()
        self._rv: str | None = None
        self.add_index(NAMESPACE_INDEX, namespace_index)

    # --- public API -------------------------------------------------------
    def add_handler(self, on_add: AddHandler | None = None, on_update: UpdateHandler | None = None,
                    on_delete: DeleteHandler | None = None) -> None:
        self._handlers.append(_Handlers(on_add, on_update, on_delete))

    def get(self, key: str) -> dict | None:
        return self.cache.get(key)

    def items(self, namespace: str | None = None) -> list[dict]:
        if namespace is None:
            return list(self.cache.values())
        return self.by_index(NAMESPACE_INDEX, namespace)

    def add_index(self, name: str, fn: IndexFn) -> None:
        """Index the cache by ``fn(obj)`` (a list of values); a name already taken keeps its first function."""
        if name in self._indexers:
            return
        self._indexers[name] = fn
        self._indices[name] = {}
        for key, obj in self.cache.items():
            self._index(name, key, obj)

    def by_index(self, name: str, value: str) -> list[dict]:
        """The cached objects whose index ``name`` holds ``value`` (shared: do not modify them)."""
        keys = self._indices[name].get(value) or ()
        return [self.cache[k] for k in keys]

    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_synced(self) -> None:
        await self._synced.wait()

    async def run(self) -> None:
        """List and watch forever (until cancelled)."""
        resync = asyncio.create_task(self._resync_loop()) if self.resync_seconds else None
        try:
            while True:
                try:
                    if self._rv is None:
                        await self._relist()
                    await self._watch()
                except asyncio.CancelledError:
                    raise
                except ApiError as e:
                    log.warning("%s informer: %s", self.kind, e)
                    if e.code == 410:
                        self._rv = None
                    await asyncio.sleep(self.retry_seconds)
                except Exception:  # noqa: BLE001 - keep the daemon serving
                    log.exception("%s informer failed; relisting", self.kind)
                    self._rv = None
                    await asyncio.sleep(self.retry_seconds)
        finally:
            if resync:
                resync.cancel()

    # --- cache and indexes --------------------------------------------------
    # An index maps a value to the keys holding it, in a dict used as an ordered
    # set: ``by_index`` answers in the order objects entered the index, as the
    # cache itself does.
    def _index(self, name: str, key: str, obj: dict) -> None:
        index = self._indices[name]
        for value in self._indexers[name](obj) or ():
            index.setdefault(value, {})[key] = None

    def _reindex(self, name: str, key: str, old: dict | None, new: dict | None) -> None:
        fn, index = self._indexers[name], self._indices[name]
        before = set(fn(old) or ()) if old is not None else set()
        after = set(fn(new) or ()) if new is not None else set()
        for value in before - after:
            keys = index.get(value)
            if keys is not None:
                keys.pop(key, None)
                if not keys:
                    del index[value]
        for value in after - before:
            index.setdefault(value, {})[key] = None

    def _store(self, key: str, obj: dict) -> None:
        old = self.cache.get(key)
        for name in self._indexers:
            self._reindex(name, key, old, obj)
        self.cache[key] = obj

    def _drop(self, key: str) -> dict | None:
        old = self.cache.pop(key, None)
        if old is not None:
            for name in self._indexers:
                self._reindex(name, key, old, None)
        return old

    # --- internals --------------------------------------------------------
    async def _relist(self) -> None:
        lst = await self.client.list(self.api_version, self.kind, self.namespace,
                                     label_selector=self.label_selector, field_selector=self.field_selector)
        fresh = {object_key(o): self._with_kind(o) for o in lst.get("items") or []}
        for key, old in list(self.cache.items()):
            if key not in fresh:
                self._drop(key)
                self._dispatch("DELETED", old, None)
        for key, obj in fresh.items():
            old = self.cache.get(key)
            self._store(key, obj)
            if old is None:
                self._dispatch("ADDED", obj, None)
            elif _rv_of(old) != _rv_of(obj):
                self._dispatch("MODIFIED", obj, old)
        self._rv = (lst.get("metadata") or {}).get("resourceVersion") or "0"
        self._synced.set()

    async def _watch(self) -> None:
        stream = self.client.watch(self.api_version, self.kind, self.namespace, resource_version=self._rv,
                                   label_selector=self.label_selector, field_selector=self.field_selector,
                                   allow_bookmarks=True)
        async for ev in stream:
            if ev.type == "ERROR":
                code = (ev.object or {}).get("code")
                if code == 410:
                    self._rv = None
                    return
                raise ApiError(code or 500, (ev.object or {}).get("reason", "InternalError"),
                               (ev.object or {}).get("message", "watch error"))
            rv = _rv_of(ev.object)
            if rv:
                self._rv = rv
            if ev.type == "BOOKMARK":
                continue
            self._apply(ev.type, self._with_kind(ev.object))

    def _apply(self, type_: str, obj: dict) -> None:
        key = object_key(obj)
        old = self.cache.get(key)
        if type_ == "DELETED":
            self._drop(key)
            self._dispatch("DELETED", old or obj, None)
            return
        self._store(key, obj)
        self._dispatch("ADDED" if old is None else "MODIFIED", obj, old)

    def _dispatch(self, type_: str, obj: dict, old: dict | None) -> None:
        for h in self._handlers:
            try:
                if type_ == "ADDED" and h.on_add:
                    h.on_add(obj)
                elif type_ == "MODIFIED" and h.on_update:
                    h.on_update(old or obj, obj)
                elif type_ == "DELETED" and h.on_delete:
                    h.on_delete(obj)
            except Exception:  # noqa: BLE001 - a faulty handler must not stop the informer
                log.exception("%s informer handler failed", self.kind)

    def _with_kind(self, obj: dict) -> dict:
        obj.setdefault("kind", self.kind)
        obj.setdefault("apiVersion", self.api_version)
        return obj

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_seconds)
            for obj in list(self.cache.values()):
                self._dispatch("MODIFIED", obj, obj)


def _rv_of(obj: dict | None) -> str | None:
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")


class WorkQueue:
    """Keys to reconcile, deduplicated, with delayed and rate-limited re-adds."""

    def __init__(self, *, base_delay: float = 0.005, max_delay: float = 1000.0):
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._failures: dict[str, int] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self.base_delay = base_delay
        self.max_delay = max_delay

    def __len__(self) -> int:
        return len(self._dirty)

    def add(self, key: str) -> None:
        if key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.put_nowait(key)

    def add_after(self, key: str, delay: float) -> None:
        """Queue ``key`` after ``delay`` seconds; an earlier pending timer wins."""
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        when = loop.time() + delay
        timer = self._timers.get(key)
        if timer is not None and not timer.cancelled() and timer.when() <= when:
            return
        if timer is not None:
            timer.cancel()
        self._timers[key] = loop.call_at(when, self._fire, key)

    def _fire(self, key: str) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: str) -> None:
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        self.add_after(key, min(self.base_delay * (2 ** n), self.max_delay))

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: str) -> int:
        return self._failures.get(key, 0)

    async def get(self) -> str:
        key = await self._queue.get()
        self._dirty.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: str) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.put_nowait(key)

    def shutdown(self) -> None:
        for t in self._timers.values():
            t.cancel()
        self._timers.clear()


Reconcile = Callable[[str], Awaitable[None]]


async def run_workers(queue: WorkQueue, reconcile: Reconcile, *, workers: int = 1, name: str = "controller") -> None:
    """Process keys forever with ``workers`` concurrent tasks.

    A reconcile that raises is retried with the queue's rate limiter; one that
    returns normally resets the key's back-off. Errors are logged, never
    propagated: a controller keeps serving whatever it is given.
    """

    async def worker() -> None:
        while True:
            key = await queue.get()
            try:
                await reconcile(key)
                queue.forget(key)
            except asyncio.CancelledError:
                raise
            except ApiError as e:
                if e.code != 409:  # conflicts are routine: a fresher object is on its way
                    log.info("%s: %s: %s", name, key, e)
                queue.add_rate_limited(key)
            except Exception:  # noqa: BLE001
                log.exception("%s: reconcile of %s failed", name, key)
                queue.add_rate_limited(key)
            finally:
                queue.done(key)
            # in-process API calls never suspend, nor does a get from a non-empty queue: without
            # this a worker would run its whole backlog in one step and starve the API server
            await asyncio.sleep(0)

    tasks = [asyncio.create_task(worker(), name=f"{name}-worker-{i}") for i in range(workers)]
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        queue.shutdown()


def enqueue_all(queue: WorkQueue, objs: Iterable[dict]) -> None:
    for o in objs:
        queue.add(object_key(o))


class SharedInformers:
    """One cluster-wide informer per kind, shared by every controller of the daemon."""

    def __init__(self, client: Client, *, resync_seconds: float | None = None):
        self.client = client
        self.resync_seconds = resync_seconds
        self._informers: dict[tuple[str, str], Informer] = {}
        self._tasks: list[asyncio.Task] = []
        self._started = False

    def get(self, api_version: str, kind: str) -> Informer:
        key = (api_version, kind)
        inf = self._informers.get(key)
        if inf is None:
            inf = Informer(self.client, api_version, kind, resync_seconds=self.resync_seconds)
            self._informers[key] = inf
            if self._started:  # a latecomer starts at once
                self._tasks.append(asyncio.create_task(inf.run(), name=f"informer-{kind}"))
        return inf

    def start(self) -> None:
        self._started = True
        for (_, kind), inf in self._informers.items():
            self._tasks.append(asyncio.create_task(inf.run(), name=f"informer-{kind}"))

    async def wait_synced(self) -> None:
        await asyncio.gather(*(inf.wait_synced() for inf in self._informers.values()))

    def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        self._tasks.clear()
        self._started = False
