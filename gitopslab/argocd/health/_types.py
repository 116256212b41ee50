"""Health status values and helpers shared by the per-kind checks (pure, no I/O).

Mirrors gitops-engine ``pkg/health/health.go``: six status codes, ``IsWorse``
ordering, and the ``GroupVersionKind`` string used in error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HEALTHY = "Healthy"
SUSPENDED = "Suspended"
PROGRESSING = "Progressing"
MISSING = "Missing"
DEGRADED = "Degraded"
UNKNOWN = "Unknown"

# From most healthy to least healthy (gitops-engine healthOrder).
HEALTH_ORDER = (HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN)


@dataclass(frozen=True)
class HealthStatus:
    """Health of one resource: a status code and the message Argo CD shows."""

    status: str
    message: str = ""


class HealthCheckError(Exception):
    """A check could not assess the object; it becomes ``Unknown`` + message."""


def is_worse(current: str, new: str) -> bool:
    """True if ``new`` is a worse health code than ``current`` (IsWorse).

    Unknown codes rank as Healthy, as in Go where the index defaults to 0.
    """
    return _rank(new) > _rank(current)


def _rank(code: str) -> int:
    return HEALTH_ORDER.index(code) if code in HEALTH_ORDER else 0


def nested(obj: Any, *path: str, default: Any = None) -> Any:
    """Value at ``path`` in nested dicts, or ``default`` when absent/None."""
    for key in path:
        if not isinstance(obj, dict) or obj.get(key) is None:
            return default
        obj = obj[key]
    return obj


def group_version(obj: dict) -> tuple[str, str]:
    api_version = str(obj.get("apiVersion") or "")
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


def gvk_string(obj: dict) -> str:
    """Go's ``schema.GroupVersionKind.String()``: ``apps/v1, Kind=Deployment``."""
    group, version = group_version(obj)
    return f"{group}/{version}, Kind={obj.get('kind', '')}"


def require_api_version(obj: dict, kind_label: str, *accepted: str) -> str:
    """Built-in checks only accept exact GVKs; anything else is an error."""
    api_version = str(obj.get("apiVersion") or "")
    if api_version not in accepted:
        raise HealthCheckError(f"unsupported {kind_label} GVK: {gvk_string(obj)}")
    return api_version


def typed_int(obj: dict, kind_label: str, *path: str, default: int | None = 0) -> int | None:
    """An integer field read the way Go's typed conversion would accept it."""
    value = nested(obj, *path)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise HealthCheckError(
            f"failed to convert unstructured {kind_label} to typed: "
            f"unrecognized type for field {'.'.join(path)}: {type(value).__name__}"
        )
    return int(value)


def typed_str(obj: dict, kind_label: str, *path: str) -> str:
    value = nested(obj, *path, default="")
    if not isinstance(value, str):
        raise HealthCheckError(
            f"failed to convert unstructured {kind_label} to typed: "
            f"unrecognized type for field {'.'.join(path)}: {type(value).__name__}"
        )
    return value


def conditions(obj: dict) -> list[dict]:
    found = nested(obj, "status", "conditions", default=[])
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def find_condition(obj: dict, condition_type: str) -> dict | None:
    for condition in conditions(obj):
        if condition.get("type") == condition_type:
            return condition
    return None
