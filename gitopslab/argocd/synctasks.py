"""Sync tasks: hooks, waves, sync options and ordering (gitops-engine ``pkg/sync``), pure, no I/O.

What gets applied, in which phase and wave, and in which order:

* hooks: ``argocd.argoproj.io/hook`` (CSV of PreSync, Sync, PostSync, SyncFail,
  Skip), else ``helm.sh/hook`` (pre-install/pre-upgrade -> PreSync,
  post-install/post-upgrade -> PostSync); delete policies, default
  BeforeHookCreation; hooks with only ``generateName`` get a deterministic name;
* waves: ``argocd.argoproj.io/sync-wave``, else ``helm.sh/hook-weight``, else 0;
* per-resource ``argocd.argoproj.io/sync-options`` (Prune=false, PruneLast=true...);
* ``order_tasks``: phase -> wave -> kind -> name, then a Namespace moves before
  the first resource in it and a CRD before its first custom resource.

``build_tasks`` mirrors ``syncContext.getSyncTasks`` without the API calls.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
HOOK_FINALIZER = "argocd.argoproj.io/hook-finalizer"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
DELETION_APPROVED = "argocd.argoproj.io/deletion-approved"
HELM_HOOK = "helm.sh/hook"
HELM_HOOK_WEIGHT = "helm.sh/hook-weight"
HELM_HOOK_DELETE_POLICY = "helm.sh/hook-delete-policy"

PRE_SYNC, SYNC, POST_SYNC, SYNC_FAIL, SKIP = "PreSync", "Sync", "PostSync", "SyncFail", "Skip"
PRE_DELETE, POST_DELETE = "PreDelete", "PostDelete"
HOOK_TYPES = (PRE_SYNC, SYNC, POST_SYNC, SYNC_FAIL, SKIP)
PHASE_ORDER = {PRE_SYNC: -1, SYNC: 0, POST_SYNC: 1, SYNC_FAIL: 2}

HOOK_SUCCEEDED, HOOK_FAILED, BEFORE_HOOK_CREATION = "HookSucceeded", "HookFailed", "BeforeHookCreation"
DELETE_POLICIES = (HOOK_SUCCEEDED, HOOK_FAILED, BEFORE_HOOK_CREATION)

_HELM_HOOK_TYPES = {
    "pre-install": PRE_SYNC,
    "pre-upgrade": PRE_SYNC,
    "post-upgrade": POST_SYNC,
    "post-install": POST_SYNC,
}
_HELM_DELETE_POLICIES = {
    "before-hook-creation": BEFORE_HOOK_CREATION,
    "hook-succeeded": HOOK_SUCCEEDED,
    "hook-failed": HOOK_FAILED,
}
# Argo CD controller's app-deletion hooks (controller/hook.go), not sync phases.
_DELETION_HOOK_VALUES = {
    PRE_DELETE: {HOOK: PRE_DELETE, HELM_HOOK: "pre-delete"},
    POST_DELETE: {HOOK: POST_DELETE, HELM_HOOK: "post-delete"},
}

# Helm's install order, as gitops-engine sync_tasks.go; unlisted kinds sort last.
KIND_ORDER = (
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
    "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
    "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
    "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList",
    "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
    "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
    "IngressClass", "Ingress", "APIService",
)
_KIND_RANK = {kind: i - len(KIND_ORDER) for i, kind in enumerate(KIND_ORDER)}

_GO_ATOI = re.compile(r"[+-]?[0-9]+")


# --- annotations ---------------------------------------------------------------

def annotations(obj: dict | None) -> dict:
    return ((obj or {}).get("metadata") or {}).get("annotations") or {}


def annotation_csv(obj: dict | None, key: str) -> list[str]:
    """Trimmed, de-duplicated, non-empty values of a comma-separated annotation."""
    values: list[str] = []
    for item in str(annotations(obj).get(key) or "").split(","):
        item = item.strip()
        if item and item not in values:
            values.append(item)
    return values


def _atoi(text: object) -> int | None:
    """Go ``strconv.Atoi``: optional sign and digits only, else None."""
    return int(text) if isinstance(text, str) and _GO_ATOI.fullmatch(text) else None


# --- hooks -----------------------------------------------------------------------

def hook_types(obj: dict | None) -> list[str]:
    """Argo CD hook types of an object; Helm hooks count only without an Argo CD one."""
    types = [t for t in annotation_csv(obj, HOOK) if t in HOOK_TYPES]
    if not types:
        types = [_HELM_HOOK_TYPES[t] for t in annotation_csv(obj, HELM_HOOK) if t in _HELM_HOOK_TYPES]
    return types


def is_skip(obj: dict | None) -> bool:
    """``argocd.argoproj.io/hook: Skip`` alone: the resource is never applied."""
    types = hook_types(obj)
    return SKIP in types and len(types) == 1


def is_hook(obj: dict | None) -> bool:
    """gitops-engine ``hook.IsHook``: a sync hook (Skip is not one; helm crd-install neither)."""
    found = annotations(obj)
    if HOOK in found:
        return not is_skip(obj)
    return HELM_HOOK in found and found[HELM_HOOK] != "crd-install"


def is_ignored(obj: dict | None) -> bool:
    """A hook of a type Argo CD does not run (e.g. helm test): ignored entirely."""
    return is_hook(obj) and not hook_types(obj)


def deletion_hook_types(obj: dict | None) -> list[str]:
    """PreDelete/PostDelete app-deletion hook types (Argo CD controller/hook.go)."""
    found = annotations(obj)
    return [
        hook_type
        for hook_type, wanted in _DELETION_HOOK_VALUES.items()
        if any(_csv_contains(found.get(key), value) for key, value in wanted.items())
    ]


def _csv_contains(text: object, value: str) -> bool:
    return isinstance(text, str) and value in (item.strip() for item in text.split(","))


def is_any_hook(obj: dict | None) -> bool:
    """Argo CD's ``isHook``: a sync hook or an app-deletion hook (``status.resources[].hook``)."""
    return is_hook(obj) or bool(deletion_hook_types(obj))


def delete_policies(obj: dict | None) -> list[str]:
    """Hook delete policies; BeforeHookCreation when none is given."""
    policies = [p for p in annotation_csv(obj, HOOK_DELETE_POLICY) if p in DELETE_POLICIES]
    policies += [
        _HELM_DELETE_POLICIES[p] for p in annotation_csv(obj, HELM_HOOK_DELETE_POLICY) if p in _HELM_DELETE_POLICIES
    ]
    return policies or [BEFORE_HOOK_CREATION]


def sync_phases(obj: dict) -> list[str]:
    """Phases in which the object is applied: hooks per type, others in Sync."""
    if is_skip(obj):
        return []
    if is_hook(obj):
        found = {t for t in hook_types(obj) if t in PHASE_ORDER}
        return sorted(found, key=PHASE_ORDER.__getitem__)
    return [SYNC]


def sync_wave(obj: dict | None) -> int:
    """``argocd.argoproj.io/sync-wave``, else ``helm.sh/hook-weight``, else 0."""
    found = annotations(obj)
    wave = _atoi(found.get(SYNC_WAVE))
    if wave is None:
        wave = _atoi(found.get(HELM_HOOK_WEIGHT))
    return wave if wave is not None else 0


def hook_name(generate_name: str, revision: str, phase: str, started_at_unix: int) -> str:
    """Name given to a hook that only has ``generateName``.

    ``<generateName><revision[0:7]>-<phase>-<unix start>``, the postfix lower-cased.
    """
    short = revision[:7] if len(revision) >= 8 else revision
    return f"{generate_name}{f'{short}-{phase}-{started_at_unix}'.lower()}"


# --- per-resource sync options ------------------------------------------------------

def has_sync_option(obj: dict | None, option: str) -> bool:
    """e.g. ``has_sync_option(obj, "PruneLast=true")``."""
    return option in annotation_csv(obj, SYNC_OPTIONS)


def sync_option_value(obj: dict | None, key: str) -> str | None:
    """Value of ``Key=value`` in the sync-options annotation, or None."""
    for item in annotation_csv(obj, SYNC_OPTIONS):
        if item.startswith(key + "="):
            return item[len(key) + 1:]
    return None


def is_pruning_disabled(live: dict | None, app_default: str | None = None) -> bool:
    """``Prune=false`` on the resource (or as the app default): never pruned."""
    value = sync_option_value(live, "Prune") if live is not None else None
    return (value if value is not None else app_default) == "false"


def requires_prune_confirmation(live: dict | None, app_default: str | None = None) -> bool:
    """``Prune=confirm``: pruning waits for ``argocd.argoproj.io/deletion-approved``."""
    value = sync_option_value(live, "Prune") if live is not None else None
    return (value if value is not None else app_default) == "confirm"


def is_deletion_disabled(obj: dict | None) -> bool:
    """``Delete=false``: the resource is kept when the application is deleted."""
    return sync_option_value(obj, "Delete") == "false"


def requires_deletion_confirmation(obj: dict | None) -> bool:
    return sync_option_value(obj, "Delete") == "confirm"


def should_replace(task: "SyncTask", app_replace: bool = False) -> bool:
    """Use create/replace instead of apply (``Replace=true`` on app, target or live)."""
    return (
        app_replace
        or has_sync_option(task.target, "Replace=true")
        or (task.live is not None and has_sync_option(task.live, "Replace=true"))
    )


def should_server_side_apply(target: dict, app_server_side_apply: bool = False, dry_run: bool = False) -> bool:
    """``ServerSideApply=true`` on app or target, unless the target says ``=false``; never in dry run."""
    if dry_run or has_sync_option(target, "ServerSideApply=false"):
        return False
    return app_server_side_apply or has_sync_option(target, "ServerSideApply=true")


# --- tasks ---------------------------------------------------------------------

def _group(obj: dict) -> str:
    api_version = str(obj.get("apiVersion") or "")
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


@dataclass
class SyncTask:
    """One thing to do during a sync: apply ``target`` or prune ``live``.

    ``target`` None means prune; ``live`` None means create. Identity fields
    come from the target when there is one, else from the live object.
    """

    phase: str
    target: dict | None
    live: dict | None = None
    wave_override: int | None = None
    # Filled by the executor while running (gitops-engine syncTask state).
    sync_status: str = ""
    operation_state: str = ""
    message: str = ""
    skip_dry_run: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def obj(self) -> dict:
        return self.target if self.target is not None else (self.live or {})

    @property
    def wave(self) -> int:
        return self.wave_override if self.wave_override is not None else sync_wave(self.obj)

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind") or "")

    @property
    def group(self) -> str:
        return _group(self.obj)

    @property
    def version(self) -> str:
        return str(self.obj.get("apiVersion") or "").rsplit("/", 1)[-1]

    @property
    def name(self) -> str:
        return str(_meta(self.obj).get("name") or "")

    @property
    def namespace(self) -> str:
        return str(_meta(self.obj).get("namespace") or "")

    @property
    def is_hook(self) -> bool:
        return is_hook(self.obj)

    @property
    def is_prune(self) -> bool:
        return self.target is None

    @property
    def hook_type(self) -> str:
        return self.phase if self.is_hook else ""

    def has_delete_policy(self, policy: str) -> bool:
        return self.is_hook and policy in delete_policies(self.obj)

    @property
    def delete_before_creation(self) -> bool:
        """A live hook with BeforeHookCreation is deleted before it is created again."""
        pending = self.operation_state == ""
        return self.live is not None and pending and self.has_delete_policy(BEFORE_HOOK_CREATION)

    def sort_key(self) -> tuple[int, int, int, str]:
        return (PHASE_ORDER.get(self.phase, 0), self.wave, _KIND_RANK.get(self.kind, 0), self.name)

    def __str__(self) -> str:
        role = "hook" if self.is_hook else "resource"
        return (
            f"{self.phase}/{self.wave} {role} {self.group}/{self.kind}:{self.namespace}/{self.name} "
            f"{'obj' if self.live is not None else 'nil'}->{'obj' if self.target is not None else 'nil'}"
        )


def order_tasks(tasks: list[SyncTask]) -> list[SyncTask]:
    """Sort as gitops-engine ``syncTasks.Sort``; returns a new list (tasks may get a wave override)."""
    ordered = sorted(tasks, key=SyncTask.sort_key)
    _adjust_deps(ordered, _namespace_dep, _namespace_ref)
    _adjust_deps(ordered, _crd_dep, _cr_ref)
    return ordered


def _namespace_dep(obj: dict) -> str | None:
    return str(_meta(obj).get("name") or "") if obj.get("kind") == "Namespace" and _group(obj) == "" else None


def _namespace_ref(obj: dict) -> str | None:
    return _meta(obj).get("namespace") or None


def _crd_dep(obj: dict) -> str | None:
    if obj.get("kind") != "CustomResourceDefinition" or _group(obj) != "apiextensions.k8s.io":
        return None
    spec = obj.get("spec") or {}
    crd_group, crd_kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    if not isinstance(crd_group, str) or not isinstance(crd_kind, str):
        return None
    return f"{crd_group}/{crd_kind}"


def _cr_ref(obj: dict) -> str | None:
    return f"{_group(obj)}/{obj.get('kind', '')}"


def _adjust_deps(tasks: list[SyncTask], is_dep, refers_to) -> None:
    """Move each dependency before the first task referencing it, into that task's phase and wave."""
    first_index: dict[str, int] = {}
    for i in range(len(tasks)):
        task = tasks[i]
        if task.target is None:
            continue
        dep_key = is_dep(task.target)
        if dep_key is not None:
            index = first_index.get(dep_key)
            if index is None:
                continue
            task.wave_override = tasks[index].wave
            task.phase = tasks[index].phase
            tasks.insert(index, tasks.pop(i))
            for key, found in first_index.items():
                if found >= index:
                    first_index[key] = found + 1
            continue
        ref_key = refers_to(task.target)
        if ref_key is not None and ref_key not in first_index:
            first_index[ref_key] = i


def split_hooks(targets: list[dict]) -> tuple[list[dict], list[dict]]:
    """Split rendered manifests into (resources, hooks); ignored hooks are dropped."""
    resources, hooks = [], []
    for obj in targets:
        if obj is None or is_ignored(obj):
            continue
        (hooks if is_hook(obj) else resources).append(obj)
    return resources, hooks


def build_tasks(
    resources: list[tuple[dict | None, dict | None]],
    hooks: list[dict],
    *,
    namespace: str,
    revision: str = "",
    started_at_unix: int = 0,
    prune_last: bool = False,
    skip_hooks: bool = False,
    find_live=None,
) -> list[SyncTask]:
    """Ordered sync tasks, as gitops-engine ``getSyncTasks`` computes them.

    ``resources``: (target, live) pairs of managed resources (target None =
    prune). ``hooks``: hook manifests. ``namespace``: the destination namespace
    set on targets without one. ``find_live(target) -> dict | None`` looks up
    the live object of a hook. ``prune_last``: the app-level PruneLast option.
    """
    tasks = _resource_tasks(resources)
    if not skip_hooks:
        tasks += _hook_tasks(hooks, revision, started_at_unix)
    for task in tasks:
        if task.target is not None and not _meta(task.target).get("namespace"):
            task.target = copy.deepcopy(task.target)
            task.target.setdefault("metadata", {})["namespace"] = namespace
    if find_live is not None:
        for task in tasks:
            if task.target is not None and task.live is None:
                task.live = find_live(task.target)
    _mirror_prune_waves(tasks)
    _apply_prune_last(tasks, prune_last)
    return order_tasks(tasks)


def _resource_tasks(resources: list[tuple[dict | None, dict | None]]) -> list[SyncTask]:
    tasks = []
    for target, live in resources:
        obj = target if target is not None else live
        if obj is None or is_hook(obj):
            continue
        tasks += [SyncTask(phase=phase, target=target, live=live) for phase in sync_phases(obj)]
    return tasks


def _hook_tasks(hooks: list[dict], revision: str, started_at_unix: int) -> list[SyncTask]:
    tasks = []
    for hook in hooks:
        for phase in sync_phases(hook):
            target = copy.deepcopy(hook)
            metadata = target.setdefault("metadata", {})
            if not metadata.get("name"):
                metadata["name"] = hook_name(metadata.get("generateName", ""), revision, phase, started_at_unix)
            finalizers = metadata.setdefault("finalizers", [])
            if HOOK_FINALIZER not in finalizers:
                finalizers.append(HOOK_FINALIZER)
            tasks.append(SyncTask(phase=phase, target=target))
    return tasks


def _mirror_prune_waves(tasks: list[SyncTask]) -> None:
    """Prune in the reverse order of creation: swap prune waves symmetrically."""
    by_wave: dict[int, list[SyncTask]] = {}
    for task in tasks:
        if task.is_prune:
            by_wave.setdefault(task.wave, []).append(task)
    waves = sorted(by_wave)
    for i in range(len(waves) // 2):
        low, high = waves[i], waves[-1 - i]
        for task in by_wave[low]:
            task.wave_override = high
        for task in by_wave[high]:
            task.wave_override = low


def _apply_prune_last(tasks: list[SyncTask], prune_last: bool) -> None:
    """PruneLast prune tasks go one wave after the last Sync-phase wave."""
    last_wave = max([0] + [t.wave for t in tasks if t.phase == SYNC]) + 1
    for task in tasks:
        if task.is_prune and (prune_last or has_sync_option(task.live, "PruneLast=true")):
            task.wave_override = last_wave
