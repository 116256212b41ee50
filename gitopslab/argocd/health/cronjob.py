"""CronJob health: Argo CD's built-in Lua check written as Python, pure, no I/O.

Port of argo-cd ``resource_customizations/batch/CronJob/health.lua`` (3.2+).
A suspended CronJob is reported Healthy on purpose (argo-cd issue #24428).
"""

from __future__ import annotations

from ._types import DEGRADED, HEALTHY, PROGRESSING, HealthStatus


def health(obj: dict) -> HealthStatus:
    if (obj.get("spec") or {}).get("suspend") is True:
        return HealthStatus(HEALTHY, "CronJob is Suspended")
    status = obj.get("status")
    if status is None:
        return HealthStatus(PROGRESSING, "Waiting for CronJob")
    last_schedule = status.get("lastScheduleTime")
    if last_schedule is None:
        return HealthStatus(HEALTHY, "CronJob has not been scheduled yet")
    last_success = status.get("lastSuccessfulTime")
    if last_success is None:
        return HealthStatus(HEALTHY, "The CronJob never completed successfully. It may not be healthy")
    if status.get("active"):
        return HealthStatus(HEALTHY, "The job is running. Its last execution may not have been successful")
    # RFC 3339 timestamps in UTC compare correctly as strings, as in the Lua script.
    if str(last_success) < str(last_schedule):
        return HealthStatus(DEGRADED, "CronJob has not completed its last execution successfully")
    return HealthStatus(HEALTHY, "CronJob has completed its last execution successfully")
