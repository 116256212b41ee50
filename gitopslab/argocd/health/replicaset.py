"""ReplicaSet health (gitops-engine ``health_replicaset.go``), pure, no I/O."""

from __future__ import annotations

from ._types import DEGRADED, HEALTHY, PROGRESSING, HealthStatus, find_condition
from ._types import require_api_version, typed_int

KIND = "ReplicaSet"


def health(obj: dict) -> HealthStatus:
    require_api_version(obj, KIND, "apps/v1")
    generation = typed_int(obj, KIND, "metadata", "generation")
    observed = typed_int(obj, KIND, "status", "observedGeneration")
    if generation > observed:
        return HealthStatus(
            PROGRESSING,
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        )
    failure = find_condition(obj, "ReplicaFailure")
    if failure is not None and failure.get("status") == "True":
        return HealthStatus(DEGRADED, str(failure.get("message") or ""))
    wanted = typed_int(obj, KIND, "spec", "replicas", default=None)
    available = typed_int(obj, KIND, "status", "availableReplicas")
    if wanted is not None and available < wanted:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for rollout to finish: {available} out of {wanted} new replicas are available...",
        )
    return HealthStatus(HEALTHY)
