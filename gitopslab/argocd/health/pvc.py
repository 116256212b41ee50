"""PersistentVolumeClaim health (gitops-engine ``health_pvc.go``), pure, no I/O."""

from __future__ import annotations

from ._types import DEGRADED, HEALTHY, PROGRESSING, UNKNOWN, HealthStatus, require_api_version, typed_str

KIND = "PersistentVolumeClaim"
_BY_PHASE = {"Lost": DEGRADED, "Pending": PROGRESSING, "Bound": HEALTHY}


def health(obj: dict) -> HealthStatus:
    require_api_version(obj, KIND, "v1")
    return HealthStatus(_BY_PHASE.get(typed_str(obj, KIND, "status", "phase"), UNKNOWN))
