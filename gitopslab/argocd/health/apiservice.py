"""APIService health (gitops-engine ``health_apiservice.go``), pure, no I/O."""

from __future__ import annotations

from ._types import HEALTHY, PROGRESSING, HealthStatus, conditions, require_api_version

KIND = "APIService"


def health(obj: dict) -> HealthStatus:
    require_api_version(obj, KIND, "apiregistration.k8s.io/v1", "apiregistration.k8s.io/v1beta1")
    for condition in conditions(obj):
        if condition.get("type") == "Available":
            message = f"{condition.get('reason') or ''}: {condition.get('message') or ''}"
            status = HEALTHY if condition.get("status") == "True" else PROGRESSING
            return HealthStatus(status, message)
    return HealthStatus(PROGRESSING, "Waiting to be processed")
