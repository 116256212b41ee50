"""DaemonSet health (gitops-engine ``health_daemonset.go``), pure, no I/O."""

from __future__ import annotations

from ._types import HEALTHY, PROGRESSING, HealthStatus, nested, require_api_version, typed_int, typed_str

KIND = "DaemonSet"


def health(obj: dict) -> HealthStatus:
    require_api_version(obj, KIND, "apps/v1")
    generation = typed_int(obj, KIND, "metadata", "generation")
    observed = typed_int(obj, KIND, "status", "observedGeneration")
    if generation > observed:
        return HealthStatus(
            PROGRESSING,
            "Waiting for rollout to finish: observed daemon set generation less than desired generation",
        )
    updated = typed_int(obj, KIND, "status", "updatedNumberScheduled")
    desired = typed_int(obj, KIND, "status", "desiredNumberScheduled")
    if typed_str(obj, KIND, "spec", "updateStrategy", "type") == "OnDelete":
        return HealthStatus(HEALTHY, f"daemon set {updated} out of {desired} new pods have been updated")
    name = nested(obj, "metadata", "name", default="")
    if updated < desired:
        return HealthStatus(
            PROGRESSING,
            f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} '
            "new pods have been updated...",
        )
    available = typed_int(obj, KIND, "status", "numberAvailable")
    if available < desired:
        return HealthStatus(
            PROGRESSING,
            f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} '
            "updated pods are available...",
        )
    return HealthStatus(HEALTHY)
