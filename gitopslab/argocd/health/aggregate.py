"""Application health from its resources (Argo CD 3.4+ ``setApplicationHealth``), pure.

Start Healthy and keep the worst status (``is_worse`` order Healthy <
Suspended < Progressing < Missing < Degraded < Unknown). Skipped: ``Skip``
hooks, live hooks, helm hooks of unsupported types, live objects annotated
``argocd.argoproj.io/ignore-healthcheck: "true"``, the application itself,
resources without a health check, missing resources (individually), and
child Applications whose health is Missing or Unknown. The app is Missing
only when it has non-hook resources and none of them exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from gitopslab.argocd import synctasks

from ._types import HEALTHY, MISSING, UNKNOWN, HealthStatus, group_version, is_worse

IGNORE_HEALTHCHECK = "argocd.argoproj.io/ignore-healthcheck"


@dataclass(frozen=True)
class ManagedResource:
    """One managed resource: desired and live objects (either may be None).

    As in Argo CD, hooks are not among the targets; live hooks appear with no target.
    """

    target: dict | None
    live: dict | None

    @property
    def obj(self) -> dict:
        return self.live if self.live is not None else (self.target or {})

    @property
    def group(self) -> str:
        return group_version(self.obj)[0]

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind") or "")


def aggregate_app_health(
    resources: list[ManagedResource],
    *,
    app: tuple[str, str] | None = None,
    health_of: Callable[[dict], HealthStatus | None] | None = None,
) -> str:
    """Aggregated health status code of an application.

    ``app`` is the application's (namespace, name), so an app that manages
    itself is not counted. ``health_of`` defaults to ``resource_health``.
    """
    if health_of is None:
        from . import resource_health as health_of
    status = HEALTHY
    has_resources = has_live = False
    for res in resources:
        if _is_hook_or_skipped(res):
            continue
        has_resources = True
        if res.live is None:
            continue  # 3.4+: a missing resource does not count on its own
        has_live = True
        if _ignores_healthcheck(res.live) or _is_app_itself(res.live, app):
            continue
        found = health_of(res.live)
        if found is None or _is_child_app_without_health(res, found):
            continue
        if is_worse(status, found.status):
            status = found.status
    if has_resources and not has_live and is_worse(status, MISSING):
        return MISSING
    return status


def _is_hook_or_skipped(res: ManagedResource) -> bool:
    if res.target is not None and synctasks.is_skip(res.target):
        return True
    return res.live is not None and (synctasks.is_hook(res.live) or synctasks.is_ignored(res.live))


def _ignores_healthcheck(live: dict) -> bool:
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    return annotations.get(IGNORE_HEALTHCHECK) == "true"


def _is_app_itself(live: dict, app: tuple[str, str] | None) -> bool:
    if app is None or live.get("kind") != "Application" or group_version(live)[0] != "argoproj.io":
        return False
    metadata = live.get("metadata") or {}
    return (metadata.get("namespace", ""), metadata.get("name")) == app


def _is_child_app_without_health(res: ManagedResource, found: HealthStatus) -> bool:
    is_app = res.kind == "Application" and res.group == "argoproj.io"
    return is_app and found.status in (MISSING, UNKNOWN)
