"""Deployment controller: ReplicaSets per pod template, RollingUpdate and Recreate,
revisions and history, status and conditions (``pkg/controller/deployment``).

Decisions come from the pure ``deployment_util``; this module does the API calls.
A Deployment's ReplicaSets come from the shared informer cache (indexed by
controller uid); a write based on a ReplicaSet the cache has not refreshed yet
fails on its resourceVersion (409) and the sync is retried, as upstream.
"""
from __future__ import annotations

import copy
import logging

from gitopslab.cluster.controllers import deployment_util as du
from gitopslab.cluster.controllers import timeutil
from gitopslab.cluster.controllers.base import Controller, controlled_by, index_by_controller, owner_key
from gitopslab.cluster.controllers.pods import controller_ref, is_owned_by
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import split_key

log = logging.getLogger(__name__)


class DeploymentController(Controller):
    name = "deployment"
    component = "deployment-controller"
    workers = 2

    def setup(self) -> None:
        self.watch("apps/v1", "Deployment")
        self.replica_sets = index_by_controller(self.watch("apps/v1", "ReplicaSet", owner_key("Deployment")))

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        d = await self.get_or_none("apps/v1", "Deployment", name, ns)
        if d is None:
            return
        rss = controlled_by(self.replica_sets, d)
        if d["metadata"].get("deletionTimestamp"):
            await self._sync_status_only(d, rss)
            return
        paused_status = du.paused_conditions(d, timeutil.now_str())
        if paused_status is not None:
            d = await self._write_status(d, paused_status)
        if (d.get("spec") or {}).get("paused") or self._is_scaling_event(d, rss):
            await self._sync(d, rss)
        elif du.strategy_type(d) == "Recreate":
            await self._rollout_recreate(d, rss)
        else:
            await self._rollout_rolling(d, rss)

    # --- ReplicaSets and revisions ---------------------------------------------
    async def _new_and_old(self, d: dict, rss: list[dict], create: bool) -> tuple[dict, dict | None, list[dict]]:
        """``getAllReplicaSetsAndSyncRevision``: (deployment, new RS or None, old RSs)."""
        existing = du.find_new_rs(d, rss)
        old = [rs for rs in rss if rs is not existing]
        new_revision = du.max_revision(old) + 1
        if existing is not None:
            d, existing = await self._sync_existing_new_rs(d, existing, new_revision)
            return d, existing, old
        if not create:
            return d, None, old
        d, created = await self._create_new_rs(d, old, new_revision)
        return d, created, old

    async def _sync_existing_new_rs(self, d: dict, rs: dict, new_revision: int) -> tuple[dict, dict]:
        annotations = du.new_rs_annotations(d, rs, new_revision, exists=True)
        min_ready = du.min_ready_seconds(d)
        if annotations != (rs["metadata"].get("annotations") or {}) or du.min_ready_seconds(rs) != min_ready:
            rs = copy.deepcopy(rs)
            rs["metadata"]["annotations"] = annotations
            rs["spec"]["minReadySeconds"] = min_ready
            rs = await self.client.replace(rs)
        d = await self._set_deployment_revision(d, rs)
        if du.progress_deadline(d) is not None and du.get_condition(d.get("status") or {}, du.PROGRESSING) is None:
            status = copy.deepcopy(d.get("status") or {})
            du.set_condition(status, du.new_condition(du.PROGRESSING, "True", du.FOUND_NEW_RS,
                                                      f'Found new replica set "{rs["metadata"]["name"]}"', timeutil.now_str()))
            d = await self._write_status(d, status)
        return d, rs

    async def _set_deployment_revision(self, d: dict, rs: dict) -> dict:
        rev = (rs["metadata"].get("annotations") or {}).get(du.REVISION)
        annotations = d["metadata"].get("annotations") or {}
        if rev is None or annotations.get(du.REVISION) == rev:
            return d
        d = copy.deepcopy(d)
        d["metadata"].setdefault("annotations", {})[du.REVISION] = rev
        return self._typed(await self.client.replace(d))

    async def _create_new_rs(self, d: dict, old: list[dict], new_revision: int) -> tuple[dict, dict | None]:
        hash_ = du.template_hash(d)
        template = du.new_rs_template(d, hash_)
        rs = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{d['metadata']['name']}-{hash_}", "namespace": d["metadata"]["namespace"],
                         "labels": dict(template["metadata"]["labels"]), "ownerReferences": [controller_ref(d)]},
            "spec": {"replicas": 0, "minReadySeconds": du.min_ready_seconds(d),
                     "selector": du.new_rs_selector(d, hash_), "template": template},
        }
        rs["spec"]["replicas"] = du.new_rs_new_replicas(d, old + [rs], rs)
        rs["metadata"]["annotations"] = du.new_rs_annotations(d, rs, new_revision, exists=False)
        try:
            created = await self.client.create(rs, namespace=d["metadata"]["namespace"])
        except ApiError as e:
            if e.code != 409:
                raise
            return await self._on_name_collision(d, rs)
        created.setdefault("apiVersion", "apps/v1")
        created.setdefault("kind", "ReplicaSet")
        count = rs["spec"]["replicas"]
        if count > 0:
            await self.recorder.event(d, "Normal", "ScalingReplicaSet",
                                      f"Scaled up replica set {created['metadata']['name']} from 0 to {count}")
        d = await self._set_deployment_revision(d, created)
        status = copy.deepcopy(d.get("status") or {})
        if du.progress_deadline(d) is not None:
            du.set_condition(status, du.new_condition(du.PROGRESSING, "True", du.NEW_RS_CREATED,
                                                      f'Created new replica set "{created["metadata"]["name"]}"',
                                                      timeutil.now_str()))
            d = await self._write_status(d, status)
        return d, created

    async def _on_name_collision(self, d: dict, rs: dict) -> tuple[dict, dict | None]:
        existing = await self.get_or_none("apps/v1", "ReplicaSet", rs["metadata"]["name"], rs["metadata"]["namespace"])
        if existing is not None and is_owned_by(existing, d) and du.equal_ignore_hash(
                existing["spec"].get("template") or {}, d["spec"].get("template") or {}):
            return d, existing
        # a hash collision: bump collisionCount so the next hash differs (``getNewReplicaSet``)
        status = copy.deepcopy(d.get("status") or {})
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        await self._write_status(d, status)
        raise ApiError(409, "Conflict", f"hash collision for replica set {rs['metadata']['name']}")

    async def _scale_rs(self, d: dict, rs: dict, new_count: int) -> dict:
        old_count = du.rs_replicas(rs)
        annotations = dict(rs["metadata"].get("annotations") or {})
        wanted = {**annotations, **du.replica_annotations(d, new_count)}
        if old_count == new_count and wanted == annotations:
            return rs
        rs = copy.deepcopy(rs)
        rs["spec"]["replicas"] = new_count
        rs["metadata"]["annotations"] = wanted
        updated = await self.client.replace(rs)
        updated.setdefault("apiVersion", "apps/v1")
        updated.setdefault("kind", "ReplicaSet")
        if old_count != new_count:
            verb = "up" if new_count > old_count else "down"
            await self.recorder.event(d, "Normal", "ScalingReplicaSet",
                                      f"Scaled {verb} replica set {rs['metadata']['name']} from {old_count} to {new_count}")
        return updated

    # --- strategies ---------------------------------------------------------------
    async def _rollout_rolling(self, d: dict, rss: list[dict]) -> None:
        d, new_rs, old = await self._new_and_old(d, rss, create=True)
        if new_rs is None:
            return
        all_rss = old + [new_rs]
        if await self._reconcile_new_rs(d, all_rss, new_rs):
            await self._sync_rollout_status(d, all_rss, new_rs)
            return
        if await self._reconcile_old_rss(d, all_rss, old, new_rs):
            await self._sync_rollout_status(d, all_rss, new_rs)
            return
        status = du.calculate_status(d, all_rss, new_rs, timeutil.now_str())
        if du.deployment_complete(d, status):
            await self._cleanup(d, old)
        await self._sync_rollout_status(d, all_rss, new_rs)

    async def _reconcile_new_rs(self, d: dict, all_rss: list[dict], new_rs: dict) -> bool:
        want = du.replicas(d)
        if du.rs_replicas(new_rs) == want:
            return False
        target = want if du.rs_replicas(new_rs) > want else du.new_rs_new_replicas(d, all_rss, new_rs)
        if target == du.rs_replicas(new_rs):
            return False
        updated = await self._scale_rs(d, new_rs, target)
        _replace_in(all_rss, new_rs, updated)
        return True

    async def _reconcile_old_rss(self, d: dict, all_rss: list[dict], old: list[dict], new_rs: dict) -> bool:
        if du.count(old) == 0:
            return False
        max_down = du.rolling_max_scaled_down(d, all_rss, new_rs)
        if max_down <= 0:
            return False
        changed = False
        for rs, n in du.scale_down_plan_unhealthy(old, max_down):
            updated = await self._scale_rs(d, rs, n)
            _replace_in(all_rss, rs, updated)
            _replace_in(old, rs, updated)
            changed = True
        for rs, n in du.scale_down_plan_rolling(all_rss, old, d):
            updated = await self._scale_rs(d, rs, n)
            _replace_in(all_rss, rs, updated)
            _replace_in(old, rs, updated)
            changed = True
        return changed

    async def _rollout_recreate(self, d: dict, rss: list[dict]) -> None:
        d, new_rs, old = await self._new_and_old(d, rss, create=False)
        scaled = False
        for rs in du.active(old):
            updated = await self._scale_rs(d, rs, 0)
            _replace_in(old, rs, updated)
            scaled = True
        all_rss = old + ([new_rs] if new_rs else [])
        if scaled or any(du.rs_status(rs, "replicas") > 0 for rs in old):
            await self._sync_rollout_status(d, all_rss, new_rs)
            return
        if new_rs is None:
            d, new_rs, old = await self._new_and_old(d, rss, create=True)
            if new_rs is None:
                return
            all_rss = old + [new_rs]
        if du.rs_replicas(new_rs) != du.replicas(d):
            updated = await self._scale_rs(d, new_rs, du.replicas(d))
            _replace_in(all_rss, new_rs, updated)
            new_rs = updated
        status = du.calculate_status(d, all_rss, new_rs, timeutil.now_str())
        if du.deployment_complete(d, status):
            await self._cleanup(d, old)
        await self._sync_rollout_status(d, all_rss, new_rs)

    # --- scaling (paused deployments and scaling events) -------------------------
    def _is_scaling_event(self, d: dict, rss: list[dict]) -> bool:
        for rs in du.active(rss):
            desired = (rs["metadata"].get("annotations") or {}).get(du.DESIRED_REPLICAS)
            if desired is not None and desired.isdigit() and int(desired) != du.replicas(d):
                return True
        return False

    async def _sync(self, d: dict, rss: list[dict]) -> None:
        d, new_rs, old = await self._new_and_old(d, rss, create=False)
        all_rss = old + ([new_rs] if new_rs else [])
        await self._scale(d, new_rs, old, all_rss)
        if (d.get("spec") or {}).get("paused"):
            new_name = new_rs["metadata"]["name"] if new_rs else None
            await self._cleanup(d, [rs for rs in all_rss if rs["metadata"]["name"] != new_name])
        status = du.calculate_status(d, all_rss, new_rs, timeutil.now_str())
        if status != (d.get("status") or {}):
            await self._write_status(d, status)

    async def _scale(self, d: dict, new_rs: dict | None, old: list[dict], all_rss: list[dict]) -> None:
        want = du.replicas(d)
        act = du.active(all_rss)
        if len(act) <= 1:
            target = act[0] if act else (new_rs or (max(old, key=du.creation_key) if old else None))
            if target is not None and du.rs_replicas(target) != want:
                _replace_in(all_rss, target, await self._scale_rs(d, target, want))
            return
        if new_rs is not None and du.rs_replicas(new_rs) == want and du.rs_status(new_rs, "availableReplicas") == want:
            for rs in du.active(old):
                _replace_in(all_rss, rs, await self._scale_rs(d, rs, 0))
            return
        await self._scale_proportionally(d, act, all_rss)

    async def _scale_proportionally(self, d: dict, act: list[dict], all_rss: list[dict]) -> None:
        """Spread a replica change over the active ReplicaSets in proportion to their size."""
        allowed = du.replicas(d) + (du.max_surge(d) if du.replicas(d) > 0 else 0)
        current = du.count(act)
        delta = allowed - current
        if delta == 0 or current == 0:
            return
        order = sorted(act, key=lambda rs: (-du.rs_replicas(rs), du.creation_key(rs)), reverse=delta > 0)
        order = sorted(order, key=lambda rs: -du.rs_replicas(rs))
        plan, given = {}, 0
        for rs in order:
            share = round(du.rs_replicas(rs) * delta / current)
            share = max(share, -du.rs_replicas(rs))
            plan[id(rs)] = share
            given += share
        plan[id(order[0])] += delta - given
        for rs in order:
            n = max(du.rs_replicas(rs) + plan[id(rs)], 0)
            if n != du.rs_replicas(rs):
                _replace_in(all_rss, rs, await self._scale_rs(d, rs, n))

    # --- cleanup and status --------------------------------------------------------
    async def _cleanup(self, d: dict, old: list[dict]) -> None:
        for rs in du.cleanup_candidates(d, old):
            await self.delete_quietly("apps/v1", "ReplicaSet", rs["metadata"]["name"], rs["metadata"]["namespace"])

    async def _sync_rollout_status(self, d: dict, all_rss: list[dict], new_rs: dict | None) -> None:
        now = timeutil.now()
        failure = _replica_failure(new_rs, all_rss, timeutil.fmt(now))
        status = du.rollout_status(d, all_rss, new_rs, now, self.clock.scale, failure)
        key = f"{d['metadata']['namespace']}/{d['metadata']['name']}"
        if status != (d.get("status") or {}):
            d = await self._write_status(d, status)
        wait = du.seconds_until_deadline(d, status, now, self.clock.scale)
        if wait is not None and not du.deployment_complete(d, status):
            self.queue.add_after(key, wait)

    async def _sync_status_only(self, d: dict, rss: list[dict]) -> None:
        new_rs = du.find_new_rs(d, rss)
        status = du.calculate_status(d, rss, new_rs, timeutil.now_str())
        if status != (d.get("status") or {}):
            await self._write_status(d, status)

    async def _write_status(self, d: dict, status: dict) -> dict:
        d = copy.deepcopy(d)
        d["status"] = status
        return self._typed(await self.client.replace(d, subresource="status"))

    @staticmethod
    def _typed(d: dict) -> dict:
        d.setdefault("apiVersion", "apps/v1")
        d.setdefault("kind", "Deployment")
        return d


def _replace_in(items: list[dict], old: dict, new: dict) -> None:
    for i, x in enumerate(items):
        if x is old:
            items[i] = new
            return


def _replica_failure(new_rs: dict | None, all_rss: list[dict], now: str) -> dict | None:
    """``getReplicaFailures``: the new ReplicaSet's ReplicaFailure condition, else any old one's."""
    for rs in ([new_rs] if new_rs else []) + [r for r in all_rss if r is not new_rs]:
        for c in (rs.get("status") or {}).get("conditions") or []:
            if c.get("type") == du.REPLICA_FAILURE:
                return du.new_condition(du.REPLICA_FAILURE, c.get("status", "True"), c.get("reason", ""),
                                        c.get("message", ""), now)
    return None
