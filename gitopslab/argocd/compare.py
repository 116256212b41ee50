"""Comparing an application's target state with the live state (``CompareAppState``), pure.

Input: rendered manifests (tracking set), the live objects that may belong
to the app, the app and its settings. Output: per-resource sync status
(``status.resources``), the managed (target, live) pairs, the app's sync
and health status, and the conditions Argo CD derives (RepeatedResourceWarning,
``Namespace for <name> <gvk> is missing.``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gitopslab.argocd import diff as differ
from gitopslab.argocd import health as healthmod
from gitopslab.argocd import synctasks, tracking
from gitopslab.argocd.settings import Settings, system_ignore_rules

SYNCED, OUT_OF_SYNC, UNKNOWN = "Synced", "OutOfSync", "Unknown"
COMPARE_OPTIONS = "argocd.argoproj.io/compare-options"

# cluster-scoped built-in kinds (everything else is namespaced unless live says otherwise)
CLUSTER_SCOPED = {
    ("", "Namespace"), ("", "Node"), ("", "PersistentVolume"), ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"), ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("storage.k8s.io", "StorageClass"), ("networking.k8s.io", "IngressClass"), ("scheduling.k8s.io", "PriorityClass"),
    ("apiregistration.k8s.io", "APIService"), ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"), ("storage.k8s.io", "CSIDriver"),
    ("node.k8s.io", "RuntimeClass"), ("certificates.k8s.io", "CertificateSigningRequest"),
}

Key = tuple[str, str, str, str]   # group, kind, namespace, name


def group_of(obj: dict) -> str:
    api_version = str(obj.get("apiVersion") or "")
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def version_of(obj: dict) -> str:
    return str(obj.get("apiVersion") or "").rsplit("/", 1)[-1]


def is_namespaced(group: str, kind: str, cluster_scoped_crs: set | None = None) -> bool:
    return (group, kind) not in CLUSTER_SCOPED and (group, kind) not in (cluster_scoped_crs or set())


def key_of(obj: dict) -> Key:
    meta = obj.get("metadata") or {}
    return group_of(obj), str(obj.get("kind") or ""), meta.get("namespace") or "", meta.get("name") or ""


@dataclass
class Comparison:
    sync_status: str
    health_status: str
    resources: list[dict]                       # status.resources entries
    managed: list[tuple[dict | None, dict | None]]
    hooks: list[dict]
    conditions: list[tuple[str, str]] = field(default_factory=list)
    out_of_sync: set = field(default_factory=set)
    resource_health: dict = field(default_factory=dict)   # key -> HealthStatus


def normalize_targets(targets: list[dict], dest_namespace: str, instance: str, settings: Settings,
                      cluster_scoped_crs: set | None = None) -> tuple[list[dict], list[tuple[str, str]]]:
    """Namespaces defaulted, tracking set, duplicates reduced to the last one (``NormalizeTargetObjects``)."""
    by_key: dict[Key, list[dict]] = {}
    order: list[Key] = []
    for obj in targets:
        obj = dict(obj)
        obj["metadata"] = dict(obj.get("metadata") or {})
        group, kind = group_of(obj), str(obj.get("kind") or "")
        if is_namespaced(group, kind, cluster_scoped_crs):
            if not obj["metadata"].get("namespace") and dest_namespace:
                obj["metadata"]["namespace"] = dest_namespace
        else:
            obj["metadata"].pop("namespace", None)
        if not synctasks.is_hook(obj):
            obj = tracking.set_tracking(obj, instance, settings.tracking_method, dest_namespace,
                                        label_key=settings.instance_label_key,
                                        installation_id=settings.installation_id)
        key = key_of(obj)
        if key not in by_key:
            order.append(key)
        by_key.setdefault(key, []).append(obj)
    conditions = []
    for key in order:
        if len(by_key[key]) > 1:
            group, kind, ns, name = key
            conditions.append(("RepeatedResourceWarning",
                               f"Resource {group}/{kind}/{ns}/{name} appeared {len(by_key[key])} times "
                               f"among application resources."))
    return [by_key[k][-1] for k in order], conditions


def compare(app: dict, targets: list[dict], live_objects: list[dict], settings: Settings, *,
            failed_to_load: bool = False, cluster_scoped_crs: set | None = None) -> Comparison:
    spec = app.get("spec") or {}
    instance = tracking.instance_name(app["metadata"]["name"], app["metadata"].get("namespace", ""))
    resources_targets, hooks = synctasks.split_hooks(targets)
    live_by_key = {key_of(o): o for o in live_objects}
    managed: list[tuple[dict | None, dict | None]] = []
    seen: set[Key] = set()
    for target in resources_targets:
        key = key_of(target)
        seen.add(key)
        managed.append((target, live_by_key.get(key)))
    for key, live in live_by_key.items():
        if key in seen or synctasks.is_hook(live):
            continue
        owner = tracking.owning_app(live, settings.tracking_method, label_key=settings.instance_label_key,
                                    installation_id=settings.installation_id)
        if owner == instance and not (live.get("metadata") or {}).get("ownerReferences"):
            managed.append((None, live))
    rules = [differ.IgnoreDifference.from_spec(r) for r in spec.get("ignoreDifferences") or []]
    conditions: list[tuple[str, str]] = []
    sync_code = SYNCED
    entries, out_of_sync, health_by_key = [], set(), {}
    for target, live in managed:
        obj = live if live is not None else target
        group, kind, ns, name = key_of(obj if target is None else target)
        entry = {"group": group, "version": version_of(obj), "kind": kind, "namespace": ns, "name": name}
        self_ref = tracking.is_self_referenced(live, target, instance, settings.tracking_method,
                                               installation_id=settings.installation_id)
        if target is not None:
            wave = synctasks.sync_wave(target)
            if wave:
                entry["syncWave"] = wave
        if synctasks.is_ignored(obj) or not self_ref:
            pass
        else:
            system = system_ignore_rules(settings, group, kind)
            result = differ.diff(target, live, ignore_differences=rules + system) if target is not None and live is not None else None
            if target is None or live is None or (result is not None and result.modified):
                entry["status"] = OUT_OF_SYNC
                out_of_sync.add((group, kind, ns, name))
                extraneous = target is None
                if not extraneous or "IgnoreExtraneous" not in str(
                        ((live.get("metadata") or {}).get("annotations") or {}).get(COMPARE_OPTIONS, "")):
                    sync_code = OUT_OF_SYNC
            else:
                entry["status"] = SYNCED
        if target is None and live is not None and self_ref:
            entry["requiresPruning"] = True
        if is_namespaced(group, kind, cluster_scoped_crs) and not ns:
            conditions.append(("InvalidSpecError", f"Namespace for {name} {group_version_kind(obj)} is missing."))
        if failed_to_load:
            entry["status"] = UNKNOWN
        if live is not None:
            found = healthmod.resource_health(live)
            if found is not None:
                health_by_key[(group, kind, ns, name)] = found
                if settings.persist_resource_health:
                    entry["health"] = {"status": found.status, **({"message": found.message} if found.message else {})}
        elif settings.persist_resource_health and target is not None and healthmod.health_check_for(target):
            entry["health"] = {"status": healthmod.MISSING}
        entries.append({k: v for k, v in entry.items() if v not in ("", None) or k in ("kind", "name")})
    if failed_to_load:
        sync_code = UNKNOWN
    entries.sort(key=lambda e: (e.get("group", ""), e["kind"], e.get("namespace", ""), e["name"]))
    app_key = (app["metadata"].get("namespace", ""), app["metadata"]["name"])
    health = healthmod.aggregate_app_health(
        [healthmod.ManagedResource(target=t, live=l) for t, l in managed], app=app_key)
    return Comparison(sync_code, health, entries, managed, hooks, conditions, out_of_sync, health_by_key)


def group_version_kind(obj: dict) -> str:
    """Go ``GroupVersionKind.String()``: ``apps/v1, Kind=Deployment``."""
    api_version = str(obj.get("apiVersion") or "")
    group, version = api_version.split("/", 1) if "/" in api_version else ("", api_version)
    return f"{group}/{version}, Kind={obj.get('kind', '')}"
