"""Pod health (gitops-engine ``health_pod.go``, Argo CD in-tree version), pure, no I/O.

Only an ``Always`` pod (or one annotated ``argocd.argoproj.io/ignore-restart-policy:
"true"`` that is not a hook) is degraded by container waiting reasons; a
running pod with ``Never``/``OnFailure`` stays Progressing (hook semantics).
"""

from __future__ import annotations

from gitopslab.argocd import synctasks

from ._types import DEGRADED, HEALTHY, PROGRESSING, UNKNOWN, HealthStatus, find_condition, nested
from ._types import require_api_version, typed_str

KIND = "Pod"
IGNORE_RESTART_POLICY = "argocd.argoproj.io/ignore-restart-policy"


def health(obj: dict) -> HealthStatus:
    require_api_version(obj, KIND, "v1")
    policy = typed_str(obj, KIND, "spec", "restartPolicy")
    message = typed_str(obj, KIND, "status", "message")
    long_running = policy == "Always" or _ignores_restart_policy(obj)
    if long_running:
        waiting = _waiting_errors(obj)
        if waiting is not None:
            return HealthStatus(DEGRADED, waiting)
    phase = typed_str(obj, KIND, "status", "phase")
    if phase == "Pending":
        return HealthStatus(PROGRESSING, message)
    if phase == "Succeeded":
        return HealthStatus(HEALTHY, message)
    if phase == "Failed":
        return HealthStatus(DEGRADED, message or _failure_message(obj))
    if phase == "Running":
        if long_running:
            return _running_health(obj, message)
        if policy in ("OnFailure", "Never"):
            return HealthStatus(PROGRESSING, message)
    return HealthStatus(UNKNOWN, message)


def _ignores_restart_policy(obj: dict) -> bool:
    annotations = nested(obj, "metadata", "annotations", default={})
    return annotations.get(IGNORE_RESTART_POLICY) == "true" and not synctasks.is_hook(obj)


def _container_statuses(obj: dict, field: str = "containerStatuses") -> list[dict]:
    statuses = nested(obj, "status", field, default=[])
    return [s for s in statuses if isinstance(s, dict)]


def _waiting_errors(obj: dict) -> str | None:
    """Joined messages of containers waiting on an error, or None."""
    messages = []
    for status in _container_statuses(obj):
        waiting = nested(status, "state", "waiting")
        if waiting is None:
            continue
        reason = str(waiting.get("reason") or "")
        if reason.startswith("Err") or reason.endswith("Error") or reason.endswith("BackOff"):
            messages.append(str(waiting.get("message") or ""))
    return ", ".join(messages) if messages else None


def _failure_message(obj: dict) -> str:
    statuses = _container_statuses(obj, "initContainerStatuses") + _container_statuses(obj)
    for status in statuses:
        terminated = nested(status, "state", "terminated")
        if terminated is None:
            continue
        if terminated.get("message"):
            return str(terminated["message"])
        if terminated.get("reason") == "OOMKilled":
            return "OOMKilled"
        exit_code = int(terminated.get("exitCode") or 0)
        if exit_code != 0:
            return f'container "{status.get("name", "")}" failed with exit code {exit_code}'
    return ""


def _running_health(obj: dict, message: str) -> HealthStatus:
    ready = find_condition(obj, "Ready")
    if ready is not None and ready.get("status") == "True":
        return HealthStatus(HEALTHY, message)
    for status in _container_statuses(obj):
        if nested(status, "lastState", "terminated") is not None:
            return HealthStatus(DEGRADED, message)
    return HealthStatus(PROGRESSING, message)
