"""Desired vs live comparison as Argo CD 3.x's default ("legacy") diff does it, pure, no I/O.

``diff(desired, live)`` tells whether applying ``desired`` would change
``live``. As gitops-engine ``Diff``:

1. both objects are remarshalled through their type (built-in kinds) and
   normalised: ``metadata.creationTimestamp`` dropped, Secret ``stringData``
   moved to base64 ``data``, empty Role rules nulled, ignore rules applied
   (``status`` is ignored for every kind, Argo CD 3.x
   ``ignoreResourceStatusField: all``, plus the app's ``ignoreDifferences``);
2. if live carries ``kubectl.kubernetes.io/last-applied-configuration`` it is
   the original of a 3-way merge; otherwise the desired object is (two-way),
   so fields present only in live (server defaults, other writers) never
   cause OutOfSync;
3. the predicted live object (live + patch, strategic merge for built-in
   kinds, JSON merge for CRs) and the live object both get the scheme
   defaults; ``modified`` is whether they differ. Namespaces are not compared.

Limits (documented subset): no ``$retainKeys`` strategy, a subset of scheme
defaults (see ``defaults``), jq expressions as in ``jqpath``, no server-side
or structured-merge diff.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from typing import Iterable

from . import defaults, ignore, merge, remarshal, schema
from .ignore import IGNORE_STATUS, IgnoreDifference

__all__ = ["DiffResult", "IgnoreDifference", "LAST_APPLIED", "diff", "normalize"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True)
class DiffResult:
    """Outcome of one comparison; ``None`` objects mean missing (create/delete)."""

    modified: bool
    normalized_live: dict | None
    predicted_live: dict | None


def normalize(
    obj: dict,
    *,
    ignore_differences: Iterable["dict | IgnoreDifference"] = (),
    ignore_status: bool = True,
    ignore_aggregated_roles: bool = False,
) -> dict:
    """A normalised copy of ``obj`` (remarshal + gitops-engine ``Normalize`` + ignore rules)."""
    rules = ignore.rules(ignore_differences) + ([IGNORE_STATUS] if ignore_status else [])
    return _normalize(remarshal.remarshal(copy.deepcopy(obj)), rules, ignore_aggregated_roles)


def _normalize(obj: dict, rules: list[IgnoreDifference], ignore_aggregated_roles: bool) -> dict:
    (obj.get("metadata") or {}).pop("creationTimestamp", None)
    group, kind = _group_kind(obj)
    if (group, kind) == ("", "Secret"):
        _normalize_secret(obj)
    elif group == "rbac.authorization.k8s.io" and kind in ("Role", "ClusterRole"):
        _normalize_role(obj, ignore_aggregated_roles)
    return ignore.apply_rules(obj, rules)


def _group_kind(obj: dict) -> tuple[str, str]:
    api_version = str(obj.get("apiVersion") or "")
    return (api_version.split("/", 1)[0] if "/" in api_version else ""), str(obj.get("kind") or "")


def _normalize_secret(obj: dict) -> None:
    string_data = obj.get("stringData")
    if isinstance(string_data, dict):
        data = dict(obj.get("data") or {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(value.encode()).decode() if isinstance(value, str) else value
        obj["data"] = data
        del obj["stringData"]
    if isinstance(obj.get("data"), dict):
        obj["data"] = {k: ("" if v is None else v) for k, v in obj["data"].items()}


def _normalize_role(obj: dict, ignore_aggregated_roles: bool) -> None:
    if ignore_aggregated_roles and isinstance(obj.get("aggregationRule"), dict):
        obj["rules"] = None
    if obj.get("rules") == []:
        obj["rules"] = None


def diff(
    desired: dict | None,
    live: dict | None,
    *,
    ignore_differences: Iterable["dict | IgnoreDifference"] = (),
    ignore_status: bool = True,
    ignore_aggregated_roles: bool = False,
) -> DiffResult:
    """Compare a desired object (as rendered, tracking already set) with the live one."""
    rules = ignore.rules(ignore_differences) + ([IGNORE_STATUS] if ignore_status else [])
    desired, live = copy.deepcopy(desired), copy.deepcopy(live)
    if desired is not None and live is not None:
        managers = ignore.managers_for(desired, rules)
        if managers:
            ignore.drop_managed_conflicts(desired, live, managers)
    if desired is not None:
        desired = _normalize(remarshal.remarshal(desired), rules, ignore_aggregated_roles)
    if live is not None:
        live = _normalize(remarshal.remarshal(live), rules, ignore_aggregated_roles)
    if desired is None or live is None:
        return DiffResult(modified=live is None and desired is not None, normalized_live=live, predicted_live=desired)
    orig = _last_applied(live)
    if orig is not None:
        orig = _normalize(remarshal.canonical_numbers(orig), rules, ignore_aggregated_roles)
    return _three_way(orig if orig is not None else desired, desired, live)


def _last_applied(live: dict) -> dict | None:
    text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if text is None:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None  # Argo CD logs it and falls back to the two-way diff
    return parsed if isinstance(parsed, dict) else None


def _three_way(orig: dict, config: dict, live: dict) -> DiffResult:
    orig, config = _without_namespace(orig), _without_namespace(config)
    root = schema.typed_root(orig)
    patch_live = live
    if root is not None and _group_kind(orig) in (("apps", "StatefulSet"), ("extensions", "StatefulSet")):
        patch_live = _statefulset_workaround(orig, live)
    predicted = merge.predict(orig, config, patch_live, root)
    if patch_live is not live:
        predicted = _restore_claim_templates(predicted, patch_live, live)
    if root is not None:
        predicted, live = defaults.apply_defaults(predicted), defaults.apply_defaults(copy.deepcopy(live))
    return DiffResult(modified=_canonical(predicted) != _canonical(live), normalized_live=live, predicted_live=predicted)


def _without_namespace(obj: dict) -> dict:
    obj = copy.deepcopy(obj)
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("namespace", None)
        if "annotations" in metadata and not metadata["annotations"]:
            del metadata["annotations"]
    return obj


def _statefulset_workaround(orig: dict, live: dict) -> dict:
    """Compare volumeClaimTemplates without the fields the API server defaults in them."""
    wanted = (orig.get("spec") or {}).get("volumeClaimTemplates")
    found = (live.get("spec") or {}).get("volumeClaimTemplates")
    if not isinstance(wanted, list) or not isinstance(found, list):
        return live
    live = copy.deepcopy(live)
    live["spec"]["volumeClaimTemplates"] = merge.remove_fields(wanted, found)
    return live


def _restore_claim_templates(predicted: dict, stripped: dict, live: dict) -> dict:
    # The patch was computed against stripped templates but applies to the real live object.
    if predicted.get("spec", {}).get("volumeClaimTemplates") == stripped["spec"]["volumeClaimTemplates"]:
        predicted["spec"]["volumeClaimTemplates"] = copy.deepcopy(live["spec"]["volumeClaimTemplates"])
    return predicted


def _canonical(obj: dict) -> str:
    return json.dumps(remarshal.canonical_numbers(obj), sort_keys=True, separators=(",", ":"))
