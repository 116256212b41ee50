"""Running one sync operation, as gitops-engine's ``syncContext.Sync`` does, step by step.

Tasks come from ``synctasks.build_tasks`` (phases, waves, kind order,
prune waves, PruneLast). The engine: creates the destination namespace
(``CreateNamespace=true``), dry-runs every task, then runs one phase/wave at
a time. Applied resources are ``Synced`` with hookPhase ``Running``; before
the *next* wave it waits 2 s (lab clock) and until they are healthy
(Degraded fails the sync); the last wave is not awaited, so a plain sync
succeeds right after apply. Hooks are awaited until they complete;
SyncFail hooks run only on failure. ``progress`` is called with
(phase, message, results) whenever the visible state changes.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from gitopslab.argocd import apply as applier
from gitopslab.argocd import synctasks
from gitopslab.argocd.health import DEGRADED, HEALTHY, resource_health
from gitopslab.argocd.synctasks import SyncTask
from gitopslab.cluster.errors import ApiError

WAVE_DELAY_SECONDS = 2.0
POLL_SECONDS = 1.0
RUNNING, SUCCEEDED, FAILED, ERROR = "Running", "Succeeded", "Failed", "Error"
SYNCED, SYNC_FAILED, PRUNED, PRUNE_SKIPPED = "Synced", "SyncFailed", "Pruned", "PruneSkipped"
_HOOK_PHASE_OF = {SYNCED: RUNNING, SYNC_FAILED: FAILED, PRUNED: SUCCEEDED, PRUNE_SKIPPED: SUCCEEDED}

Progress = Callable[[str, str, list], Awaitable[None]]


@dataclass
class SyncRequest:
    resources: list[tuple[dict | None, dict | None]]   # managed (target, live); target None = prune candidate
    hooks: list[dict]
    namespace: str
    revision: str
    prune: bool = False
    dry_run: bool = False
    options: frozenset = frozenset()                    # "CreateNamespace=true", "ServerSideApply=true"…
    only: list[dict] | None = None                      # operation.sync.resources filter
    out_of_sync: set = field(default_factory=set)       # task_key of OutOfSync resources
    only_out_of_sync: bool = False                      # self-heal syncs touch only those
    skip_hooks: bool = False
    validate: Callable[[dict], str] | None = None       # project permission check: error text or ""


@dataclass
class SyncOutcome:
    phase: str
    message: str
    results: list[dict]


def task_key(obj: dict) -> tuple[str, str, str, str]:
    api_version = str(obj.get("apiVersion") or "")
    group = api_version.split("/", 1)[0] if "/" in api_version else ""
    meta = obj.get("metadata") or {}
    return group, str(obj.get("kind") or ""), meta.get("namespace") or "", meta.get("name") or ""


def has_option(options, name: str) -> bool:
    return f"{name}=true" in options


class SyncEngine:
    def __init__(self, client, clock, progress: Progress | None = None):
        self.client = client
        self.clock = clock
        self.progress = progress
        self._results: dict[tuple, dict] = {}
        # what this sync wrote: (apiVersion, kind, namespace, name) -> resourceVersion, None once deleted
        self.written: dict[tuple, str | None] = {}

    # --- results -------------------------------------------------------
    def _set_result(self, task: SyncTask, status: str, hook_phase: str, message: str) -> None:
        task.sync_status, task.operation_state = status, hook_phase
        if message:
            task.message = message
        key = (task.phase,) + task_key(task.obj)
        entry = self._results.get(key)
        if entry is None:
            entry = {"group": task.group, "version": task.version, "kind": task.kind,
                     "namespace": task.namespace, "name": task.name}
            self._results[key] = entry
        entry.update(status=status, message=task.message, hookPhase=hook_phase, syncPhase=task.phase)
        if task.is_hook:
            entry["hookType"] = task.hook_type
        images = _images(task.obj)
        if images:
            entry["images"] = images
        if not entry["message"]:
            entry.pop("message")

    def results(self) -> list[dict]:
        return [{k: v for k, v in r.items() if v != "" or k == "namespace"} for r in self._results.values()]

    def _wrote(self, obj: dict, resource_version: str | None) -> None:
        self.written[_written_key(obj)] = resource_version

    async def _report(self, phase: str, message: str) -> None:
        if self.progress is not None:
            await self.progress(phase, message, self.results())

    # --- the operation ---------------------------------------------------
    async def run(self, req: SyncRequest) -> SyncOutcome:
        tasks = self._tasks(req)
        if not self._permitted(tasks, req):
            return SyncOutcome(FAILED, "one or more synchronization tasks are not valid", self.results())
        if has_option(req.options, "CreateNamespace") and req.namespace:
            failed = await self._create_namespace(req)
            if failed:
                return SyncOutcome(FAILED, f"the namespace failed to apply, reason: {failed}", self.results())
        if not await self._run_tasks(_dry_runnable([t for t in tasks if t.phase != synctasks.SYNC_FAIL]), req,
                                     dry_run=True):
            return SyncOutcome(FAILED, "one or more objects failed to apply (dry run)", self.results())
        if req.dry_run:
            return SyncOutcome(SUCCEEDED, "successfully synced (all tasks run)", self.results())
        sync_fail = [t for t in tasks if t.phase == synctasks.SYNC_FAIL]
        groups = _phase_wave_groups([t for t in tasks if t.phase != synctasks.SYNC_FAIL])
        if not groups:
            return SyncOutcome(SUCCEEDED, "successfully synced (no more tasks)", self.results())
        for index, group in enumerate(groups):
            await self._report(RUNNING, "one or more tasks are running")
            if not await self._run_tasks(group, req, dry_run=False):
                failed = [t for t in group if t.sync_status == SYNC_FAILED]
                return await self._fail(sync_fail, failed, "one or more objects failed to apply", req)
            last = index == len(groups) - 1
            if last and not any(t.is_hook for t in group):
                await self._wait_pruned(group)
                await self._delete_hooks(tasks, synctasks.HOOK_SUCCEEDED)
                return SyncOutcome(SUCCEEDED, "successfully synced (all tasks run)", self.results())
            if not last:
                await self.clock.sleep(WAVE_DELAY_SECONDS)
            await self._wait_running(group)
            await self._wait_pruned(group)
            if any(t.operation_state in (FAILED, ERROR) for t in group):
                failed = [t for t in group if t.operation_state in (FAILED, ERROR)]
                await self._delete_hooks(tasks, synctasks.HOOK_FAILED)
                return await self._fail(sync_fail, failed, "one or more synchronization tasks completed unsuccessfully", req)
        await self._delete_hooks(tasks, synctasks.HOOK_SUCCEEDED)
        return SyncOutcome(SUCCEEDED, "successfully synced (no more tasks)", self.results())

    def _tasks(self, req: SyncRequest) -> list[SyncTask]:
        resources = req.resources
        if req.only:
            wanted = {(r.get("group", ""), r.get("kind", ""), r.get("namespace", "") or "", r.get("name", ""))
                      for r in req.only}
            resources = [(t, l) for t, l in resources if task_key(t if t is not None else l) in wanted]
        if has_option(req.options, "ApplyOutOfSyncOnly") or req.only_out_of_sync:
            resources = [(t, l) for t, l in resources if task_key(t if t is not None else l) in req.out_of_sync]
        return synctasks.build_tasks(
            resources, [] if req.skip_hooks else req.hooks, namespace=req.namespace, revision=req.revision,
            started_at_unix=int(time.time()), prune_last=has_option(req.options, "PruneLast"),
            skip_hooks=req.skip_hooks)

    def _permitted(self, tasks: list[SyncTask], req: SyncRequest) -> bool:
        """gitops-engine's permission validator: a denied resource fails the whole operation."""
        if req.validate is None:
            return True
        ok = True
        for task in tasks:
            error = req.validate(task.obj)
            if error:
                self._set_result(task, SYNC_FAILED, "", error)
                ok = False
        return ok

    async def _create_namespace(self, req: SyncRequest) -> str:
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": req.namespace}}
        if await self.client.get_or_none("v1", "Namespace", req.namespace) is not None:
            return ""
        task = SyncTask(phase=synctasks.PRE_SYNC, target=ns)
        try:
            await self.client.create(ns)
            self._set_result(task, SYNCED, RUNNING, f"namespace/{req.namespace} created")
            return ""
        except ApiError as e:
            if e.code == 409:
                return ""
            self._set_result(task, SYNC_FAILED, FAILED, e.message)
            return e.message

    async def _run_tasks(self, tasks: list[SyncTask], req: SyncRequest, *, dry_run: bool) -> bool:
        ok = True
        for task in tasks:
            if task.is_prune:
                status, message = await self._prune(task, req, dry_run)
            else:
                status, message = await self._apply(task, req, dry_run)
            if status == SYNC_FAILED:
                ok = False
            if not dry_run or status == SYNC_FAILED:
                self._set_result(task, status, _HOOK_PHASE_OF[status], message)
        return ok

    async def _apply(self, task: SyncTask, req: SyncRequest, dry_run: bool) -> tuple[str, str]:
        try:
            if task.delete_before_creation and not dry_run:
                await applier.prune(self.client, task.live, propagation="background")
                await self._wait_gone(task.live)
                task.live = None
            live = task.live if not task.is_hook else None
            result = await applier.apply(
                self.client, task.target, live, dry_run=dry_run,
                server_side=synctasks.should_server_side_apply(task.target, has_option(req.options, "ServerSideApply"), dry_run),
                replace=synctasks.should_replace(task, has_option(req.options, "Replace")))
            if not dry_run and result.object is not None:
                self._wrote(result.object, ((result.object.get("metadata") or {}).get("resourceVersion")))
            return SYNCED, result.message
        except ApiError as e:
            return SYNC_FAILED, e.message
        except Exception as e:  # a cluster that does not answer
            return SYNC_FAILED, str(e)

    async def _prune(self, task: SyncTask, req: SyncRequest, dry_run: bool) -> tuple[str, str]:
        if not req.prune:
            return PRUNE_SKIPPED, "ignored (requires pruning)"
        if synctasks.is_pruning_disabled(task.live):
            return PRUNE_SKIPPED, "ignored (no prune)"
        if dry_run:
            return PRUNED, "pruned (dry run)"
        try:
            if not (task.live.get("metadata") or {}).get("deletionTimestamp"):
                policy = _option_value(req.options, "PrunePropagationPolicy") or "foreground"
                await applier.prune(self.client, task.live, propagation=policy)
            self._wrote(task.live, None)
            return PRUNED, "pruned"
        except ApiError as e:
            return SYNC_FAILED, e.message

    async def _wait_running(self, group: list[SyncTask]) -> None:
        while True:
            running = [t for t in group if t.operation_state == RUNNING]
            for task in running:
                await self._refresh(task)
            running = [t for t in group if t.operation_state == RUNNING]
            if not running:
                return
            await self._report(RUNNING, _waiting_message(running))
            await self.clock.sleep(POLL_SECONDS)

    async def _wait_pruned(self, group: list[SyncTask]) -> None:
        """As gitops-engine, an operation does not go on while objects it pruned are still being deleted
        (a foreground deletion waits for their dependents)."""
        pending = [t for t in group if t.is_prune and self.written.get(_written_key(t.live), "") is None]
        while True:
            pending = [t for t in pending if await self._still_deleting(t.live)]
            if not pending:
                return
            await self._report(RUNNING, _waiting_message(pending, "deletion of"))
            await self.clock.sleep(POLL_SECONDS)

    async def _still_deleting(self, live: dict) -> bool:
        meta = live["metadata"]
        current = await self.client.get_or_none(live["apiVersion"], live["kind"], meta["name"], meta.get("namespace"))
        return current is not None and (current["metadata"].get("uid") == meta.get("uid") or not meta.get("uid"))

    async def _refresh(self, task: SyncTask) -> None:
        meta = task.target["metadata"]
        live = await self.client.get_or_none(task.target["apiVersion"], task.kind, meta["name"], meta.get("namespace"))
        if live is None:
            self._set_result(task, SYNC_FAILED, ERROR,
                             f"Resource {task.group}/{task.kind}/{task.name} is missing, it might have been deleted")
            return
        task.live = live
        phase, message = hook_phase(live) if task.is_hook else _resource_phase(live)
        if phase != RUNNING:
            if task.is_hook:
                await self._remove_hook_finalizer(live)
            self._set_result(task, task.sync_status, phase, message)

    async def _remove_hook_finalizer(self, live: dict) -> None:
        finalizers = (live.get("metadata") or {}).get("finalizers") or []
        if synctasks.HOOK_FINALIZER not in finalizers:
            return
        kept = [f for f in finalizers if f != synctasks.HOOK_FINALIZER]
        meta = live["metadata"]
        try:
            await self.client.patch(live["apiVersion"], live["kind"], meta["name"], {"metadata": {"finalizers": kept}},
                                    meta.get("namespace"), patch_type="merge")
        except ApiError:
            pass

    async def _delete_hooks(self, tasks: list[SyncTask], policy: str) -> None:
        for task in tasks:
            if task.is_hook and task.live is not None and task.has_delete_policy(policy):
                await self._remove_hook_finalizer(task.live)
                try:
                    await applier.prune(self.client, task.live, propagation="background")
                except ApiError:
                    pass

    async def _wait_gone(self, live: dict, attempts: int = 50) -> None:
        meta = live["metadata"]
        for _ in range(attempts):
            if await self.client.get_or_none(live["apiVersion"], live["kind"], meta["name"], meta.get("namespace")) is None:
                return
            await asyncio.sleep(0.05)

    async def _fail(self, sync_fail: list[SyncTask], failed: list[SyncTask], message: str, req: SyncRequest) -> SyncOutcome:
        reasons = [t.message for t in failed if t.message]
        text = f"{message}, reason: {','.join(reasons)}" if reasons else message
        if sync_fail:
            await self._run_tasks(sync_fail, req, dry_run=False)
            await self._wait_running(sync_fail)
            bad = [t for t in sync_fail if t.sync_status == SYNC_FAILED or t.operation_state in (FAILED, ERROR)]
            if bad:
                hook_reasons = ",".join(t.message for t in bad if t.message)
                text += "\none or more SyncFail hooks failed" + (f", reason: {hook_reasons}" if hook_reasons else "")
        return SyncOutcome(FAILED, text, self.results())


def hook_phase(live: dict) -> tuple[str, str]:
    """gitops-engine ``getOperationPhase`` for a hook: Job/Pod completion, else health."""
    status = resource_health(live)
    if status is None:
        return SUCCEEDED, ""
    if status.status == HEALTHY:
        return SUCCEEDED, status.message
    if status.status == DEGRADED:
        return FAILED, status.message
    return RUNNING, status.message


def _resource_phase(live: dict) -> tuple[str, str]:
    status = resource_health(live)
    if status is None:
        return SUCCEEDED, ""
    if status.status == HEALTHY:
        return SUCCEEDED, status.message
    if status.status == DEGRADED:
        return FAILED, status.message
    return RUNNING, ""


def _written_key(obj: dict) -> tuple[str, str, str, str]:
    meta = obj.get("metadata") or {}
    return obj.get("apiVersion") or "", obj.get("kind") or "", meta.get("namespace") or "", meta.get("name") or ""


def _waiting_message(running: list[SyncTask], pending_deletion: str = "") -> str:
    """gitops-engine's ``setRunningPhase`` wording."""
    hooks = [t for t in running if t.is_hook]
    resources = [t for t in running if not t.is_hook]
    reason = "completion of hook" if hooks else "healthy state of"
    if pending_deletion:
        reason = pending_deletion + (" hook" if hooks else "")
    first = hooks[0] if hooks else resources[0]
    message = f"waiting for {reason} {first.group}/{first.kind}/{first.name}"
    if len(running) > 1:
        message += f" and {len(running) - 1} more {'hooks' if not resources else 'resources'}"
    return message


def _dry_runnable(tasks: list[SyncTask]) -> list[SyncTask]:
    """Tasks the dry run can check: not those in a namespace this same sync creates
    (a chart's own Namespace, as gitops-engine skips them), which would only fail as missing."""
    created = {t.target["metadata"]["name"] for t in tasks
               if t.target is not None and t.live is None and not t.is_prune and t.target.get("kind") == "Namespace"}
    return [t for t in tasks
            if t.target is None or (t.target.get("metadata") or {}).get("namespace") not in created]


def _phase_wave_groups(tasks: list[SyncTask]) -> list[list[SyncTask]]:
    groups: list[list[SyncTask]] = []
    for task in tasks:
        key = (synctasks.PHASE_ORDER.get(task.phase, 0), task.wave)
        if groups and (synctasks.PHASE_ORDER.get(groups[-1][0].phase, 0), groups[-1][0].wave) == key:
            groups[-1].append(task)
        else:
            groups.append([task])
    return groups


def _images(obj: dict) -> list[str]:
    spec = obj.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or spec
    if obj.get("kind") == "CronJob":
        pod = ((((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {})
    containers = (pod.get("containers") or []) + (pod.get("initContainers") or [])
    return [c["image"] for c in containers if isinstance(c, dict) and c.get("image")]


def _option_value(options, name: str) -> str:
    for option in options:
        if option.startswith(name + "="):
            return option.split("=", 1)[1]
    return ""
