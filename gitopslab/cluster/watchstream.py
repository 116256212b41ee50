"""Watches: the event stream of one resource, as kube-apiserver serves it.

``open_watch`` validates the request and subscribes *before* anything is
streamed (so errors are plain HTTP errors and no change is missed), then
``WatchStream.events()`` yields ``(type, Entry)`` pairs:

- resourceVersion unset or "0": synthetic ADDED for the current objects, then live changes;
- ``sendInitialEvents=true``: the same burst, then a BOOKMARK annotated
  ``k8s.io/initial-events-end: "true"``;
- resourceVersion N: the journal's changes after N, then live ones; too old:
  one ERROR event carrying a 410 Expired Status, then the end.

An object that stops (starts) matching the selectors is sent as DELETED
(ADDED), as the watch cache does.
"""
from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator

from gitopslab.cluster import errors as E
from gitopslab.cluster.kinds import ResourceDef
from gitopslab.cluster.registry import Registry
from gitopslab.cluster.store import Change, Entry, dumps

BOOKMARK_INTERVAL = 60.0
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


class WatchStream:
    def __init__(self, registry: Registry, res: ResourceDef, namespace: str | None, labels, fields, *,
                 resource_version: str | None, timeout: float | None, allow_bookmarks: bool,
                 send_initial_events: bool, bookmark_interval: float = BOOKMARK_INTERVAL):
        self.registry = registry
        self.res = res
        self.namespace = namespace if res.namespaced and namespace else None
        self.labels, self.fields = labels, fields
        self.timeout = timeout
        self.allow_bookmarks = allow_bookmarks
        self.bookmark_interval = bookmark_interval
        store = registry.store
        self.sub = store.subscribe(res.storage_key)
        self.last_rv = store.rv
        self.initial: list[Entry] = []
        self.replay: list[Change] = []
        self.expired: str | None = None
        self.send_initial_end = False
        rv = (resource_version or "").strip()
        if send_initial_events or rv in ("", "0"):
            self.initial = [e for e in store.scan(res.storage_key, self.namespace) if self._matches(e.obj)]
            self.send_initial_end = bool(send_initial_events)
        else:
            try:
                start = int(rv)
            except ValueError:
                self.sub.close()
                raise E.bad_request(f"invalid resource version: {rv}") from None
            changes = store.changes_since(res.storage_key, start)
            if changes is None:
                self.expired = f"too old resource version: {start} ({store.oldest_rv(res.storage_key)})"
            else:
                self.replay = changes
                self.last_rv = max(start, changes[-1].rv if changes else start)

    def _matches(self, obj: dict | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata") or {}
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        if not self.labels.empty and not self.labels.matches(meta.get("labels")):
            return False
        if not self.fields.empty and not self.fields.matches(obj):
            return False
        return True

    def _translate(self, change: Change) -> str | None:
        """The event type this watcher sees for ``change`` (None: not for it)."""
        now = self._matches(change.entry.obj)
        if change.type == "ADDED":
            return "ADDED" if now else None
        if change.type == "DELETED":
            return "DELETED" if self._matches(change.prev) or now else None
        before = self._matches(change.prev)
        if now and before:
            return "MODIFIED"
        if now:
            return "ADDED"
        if before:
            return "DELETED"
        return None

    def _bookmark(self, rv: int, initial_end: bool = False) -> Entry:
        meta: dict = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        obj = {"kind": self.res.kind, "apiVersion": self.res.api_version, "metadata": meta}
        return Entry(obj, dumps(obj))

    def close(self) -> None:
        self.sub.close()

    async def events(self) -> AsyncIterator[tuple[str, Entry]]:
        try:
            if self.expired:
                status = E.gone(self.expired).status()
                yield "ERROR", Entry(status, dumps(status))
                return
            served = self.registry.served
            for entry in self.initial:
                yield "ADDED", served(self.res, entry)
            if self.send_initial_end:
                yield "BOOKMARK", self._bookmark(self.last_rv, initial_end=True)
            for change in self.replay:
                kind = self._translate(change)
                if kind:
                    yield kind, served(self.res, change.entry)
            self.initial, self.replay = [], []
            deadline = time.monotonic() + self.timeout if self.timeout else None
            next_bookmark = time.monotonic() + self.bookmark_interval
            queue = self.sub.queue
            while True:
                wait = None
                if deadline is not None:
                    wait = deadline - time.monotonic()
                    if wait <= 0:
                        return
                if self.allow_bookmarks:
                    until_bm = max(0.0, next_bookmark - time.monotonic())
                    wait = until_bm if wait is None else min(wait, until_bm)
                try:
                    if not queue.empty():
                        # a backlog is taken at once: a wait_for (a task) per queued change
                        # lets the watchers of a busy daemon fall seconds behind
                        change = queue.get_nowait()
                    elif wait is not None:
                        change = await asyncio.wait_for(queue.get(), wait)
                    else:
                        change = await queue.get()
                except asyncio.TimeoutError:
                    if self.allow_bookmarks and time.monotonic() >= next_bookmark:
                        next_bookmark = time.monotonic() + self.bookmark_interval
                        yield "BOOKMARK", self._bookmark(self.registry.store.rv)
                    continue
                if change is None:  # store closed or watcher too slow: end, the client re-watches
                    return
                if change.rv <= self.last_rv:
                    continue
                self.last_rv = change.rv
                kind = self._translate(change)
                if kind:
                    yield kind, served(self.res, change.entry)
        finally:
            self.sub.close()


def open_watch(registry: Registry, res: ResourceDef, namespace: str | None = None, *,
               label_selector: str | None = None, field_selector: str | None = None,
               resource_version: str | None = None, timeout: float | None = None,
               allow_bookmarks: bool = False, send_initial_events: bool = False) -> WatchStream:
    if "watch" not in res.verbs:
        raise E.method_not_allowed()
    labels, fields = registry.selectors(res, label_selector, field_selector)
    return WatchStream(registry, res, namespace, labels, fields, resource_version=resource_version,
                       timeout=timeout, allow_bookmarks=allow_bookmarks, send_initial_events=send_initial_events)
