"""Live state cache: watched kinds of one destination cluster (Argo CD's cluster cache, lab-sized).

A kind is watched (list + watch through the cluster's API client) once an
application targets it or lists it in ``status.resources``. Every change
calls ``on_change(obj)`` so the controller can refresh the owning app at once
(drift is seen without waiting for the reconciliation period).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from gitopslab.cluster.informer import Informer

log = logging.getLogger(__name__)


class LiveState:
    def __init__(self, client, on_change: Callable[[dict], None]):
        self.client = client
        self.on_change = on_change
        self._informers: dict[tuple[str, str], Informer] = {}
        self._tasks: list[asyncio.Task] = []

    async def ensure_watched(self, kinds: set[tuple[str, str]], timeout: float = 10.0) -> None:
        """Start informers for (apiVersion, kind) pairs not yet watched; wait for their first list."""
        new = []
        for api_version, kind in kinds:
            if (api_version, kind) in self._informers or not kind:
                continue
            informer = Informer(self.client, api_version, kind)
            informer.add_handler(on_add=self.on_change, on_update=lambda old, new_: self.on_change(new_),
                                 on_delete=self.on_change)
            self._informers[(api_version, kind)] = informer
            self._tasks.append(asyncio.create_task(informer.run(), name=f"argocd-live-{kind}"))
            new.append(informer)
        for informer in new:
            try:
                await asyncio.wait_for(informer.wait_synced(), timeout)
            except asyncio.TimeoutError:
                log.warning("live state: %s not synced after %ss", informer, timeout)

    def objects(self, kinds: set[tuple[str, str]]) -> list[dict]:
        out = []
        for key in kinds:
            informer = self._informers.get(key)
            if informer is not None:
                out += informer.items()
        return out

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict | None:
        informer = self._informers.get((api_version, kind))
        if informer is None:
            return None
        return informer.get(f"{namespace}/{name}" if namespace else name)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()
        self._informers.clear()
