"""The ``status`` Argo CD 3.x writes on an Application, built from a comparison (pure)."""
from __future__ import annotations

from gitopslab.argocd.compare import Comparison

COMPARISON_TYPES = ("ComparisonError", "SharedResourceWarning", "RepeatedResourceWarning",
                    "ExcludedResourceWarning", "InvalidSpecError")
CONTROLLER_NAMESPACE = "argocd"


def merge_conditions(existing: list[dict] | None, new: list[tuple[str, str]], owned: tuple[str, ...],
                     now: str) -> list[dict]:
    """``SetConditions``: replace the ``owned`` types by ``new``, keep others; keep timestamps of unchanged ones."""
    existing = existing or []
    previous = {(c.get("type"), c.get("message")): c.get("lastTransitionTime") for c in existing}
    kept = [c for c in existing if c.get("type") not in owned]
    added, seen = [], set()
    for type_, message in new:
        if (type_, message) in seen:
            continue
        seen.add((type_, message))
        added.append({"type": type_, "message": message,
                      "lastTransitionTime": previous.get((type_, message)) or now})
    return kept + added


def health_block(previous: dict | None, status: str, now: str) -> dict:
    previous = previous or {}
    if previous.get("status") == status and previous.get("lastTransitionTime"):
        return {"status": status, "lastTransitionTime": previous["lastTransitionTime"]}
    return {"status": status, "lastTransitionTime": now}


def compared_to(app: dict) -> dict:
    spec = app.get("spec") or {}
    out = {"source": spec.get("source") or {}, "destination": spec.get("destination") or {}}
    if spec.get("ignoreDifferences"):
        out["ignoreDifferences"] = spec["ignoreDifferences"]
    return out


def images(comparison: Comparison) -> list[str]:
    from gitopslab.argocd.sync import _images

    found = set()
    for target, live in comparison.managed:
        found.update(_images(live if live is not None else target or {}))
    return sorted(found)


def status_from_comparison(app: dict, comparison: Comparison, *, revision: str, source_type: str,
                           conditions: list[tuple[str, str]], now: str) -> dict:
    status = dict(app.get("status") or {})
    sync = {"status": comparison.sync_status, "comparedTo": compared_to(app)}
    if revision:
        sync["revision"] = revision
    status["sync"] = sync
    status["health"] = health_block(status.get("health"), comparison.health_status, now)
    status["resources"] = comparison.resources
    status["conditions"] = merge_conditions(status.get("conditions"), conditions, COMPARISON_TYPES, now)
    status["reconciledAt"] = now
    status["controllerNamespace"] = CONTROLLER_NAMESPACE
    if source_type:
        status["sourceType"] = source_type
    imgs = images(comparison)
    status["summary"] = {"images": imgs} if imgs else {}
    if not status["conditions"]:
        del status["conditions"]
    return status


def invalid_spec_status(app: dict, messages: list[str], now: str) -> dict:
    status = dict(app.get("status") or {})
    status["sync"] = {"status": "Unknown", "comparedTo": compared_to(app),
                      **({"revision": status["sync"]["revision"]} if (status.get("sync") or {}).get("revision") else {})}
    status["health"] = health_block(status.get("health"), "Unknown", now)
    status["conditions"] = merge_conditions(status.get("conditions"), [("InvalidSpecError", m) for m in messages],
                                            COMPARISON_TYPES, now)
    status["reconciledAt"] = now
    status["controllerNamespace"] = CONTROLLER_NAMESPACE
    return status


def status_patch(old: dict | None, new: dict) -> dict:
    """Top-level keys that changed (removed keys as null), for one merge patch."""
    old = old or {}
    patch = {k: v for k, v in new.items() if old.get(k) != v}
    patch.update({k: None for k in old if k not in new})
    return patch
