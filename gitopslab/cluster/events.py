"""Event recording for the lab's components, as client-go's recorders do it.

``EventRecorder(client, component, host)`` writes core/v1 Events named
``<object>.<hex unixnano>`` in the object's namespace (``default`` for
cluster-scoped objects). Like client-go's ``EventCorrelator``:

- a repeat of an event (same source, object, type, reason and message)
  bumps ``count`` and ``lastTimestamp`` of the first one instead of creating
  another;
- when one object gets 10 or more events in 10 minutes that differ only by
  message, the next ones are folded into a single event whose message is
  prefixed ``(combined from similar events): ``.

With ``new_api=True`` the recorder behaves like the events.k8s.io/v1
recorder the scheduler uses: ``eventTime`` set, ``firstTimestamp`` and
``lastTimestamp`` null, ``reportingController``/``reportingInstance`` set,
empty ``source``, and repeats tracked in ``series``.

Recording never raises: an event that cannot be written is logged and
dropped, as in the real cluster.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from gitopslab.cluster.client import Client

log = logging.getLogger(__name__)

AGGREGATE_MAX_EVENTS = 10
AGGREGATE_WINDOW_SECONDS = 600.0
COMBINED_PREFIX = "(combined from similar events): "


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def object_reference(obj: dict, field_path: str | None = None) -> dict:
    meta = obj.get("metadata") or {}
    ref = {"kind": obj.get("kind", ""), "apiVersion": obj.get("apiVersion", "")}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    ref["name"] = meta.get("name", "")
    if meta.get("uid"):
        ref["uid"] = meta["uid"]
    if meta.get("resourceVersion"):
        ref["resourceVersion"] = meta["resourceVersion"]
    if field_path:
        ref["fieldPath"] = field_path
    return ref


@dataclass
class _Seen:
    name: str
    namespace: str
    count: int
    first: float


class EventRecorder:
    def __init__(self, client: Client, component: str, host: str | None = None, *, new_api: bool = False):
        self.client = client
        self.component = component
        self.host = host
        self.new_api = new_api
        self._seen: dict[tuple, _Seen] = {}
        self._similar: dict[tuple, list[tuple[float, str]]] = {}

    async def event(self, obj: dict, type: str, reason: str, message: str, *,
                    field_path: str | None = None, action: str | None = None) -> dict | None:
        try:
            return await self._record(obj, type, reason, message, field_path, action)
        except Exception as e:  # noqa: BLE001 - events are best effort
            log.info("event %s for %s dropped: %s", reason, (obj.get("metadata") or {}).get("name"), e)
            return None

    # --- correlation ------------------------------------------------------
    def _aggregate(self, ref: dict, type_: str, reason: str, message: str) -> str:
        """The message to record, folded as client-go's EventAggregator does."""
        key = (ref.get("kind"), ref.get("namespace"), ref.get("name"), ref.get("uid"), type_, reason)
        now = time.monotonic()
        recent = [(t, m) for t, m in self._similar.get(key, []) if now - t < AGGREGATE_WINDOW_SECONDS]
        if message not in {m for _, m in recent}:
            recent.append((now, message))
        self._similar[key] = recent[-(AGGREGATE_MAX_EVENTS + 1):]
        if len({m for _, m in recent}) >= AGGREGATE_MAX_EVENTS:
            return COMBINED_PREFIX + message
        return message

    async def _record(self, obj: dict, type_: str, reason: str, message: str,
                      field_path: str | None, action: str | None) -> dict:
        ref = object_reference(obj, field_path)
        message = self._aggregate(ref, type_, reason, message)
        namespace = ref.get("namespace") or "default"
        combined = message.startswith(COMBINED_PREFIX)
        key = (self.component, self.host, ref.get("kind"), ref.get("namespace"), ref.get("name"), ref.get("uid"),
               ref.get("fieldPath"), type_, reason, "" if combined else message)
        seen = self._seen.get(key)
        if seen is not None:
            bumped = await self._bump(seen, message)
            if bumped is not None:
                return bumped
        created = await self.client.create(self._new_event(ref, namespace, type_, reason, message, action),
                                           namespace=namespace)
        self._seen[key] = _Seen(created["metadata"]["name"], namespace, 1, time.time())
        self._trim()
        return created

    async def _bump(self, seen: _Seen, message: str) -> dict | None:
        seen.count += 1
        if self.new_api:
            patch = {"series": {"count": seen.count, "lastObservedTime": now_micro()}, "message": message}
        else:
            patch = {"count": seen.count, "lastTimestamp": now_rfc3339(), "message": message}
        try:
            return await self.client.patch("v1", "Event", seen.name, patch, seen.namespace, patch_type="merge")
        except Exception:  # noqa: BLE001 - the event was deleted: record a fresh one
            return None

    def _new_event(self, ref: dict, namespace: str, type_: str, reason: str, message: str,
                   action: str | None) -> dict:
        name = f"{ref['name']}.{time.time_ns():x}"
        ev = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": ref, "reason": reason, "message": message, "type": type_,
            "reportingComponent": self.component,
            "reportingInstance": (f"{self.component}-{self.host}" if self.new_api and self.host else (self.host or "")),
        }
        if action:
            ev["action"] = action
        if self.new_api:
            ev.update({"eventTime": now_micro(), "firstTimestamp": None, "lastTimestamp": None, "source": {}})
        else:
            now = now_rfc3339()
            source = {"component": self.component}
            if self.host:
                source["host"] = self.host
            ev.update({"source": source, "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                       "eventTime": None})
        return ev

    def _trim(self, limit: int = 4096) -> None:
        # client-go keeps an LRU of 4096 entries; older repeats start a new event
        if len(self._seen) > limit:
            for k in list(self._seen)[: len(self._seen) - limit]:
                del self._seen[k]
