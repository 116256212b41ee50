"""Argo Workflows ``Workflow`` health (gitops-engine ``health_argo.go``), pure, no I/O."""

from __future__ import annotations

from ._types import DEGRADED, HEALTHY, PROGRESSING, UNKNOWN, HealthStatus, nested

_BY_PHASE = {
    "": PROGRESSING,
    "Pending": PROGRESSING,
    "Running": PROGRESSING,
    "Succeeded": HEALTHY,
    "Failed": DEGRADED,
    "Error": DEGRADED,
}


def health(obj: dict) -> HealthStatus:
    phase = nested(obj, "status", "phase", default="")
    message = nested(obj, "status", "message", default="")
    return HealthStatus(_BY_PHASE.get(phase, UNKNOWN), message if isinstance(message, str) else "")
