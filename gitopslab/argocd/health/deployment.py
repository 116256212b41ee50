"""Deployment health (gitops-engine ``health_deployment.go``), pure, no I/O.

Borrowed by gitops-engine from kubectl ``rollout_status.go``.
"""

from __future__ import annotations

from ._types import DEGRADED, HEALTHY, PROGRESSING, SUSPENDED, HealthStatus, nested
from ._types import find_condition, require_api_version, typed_int

KIND = "Deployment"


def health(obj: dict) -> HealthStatus:
    require_api_version(obj, KIND, "apps/v1")
    if nested(obj, "spec", "paused") is True:
        return HealthStatus(SUSPENDED, "Deployment is paused")
    generation = typed_int(obj, KIND, "metadata", "generation")
    observed = typed_int(obj, KIND, "status", "observedGeneration")
    if generation > observed:
        return HealthStatus(
            PROGRESSING,
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        )
    return _rollout_health(obj)


def _rollout_health(obj: dict) -> HealthStatus:
    wanted = typed_int(obj, KIND, "spec", "replicas", default=None)
    replicas = typed_int(obj, KIND, "status", "replicas")
    updated = typed_int(obj, KIND, "status", "updatedReplicas")
    available = typed_int(obj, KIND, "status", "availableReplicas")
    progressing = find_condition(obj, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        name = nested(obj, "metadata", "name", default="")
        return HealthStatus(DEGRADED, f'Deployment "{name}" exceeded its progress deadline')
    if wanted is not None and updated < wanted:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for rollout to finish: {updated} out of {wanted} new replicas have been updated...",
        )
    if replicas > updated:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for rollout to finish: {replicas - updated} old replicas are pending termination...",
        )
    if available < updated:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for rollout to finish: {available} of {updated} updated replicas are available...",
        )
    return HealthStatus(HEALTHY)
