"""Service health (gitops-engine ``health_service.go``), pure, no I/O.

A LoadBalancer Service stays Progressing until ``status.loadBalancer.ingress``
is filled; every other type is Healthy.
"""

from __future__ import annotations

from ._types import HEALTHY, PROGRESSING, HealthStatus, nested, require_api_version, typed_str

KIND = "Service"


def health(obj: dict) -> HealthStatus:
    require_api_version(obj, KIND, "v1")
    if typed_str(obj, KIND, "spec", "type") == "LoadBalancer":
        if not nested(obj, "status", "loadBalancer", "ingress", default=[]):
            return HealthStatus(PROGRESSING)
    return HealthStatus(HEALTHY)
