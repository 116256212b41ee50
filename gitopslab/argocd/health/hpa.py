"""HorizontalPodAutoscaler health (Argo CD in-tree ``health_hpa.go``), pure, no I/O.

autoscaling/v1 reads its conditions from the
``autoscaling.alpha.kubernetes.io/conditions`` annotation, autoscaling/v2 from
``status.conditions``. v2beta1/v2beta2 are no longer supported (Unknown).
All conditions are checked for a degraded reason before any healthy one.
"""

from __future__ import annotations

import json

from ._types import DEGRADED, HEALTHY, PROGRESSING, HealthCheckError, HealthStatus, conditions
from ._types import gvk_string, nested

CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"
WAITING = HealthStatus(PROGRESSING, "Waiting to Autoscale")

_DEGRADED_REASONS = {
    ("AbleToScale", "FailedGetScale"),
    ("AbleToScale", "FailedUpdateScale"),
    ("ScalingActive", "FailedGetResourceMetric"),
    ("ScalingActive", "FailedGetObjectMetric"),
    ("ScalingActive", "FailedGetPodsMetric"),
    ("ScalingActive", "FailedGetExternalMetric"),
    ("ScalingActive", "FailedComputeMetricsReplicas"),
    ("ScalingActive", "InvalidSelector"),
}
_HEALTHY_TYPES = ("AbleToScale", "ScalingLimited")


def health(obj: dict) -> HealthStatus:
    api_version = obj.get("apiVersion")
    if api_version == "autoscaling/v1":
        return _check(_v1_conditions(obj))
    if api_version == "autoscaling/v2":
        return _check([_fields(c) for c in conditions(obj)])
    raise HealthCheckError(f"unsupported HPA GVK: {gvk_string(obj)}")


def _v1_conditions(obj: dict) -> list[dict]:
    annotations = nested(obj, "metadata", "annotations", default={})
    if CONDITIONS_ANNOTATION not in annotations:
        return []
    try:
        parsed = json.loads(annotations[CONDITIONS_ANNOTATION])
    except (TypeError, ValueError) as err:
        raise HealthCheckError(f"failed to convert conditions annotation to typed: {err}") from err
    if parsed is None:
        return []
    if not isinstance(parsed, list) or not all(isinstance(c, dict) for c in parsed):
        raise HealthCheckError("failed to convert conditions annotation to typed: not a list of conditions")
    return [_fields(c) for c in parsed]


def _fields(condition: dict) -> dict:
    # Go's encoding/json matches struct fields case-insensitively.
    lowered = {str(k).lower(): v for k, v in condition.items()}
    return {key: str(lowered.get(key) or "") for key in ("type", "reason", "message", "status")}


def _check(found: list[dict]) -> HealthStatus:
    for condition in found:
        if (condition["type"], condition["reason"]) in _DEGRADED_REASONS:
            return HealthStatus(DEGRADED, condition["message"])
    for condition in found:
        if condition["type"] in _HEALTHY_TYPES and condition["status"] == "True":
            return HealthStatus(HEALTHY, condition["message"])
    return WAITING
