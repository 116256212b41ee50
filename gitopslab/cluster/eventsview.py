"""core/v1 Event <-> events.k8s.io/v1 Event: two views of one stored object (pure).

The store keeps the core/v1 shape; events.k8s.io reads and writes go
through these conversions (k8s ``pkg/apis/events/v1/conversion.go``).
"""
from __future__ import annotations

# core/v1 field -> events.k8s.io/v1 field
_RENAMES = (
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
)
_SAME = ("metadata", "eventTime", "series", "action", "related", "reason", "type", "reportingInstance")


def _micro(ts: str | None) -> str | None:
    """An RFC 3339 timestamp in MicroTime form (``…T10:00:00.000000Z``)."""
    if not ts:
        return None
    if "." in ts:
        return ts
    return ts[:-1] + ".000000Z" if ts.endswith("Z") else ts


def core_to_events_v1(core: dict) -> dict:
    out = {"kind": "Event", "apiVersion": "events.k8s.io/v1"}
    for key in _SAME:
        if core.get(key) is not None:
            out[key] = core[key]
    for old, new in _RENAMES:
        value = core.get(old)
        if value is not None and value != {} and value != "":
            out[new] = value
    if not out.get("eventTime"):
        # Core events written by old-style recorders have no eventTime; the
        # Python client's events.k8s.io model refuses a null one.
        out["eventTime"] = _micro(core.get("firstTimestamp") or core.get("lastTimestamp")
                                  or (core.get("metadata") or {}).get("creationTimestamp"))
    return out


def events_v1_to_core(ev: dict) -> dict:
    out = {"kind": "Event", "apiVersion": "v1"}
    for key in _SAME:
        if ev.get(key) is not None:
            out[key] = ev[key]
    for old, new in _RENAMES:
        value = ev.get(new)
        if value is not None:
            out[old] = value
    out.setdefault("involvedObject", {})
    out.setdefault("source", {})
    if "reportingComponent" not in out:
        out["reportingComponent"] = ""
    if "reportingInstance" not in out:
        out["reportingInstance"] = ""
    return out
