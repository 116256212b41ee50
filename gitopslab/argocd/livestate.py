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


PROBE_TIMEOUT_SECONDS = 10.0


class LiveStateError(Exception):
    """The cluster cache could not load a kind (Argo CD's ``failed to sync cluster`` error)."""


class LiveState:
    def __init__(self, client, on_change: Callable[[dict], None], server: str = ""):
        self.client = client
        self.server = server
        self.on_change = on_change
        self._informers: dict[tuple[str, str], Informer] = {}
        self._last_seen: dict[tuple[str, str], str | None] = {}   # last resourceVersion an event carried
        self._tasks: list[asyncio.Task] = []

    async def ensure_watched(self, kinds: set[tuple[str, str]], timeout: float = 10.0) -> None:
        """Start informers for (apiVersion, kind) pairs not yet watched; wait for their first list."""
        new = []
        for api_version, kind in kinds:
            if (api_version, kind) in self._informers or not kind:
                continue
            await self._probe(api_version, kind)
            informer = Informer(self.client, api_version, kind)
            seen = self._recorder((api_version, kind))
            informer.add_handler(on_add=seen, on_update=lambda old, new_: seen(new_), on_delete=seen)
            self._informers[(api_version, kind)] = informer
            self._tasks.append(asyncio.create_task(informer.run(), name=f"argocd-live-{kind}"))
            new.append(informer)
        for informer in new:
            try:
                await asyncio.wait_for(informer.wait_synced(), timeout)
            except asyncio.TimeoutError:
                log.warning("live state: %s not synced after %ss", informer, timeout)

    def _recorder(self, key: tuple[str, str]) -> Callable[[dict], None]:
        """An event handler noting the last resourceVersion seen for the kind, then ``on_change``."""
        def seen(obj: dict) -> None:
            self._last_seen[key] = (obj.get("metadata") or {}).get("resourceVersion") or self._last_seen.get(key)
            self.on_change(obj)
        return seen

    async def _probe(self, api_version: str, kind: str) -> None:
        """One list before starting an informer: an unreachable cluster fails the refresh, not silently."""
        from gitopslab.cluster.errors import ApiError

        try:
            import inspect
            kwargs = {"limit": 1} if "limit" in inspect.signature(self.client.list).parameters else {}
            await asyncio.wait_for(self.client.list(api_version, kind, **kwargs), PROBE_TIMEOUT_SECONDS)
        except ApiError as e:
            if e.code == 404:
                return  # a kind the cluster does not serve: nothing live
            raise LiveStateError(self._sync_error(kind, api_version, e.message)) from None
        except Exception as e:  # noqa: BLE001 — connection errors of any client
            raise LiveStateError(self._sync_error(kind, api_version, _connection_text(e, self.server))) from None

    def _sync_error(self, kind: str, api_version: str, text: str) -> str:
        group = api_version.split("/", 1)[0] if "/" in api_version else ""
        return (f'failed to get cluster info for "{self.server}": error synchronizing cache state : '
                f"failed to sync cluster {self.server}: failed to load initial state of resource "
                f"{kind}{'.' + group if group else ''}: {text}")

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

    async def wait_seen(self, written: dict[tuple, str | None], timeout: float) -> bool:
        """Wait until the cache reflects writes: ``(apiVersion, kind, namespace, name) -> resourceVersion``,
        ``None`` for a deletion. False after ``timeout`` real seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pending = dict(written)
        while True:
            pending = {key: rv for key, rv in pending.items() if not self._reflects(key, rv)}
            if not pending or loop.time() >= deadline:
                return not pending
            await asyncio.sleep(0.01)

    def _reflects(self, key: tuple, resource_version: str | None) -> bool:
        api_version, kind, namespace, name = key
        if (api_version, kind) not in self._informers:
            return True  # a kind nobody watches yet is listed fresh when first needed
        cached = self.get(api_version, kind, namespace, name)
        if resource_version is None:
            return cached is None
        if cached is not None and _not_older(cached["metadata"].get("resourceVersion"), resource_version):
            return True
        # gone since (a hook deleted by its policy): the watch has passed the write all the same
        return _not_older(self._last_seen.get((api_version, kind)), resource_version)

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


def _not_older(cached: str | None, written: str) -> bool:
    """resourceVersions are opaque for clients; the lab cluster's are integers, compared as such."""
    try:
        return int(cached or 0) >= int(written)
    except ValueError:
        return cached == written


def _connection_text(error: Exception, server: str) -> str:
    from urllib.parse import urlparse

    text = str(error) or type(error).__name__
    if isinstance(error, asyncio.TimeoutError):
        return "context deadline exceeded"
    if "connect" in text.lower() or isinstance(error, OSError):
        host = urlparse(server).netloc
        return f"dial tcp {host}: connect: connection refused"
    return text
