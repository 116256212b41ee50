"""Health of a child ``argoproj.io/Application`` (app of apps), pure, no I/O.

Argo CD has no built-in check for Applications since v1.8; this is the Lua
snippet that ``docs/operator-manual/health.md`` tells users to add to argocd-cm
as ``resource.customizations.health.argoproj.io_Application``. Pass it to
``resource_health(obj, custom=...)`` only when that customization is set.
"""

from __future__ import annotations

from ._types import PROGRESSING, HealthStatus

CUSTOMIZATION_KEY = "resource.customizations.health.argoproj.io_Application"


def health(obj: dict) -> HealthStatus | None:
    if obj.get("apiVersion", "").split("/")[0] != "argoproj.io" or obj.get("kind") != "Application":
        return None
    app_health = (obj.get("status") or {}).get("health")
    if not isinstance(app_health, dict):
        return HealthStatus(PROGRESSING, "")
    return HealthStatus(str(app_health.get("status") or ""), str(app_health.get("message") or ""))
