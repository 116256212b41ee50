"""ReplicaSet controller (``pkg/controller/replicaset``): keep ``spec.replicas``
active pods, adopt and release pods by selector, report status.

Pods are read from the shared informer cache, through two indexes (the uid
of a pod's controller, and the namespace of pods without one), so a sync
costs what the ReplicaSet owns, not what the cluster holds. The cache may lag
behind the controller's own writes: ``Expectations`` hold replica management
back until the creations and deletions it made have been observed, as the
upstream controller does.
"""
from __future__ import annotations

import asyncio
import copy
import logging
from typing import Awaitable, Callable

from gitopslab.cluster.controllers import pods as P
from gitopslab.cluster.controllers import selectors, timeutil
from gitopslab.cluster.controllers.base import Controller, controlled_by, index_by_controller, orphans_in, owner_key
from gitopslab.cluster.controllers.expectations import EXPECTATIONS_TIMEOUT_SECONDS, Expectations
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import Informer, object_key, split_key

log = logging.getLogger(__name__)

BURST_REPLICAS = 500  # upstream caps creations/deletions per sync
SLOW_START_INITIAL_BATCH = 1
_replicaset_key = owner_key("ReplicaSet")


class ReplicaSetController(Controller):
    name = "replicaset"
    component = "replicaset-controller"
    workers = 2

    def __init__(self, ctx, informers, **kw):
        super().__init__(ctx, informers, **kw)
        self.expectations = Expectations(self.clock.delay(EXPECTATIONS_TIMEOUT_SECONDS))

    def setup(self) -> None:
        self.sets = self.watch("apps/v1", "ReplicaSet")
        self.pods = index_by_controller(self.informers.get("v1", "Pod"))
        self.pods.add_handler(on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted)

    # --- pod events (``addPod``, ``updatePod``, ``deletePod``) ----------------------
    def _pod_added(self, pod: dict) -> None:
        if P.is_terminating(pod):  # already being deleted (seen after a relist): only a deletion to observe
            self._pod_deleted(pod)
            return
        key = _replicaset_key(pod)
        if key:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        else:
            self._enqueue_matching(pod)

    def _pod_updated(self, old: dict, new: dict) -> None:
        if old is new:
            return  # a resync: nothing changed
        old_key, new_key = _replicaset_key(old), _replicaset_key(new)
        if P.is_terminating(new):
            self._pod_deleted(new)
            if old_key and old_key != new_key:
                self._pod_deleted(old)
            return
        ref_changed = P.controller_of(old) != P.controller_of(new)
        if old_key and ref_changed:
            self.queue.add(old_key)
        if new_key:
            self.queue.add(new_key)
        elif P.controller_of(new) is None and (ref_changed or _labels(old) != _labels(new)):
            self._enqueue_matching(new)

    def _pod_deleted(self, pod: dict) -> None:
        key = _replicaset_key(pod)
        if key:
            self.expectations.deletion_observed(key, object_key(pod))
            self.queue.add(key)

    def _enqueue_matching(self, pod: dict) -> None:
        """An orphan: the ReplicaSets of its namespace whose selector matches it may adopt it."""
        if P.is_terminating(pod):
            return
        for rs in self.sets.items((pod.get("metadata") or {}).get("namespace")):
            if selectors.matches((rs.get("spec") or {}).get("selector"), _labels(pod)):
                self.queue.add(object_key(rs))

    # --- sync ---------------------------------------------------------------------
    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        rs = await self.get_or_none("apps/v1", "ReplicaSet", name, ns)
        if rs is None:
            self.expectations.forget(key)
            return
        needs_sync = self.expectations.satisfied(key)  # before reading the cache, as upstream does
        owned = await claim_pods(self, rs, claim_candidates(self.pods, rs))
        active = [p for p in owned if P.is_active(p)]
        error = None
        if not P.is_terminating(rs):
            if needs_sync:
                error = await self._manage(key, rs, active)
            else:  # a lost watch event must not stall the ReplicaSet: look again once they expire
                self.queue.add_after(key, self.expectations.timeout)
        await self._update_status(rs, active, error)

    async def _manage(self, key: str, rs: dict, active: list[dict]) -> ApiError | None:
        diff = len(active) - int(rs["spec"].get("replicas", 1))
        if diff < 0:
            return await self._create_pods(key, rs, min(-diff, BURST_REPLICAS))
        if diff > 0:
            doomed = pods_to_delete(active, min(diff, BURST_REPLICAS))
            self.expectations.expect_deletions(key, [object_key(p) for p in doomed])
            results = await asyncio.gather(*(self._delete_pod(key, rs, p) for p in doomed), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        return None

    async def _create_pods(self, key: str, rs: dict, n: int) -> ApiError | None:
        self.expectations.expect_creations(key, n)
        errors: list[ApiError] = []

        async def create_one() -> bool:
            pod = P.pod_from_template(rs["spec"].get("template") or {}, rs)
            try:
                made = await self.client.create(pod, namespace=rs["metadata"]["namespace"])
            except ApiError as e:
                errors.append(e)
                await self.recorder.event(rs, "Warning", "FailedCreate", f"Error creating: {e.message}")
                return False
            await self.recorder.event(rs, "Normal", "SuccessfulCreate", f"Created pod: {made['metadata']['name']}")
            return True

        created = await slow_start_batch(n, SLOW_START_INITIAL_BATCH, create_one)
        for _ in range(n - created):  # never made: not to be waited for
            self.expectations.creation_observed(key)
        return errors[0] if errors else None

    async def _delete_pod(self, key: str, rs: dict, pod: dict) -> None:
        name, ns = pod["metadata"]["name"], pod["metadata"]["namespace"]
        try:
            deleted = await self.delete_quietly("v1", "Pod", name, ns)
        except ApiError:
            self.expectations.deletion_observed(key, object_key(pod))
            raise
        if deleted:
            await self.recorder.event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")
        else:
            self.expectations.deletion_observed(key, object_key(pod))

    async def _update_status(self, rs: dict, active: list[dict], error: ApiError | None) -> None:
        status = replica_set_status(rs, active, error, self.clock.scale)
        if status != (rs.get("status") or {}):
            rs = copy.deepcopy(rs)
            rs["status"] = status
            await self.client.replace(rs, subresource="status")
        wait = next_available_in(active, P.min_ready_seconds_scaled(rs, self.clock.scale))
        if wait is not None:
            self.queue.add_after(f"{rs['metadata']['namespace']}/{rs['metadata']['name']}", wait + 0.05)


async def slow_start_batch(count: int, initial: int, fn: Callable[[], Awaitable[bool]]) -> int:
    """Call ``fn`` ``count`` times in concurrent batches of 1, 2, 4…; stop after a batch with a failure.

    ``slowStartBatch``: a template that cannot be created fails once, not
    ``count`` times. Returns how many calls succeeded.
    """
    done, batch = 0, min(count, initial)
    while batch > 0:
        results = await asyncio.gather(*(fn() for _ in range(batch)))
        done += sum(1 for ok in results if ok)
        if not all(results):
            break
        remaining = count - done
        batch = min(2 * batch, remaining)
    return done


def _labels(pod: dict) -> dict:
    return (pod.get("metadata") or {}).get("labels") or {}


def claim_candidates(pods: Informer, owner: dict) -> list[dict]:
    """Cached pods ``owner`` may claim: those it controls and its namespace's orphans (shared, read-only)."""
    return controlled_by(pods, owner) + orphans_in(pods, owner["metadata"]["namespace"])


async def claim_pods(ctl: Controller, owner: dict, candidates: list[dict] | None = None) -> list[dict]:
    """Pods controlled by ``owner``: adopt matching orphans, release non-matching ones (``ClaimPods``).

    ``candidates``: the pods to consider; by default every pod of the
    owner's namespace, listed through the API.
    """
    ns = owner["metadata"]["namespace"]
    selector = (owner.get("spec") or {}).get("selector")
    if candidates is None:
        candidates = await ctl.list_items("v1", "Pod", ns)
    owned = []
    for pod in candidates:
        ref = P.controller_of(pod)
        matches = selectors.matches(selector, (pod.get("metadata") or {}).get("labels"))
        if ref is not None and ref.get("uid") == owner["metadata"].get("uid"):
            if matches or P.is_terminating(owner):
                owned.append(pod)
            else:
                await _release(ctl, pod, owner)
        elif ref is None and matches and not P.is_terminating(pod) and not P.is_terminating(owner):
            adopted = await _adopt(ctl, pod, owner)
            if adopted is not None:
                owned.append(adopted)
    return owned


async def _adopt(ctl: Controller, pod: dict, owner: dict) -> dict | None:
    refs = list(pod["metadata"].get("ownerReferences") or []) + [P.controller_ref(owner)]
    try:
        return await ctl.client.patch("v1", "Pod", pod["metadata"]["name"],
                                      {"metadata": {"ownerReferences": refs, "uid": pod["metadata"]["uid"]}},
                                      pod["metadata"]["namespace"], patch_type="merge")
    except ApiError:
        return None


async def _release(ctl: Controller, pod: dict, owner: dict) -> None:
    refs = [r for r in pod["metadata"].get("ownerReferences") or [] if r.get("uid") != owner["metadata"].get("uid")]
    try:
        await ctl.client.patch("v1", "Pod", pod["metadata"]["name"], {"metadata": {"ownerReferences": refs or None}},
                               pod["metadata"]["namespace"], patch_type="merge")
    except ApiError:
        pass


def replica_set_status(rs: dict, active: list[dict], error: ApiError | None, scale: float = 1.0) -> dict:
    """``calculateStatus`` of the ReplicaSet controller (pure)."""
    template_labels = ((rs["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
    min_ready = P.min_ready_seconds_scaled(rs, scale)
    now = timeutil.now()
    status = copy.deepcopy(rs.get("status") or {})
    status.update({
        "replicas": len(active),
        "fullyLabeledReplicas": sum(1 for p in active if _has_labels(p, template_labels)),
        "readyReplicas": sum(1 for p in active if P.is_ready(p)),
        "availableReplicas": sum(1 for p in active if P.is_available(p, min_ready, now)),
        "observedGeneration": rs["metadata"].get("generation", 1),
    })
    conditions = status.get("conditions") or []
    want = int(rs["spec"].get("replicas", 1))
    if error is not None and len(active) < want:
        reason = "FailedCreate"
        conditions = P.set_condition(conditions, {"type": "ReplicaFailure", "status": "True",
                                                  "lastTransitionTime": timeutil.fmt(now),
                                                  "reason": reason, "message": error.message})
    elif error is None:
        conditions = P.remove_condition(conditions, "ReplicaFailure")
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)
    for k in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
        if status[k] == 0:
            del status[k]  # omitempty, as the real API serves it
    return status


def _has_labels(pod: dict, labels: dict) -> bool:
    have = (pod.get("metadata") or {}).get("labels") or {}
    return all(have.get(k) == v for k, v in labels.items())


def next_available_in(active: list[dict], min_ready: float) -> float | None:
    waits = [w for w in (P.ready_remaining(p, min_ready) for p in active) if w is not None]
    return min(waits) if waits else None


_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def pods_to_delete(active: list[dict], n: int) -> list[dict]:
    """The ``n`` pods to delete first (``ActivePods`` order, simplified): unscheduled,
    pending, not ready, most recently ready, most restarted, newest."""

    def rank(p: dict) -> tuple:
        st = p.get("status") or {}
        restarts = sum(c.get("restartCount", 0) for c in st.get("containerStatuses") or [])
        ready_since = (P.condition(p, "Ready") or {}).get("lastTransitionTime") or ""
        return (bool((p.get("spec") or {}).get("nodeName")), _PHASE_RANK.get(P.phase(p), 0), P.is_ready(p),
                _neg(ready_since), -restarts, _neg((p.get("metadata") or {}).get("creationTimestamp") or ""))

    return sorted(active, key=rank)[:n]


def _neg(s: str) -> tuple:
    # sort newer timestamps first inside an ascending sort
    return tuple(-ord(c) for c in s)
