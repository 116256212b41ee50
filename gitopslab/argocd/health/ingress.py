"""Ingress health (gitops-engine ``health_ingress.go``), pure, no I/O.

Any apiVersion of ``extensions`` / ``networking.k8s.io`` Ingress: Healthy once
``status.loadBalancer.ingress`` is non-empty, Progressing before.
"""

from __future__ import annotations

from ._types import HEALTHY, PROGRESSING, HealthStatus, nested


def health(obj: dict) -> HealthStatus:
    ingresses = nested(obj, "status", "loadBalancer", "ingress", default=[])
    if isinstance(ingresses, list) and ingresses:
        return HealthStatus(HEALTHY)
    return HealthStatus(PROGRESSING)
