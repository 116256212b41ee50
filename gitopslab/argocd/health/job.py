"""Job health (Argo CD in-tree gitops-engine ``health_job.go``), pure, no I/O.

A suspended Job reports its ``Suspended`` condition message (the standalone
gitops-engine left it empty).
"""

from __future__ import annotations

from ._types import DEGRADED, HEALTHY, PROGRESSING, SUSPENDED, HealthStatus, conditions, require_api_version

KIND = "Job"


def health(obj: dict) -> HealthStatus:
    require_api_version(obj, KIND, "batch/v1")
    failed = complete = suspended = False
    fail_message = message = ""
    for condition in conditions(obj):
        kind = condition.get("type")
        if kind == "Failed":
            failed = complete = True
            fail_message = str(condition.get("message") or "")
        elif kind == "Complete":
            complete = True
            message = str(condition.get("message") or "")
        elif kind == "Suspended":
            complete = True
            message = str(condition.get("message") or "")
            suspended = suspended or condition.get("status") == "True"
    if not complete:
        return HealthStatus(PROGRESSING, message)
    if failed:
        return HealthStatus(DEGRADED, fail_message)
    if suspended:
        return HealthStatus(SUSPENDED, message)
    return HealthStatus(HEALTHY, message)
