"""Resource health as Argo CD 3.x computes it (gitops-engine rules), pure, no I/O.

``resource_health(obj)`` returns a ``HealthStatus`` or ``None`` for kinds that
have no health check (ConfigMap, Secret, RBAC, Applications, CRs...). Order, as
in gitops-engine ``GetResourceHealth``: pending deletion, then a custom check
(argocd-cm Lua customization, supplied by the caller), then Argo CD's built-in
Lua checks (CronJob), then the built-in checks. A check that cannot read the
object yields ``Unknown`` with the error text.

Where the standalone gitops-engine and Argo CD's in-tree copy differ (Job
suspended message, HPA condition order, HPA v2beta1/v2beta2 dropped, Pod
ignore-restart-policy annotation), the in-tree (Argo CD 3.x) behaviour is used.
"""

from __future__ import annotations

from typing import Callable

from . import apiservice, cronjob, daemonset, deployment, hpa, ingress, job, pod, pvc, replicaset
from . import service, statefulset, workflow
from ._types import (
    DEGRADED,
    HEALTH_ORDER,
    HEALTHY,
    MISSING,
    PROGRESSING,
    SUSPENDED,
    UNKNOWN,
    HealthCheckError,
    HealthStatus,
    group_version,
    is_worse,
)
from .aggregate import ManagedResource, aggregate_app_health

__all__ = [
    "DEGRADED", "HEALTH_ORDER", "HEALTHY", "MISSING", "PROGRESSING", "SUSPENDED", "UNKNOWN",
    "HealthStatus", "ManagedResource", "aggregate_app_health", "health_check_for", "is_worse",
    "resource_health",
]

HOOK_FINALIZER = "argocd.argoproj.io/hook-finalizer"

Check = Callable[[dict], "HealthStatus | None"]

# gitops-engine GetHealthCheckFunc: dispatch on (group, kind); the per-kind
# check then insists on the exact version.
_BUILT_IN: dict[tuple[str, str], Check] = {
    ("apps", "Deployment"): deployment.health,
    ("apps", "StatefulSet"): statefulset.health,
    ("apps", "ReplicaSet"): replicaset.health,
    ("apps", "DaemonSet"): daemonset.health,
    ("extensions", "Ingress"): ingress.health,
    ("networking.k8s.io", "Ingress"): ingress.health,
    ("argoproj.io", "Workflow"): workflow.health,
    ("apiregistration.k8s.io", "APIService"): apiservice.health,
    ("", "Service"): service.health,
    ("", "PersistentVolumeClaim"): pvc.health,
    ("", "Pod"): pod.health,
    ("batch", "Job"): job.health,
    ("autoscaling", "HorizontalPodAutoscaler"): hpa.health,
}

# Checks Argo CD ships as Lua in resource_customizations/ (matched on group/kind).
_BUILT_IN_LUA: dict[tuple[str, str], Check] = {
    ("batch", "CronJob"): cronjob.health,
}


def health_check_for(obj: dict) -> Check | None:
    """The check Argo CD would run for this object's kind, or None."""
    key = (group_version(obj)[0], str(obj.get("kind") or ""))
    return _BUILT_IN_LUA.get(key) or _BUILT_IN.get(key)


def resource_health(obj: dict, *, custom: Check | None = None) -> HealthStatus | None:
    """Health of one live object, or None when Argo CD has no opinion.

    ``custom`` is an optional override (an argocd-cm health customization):
    called first; a None result falls through to the built-in checks.
    """
    metadata = obj.get("metadata") or {}
    if metadata.get("deletionTimestamp") and HOOK_FINALIZER not in (metadata.get("finalizers") or []):
        return HealthStatus(PROGRESSING, "Pending deletion")
    checks = [c for c in (custom, health_check_for(obj)) if c is not None]
    for check in checks:
        try:
            result = check(obj)
        except HealthCheckError as err:
            return HealthStatus(UNKNOWN, str(err))
        if result is not None:
            return result
    return None
