"""StatefulSet health (gitops-engine ``health_statefulset.go``), pure, no I/O."""

from __future__ import annotations

from ._types import HEALTHY, PROGRESSING, HealthStatus, nested, require_api_version, typed_int, typed_str

KIND = "StatefulSet"


def health(obj: dict) -> HealthStatus:
    require_api_version(obj, KIND, "apps/v1")
    generation = typed_int(obj, KIND, "metadata", "generation")
    observed = typed_int(obj, KIND, "status", "observedGeneration")
    if observed == 0 or generation > observed:
        return HealthStatus(PROGRESSING, "Waiting for statefulset spec update to be observed...")
    wanted = typed_int(obj, KIND, "spec", "replicas", default=None)
    ready = typed_int(obj, KIND, "status", "readyReplicas")
    if wanted is not None and ready < wanted:
        return HealthStatus(PROGRESSING, f"Waiting for {wanted - ready} pods to be ready...")
    strategy = typed_str(obj, KIND, "spec", "updateStrategy", "type")
    updated = typed_int(obj, KIND, "status", "updatedReplicas")
    if strategy == "RollingUpdate" and nested(obj, "spec", "updateStrategy", "rollingUpdate") is not None:
        return _partitioned_health(obj, wanted, updated)
    if strategy == "OnDelete":
        return HealthStatus(HEALTHY, f"statefulset has {ready} ready pods")
    update_revision = typed_str(obj, KIND, "status", "updateRevision")
    current_revision = typed_str(obj, KIND, "status", "currentRevision")
    if update_revision != current_revision:
        return HealthStatus(
            PROGRESSING,
            f"waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}...",
        )
    current = typed_int(obj, KIND, "status", "currentReplicas")
    return HealthStatus(
        HEALTHY, f"statefulset rolling update complete {current} pods at revision {current_revision}..."
    )


def _partitioned_health(obj: dict, wanted: int | None, updated: int) -> HealthStatus:
    partition = typed_int(obj, KIND, "spec", "updateStrategy", "rollingUpdate", "partition", default=None)
    if wanted is not None and partition is not None and updated < wanted - partition:
        return HealthStatus(
            PROGRESSING,
            f"Waiting for partitioned roll out to finish: {updated} out of {wanted - partition} "
            "new pods have been updated...",
        )
    return HealthStatus(HEALTHY, f"partitioned roll out complete: {updated} new pods have been updated...")
