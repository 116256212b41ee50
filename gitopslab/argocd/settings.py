"""Controller settings read from argocd-cm and argocd-cmd-params-cm (pure parsing)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from gitopslab.argocd import tracking

DEFAULT_RECONCILIATION = 120.0
DEFAULT_JITTER = 60.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")


def parse_duration(text: str | None, default: float) -> float:
    """Go ``time.ParseDuration`` for the simple forms argocd-cm uses (``180s``, ``3m``, ``1h30m``)."""
    if not text:
        return default
    text = str(text).strip()
    if text.isdigit():
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return default
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)


@dataclass(frozen=True)
class Settings:
    reconciliation: float = DEFAULT_RECONCILIATION
    jitter: float = DEFAULT_JITTER
    tracking_method: str = tracking.DEFAULT_METHOD
    instance_label_key: str = tracking.INSTANCE_LABEL
    installation_id: str = ""
    persist_resource_health: bool = False
    ignore_differences: dict = field(default_factory=dict)   # "group_Kind" or "all" -> {jsonPointers…}
    health_customizations: dict = field(default_factory=dict)


def from_configmaps(argocd_cm: dict | None, params_cm: dict | None = None) -> Settings:
    data = (argocd_cm or {}).get("data") or {}
    params = (params_cm or {}).get("data") or {}
    ignores = {}
    prefix = "resource.customizations.ignoreDifferences."
    for key, value in data.items():
        if key.startswith(prefix):
            try:
                ignores[key[len(prefix):]] = yaml.safe_load(value) or {}
            except yaml.YAMLError:
                continue
    return Settings(
        reconciliation=parse_duration(data.get("timeout.reconciliation"), DEFAULT_RECONCILIATION),
        jitter=parse_duration(data.get("timeout.reconciliation.jitter"), DEFAULT_JITTER),
        tracking_method=data.get("application.resourceTrackingMethod") or tracking.DEFAULT_METHOD,
        instance_label_key=data.get("application.instanceLabelKey") or tracking.INSTANCE_LABEL,
        installation_id=data.get("installationID") or "",
        persist_resource_health=str(params.get("controller.resource.health.persist", "")).lower() == "true",
        ignore_differences=ignores,
        health_customizations={k: v for k, v in data.items() if k.startswith("resource.customizations.health.")},
    )


def system_ignore_rules(settings: Settings, group: str, kind: str) -> list[dict]:
    """argocd-cm ignoreDifferences rules for one group/kind, as app-level rule dicts."""
    rules = []
    for key in ("all", f"{group}_{kind}" if group else kind):
        found = settings.ignore_differences.get(key)
        if found:
            rules.append({"group": group, "kind": kind, **found})
    return rules
