"""ReplicaSet controller (``pkg/controller/replicaset``): keep ``spec.replicas``
active pods, adopt and release pods by selector, report status."""
from __future__ import annotations

import copy
import logging

from gitopslab.cluster.controllers import pods as P
from gitopslab.cluster.controllers import selectors, timeutil
from gitopslab.cluster.controllers.base import Controller, owner_key
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import split_key

log = logging.getLogger(__name__)

BURST_REPLICAS = 500  # upstream caps creations/deletions per sync


class ReplicaSetController(Controller):
    name = "replicaset"
    component = "replicaset-controller"
    workers = 2

    def setup(self) -> None:
        self.watch("apps/v1", "ReplicaSet")
        self.watch("v1", "Pod", owner_key("ReplicaSet"))

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        rs = await self.get_or_none("apps/v1", "ReplicaSet", name, ns)
        if rs is None:
            return
        owned = await claim_pods(self, rs)
        active = [p for p in owned if P.is_active(p)]
        error = None
        if not P.is_terminating(rs):
            error = await self._manage(rs, active)
        await self._update_status(rs, active, error)

    async def _manage(self, rs: dict, active: list[dict]) -> ApiError | None:
        diff = len(active) - int(rs["spec"].get("replicas", 1))
        if diff < 0:
            return await self._create_pods(rs, min(-diff, BURST_REPLICAS))
        if diff > 0:
            for pod in pods_to_delete(active, min(diff, BURST_REPLICAS)):
                if await self.delete_quietly("v1", "Pod", pod["metadata"]["name"], pod["metadata"]["namespace"]):
                    await self.recorder.event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")
        return None

    async def _create_pods(self, rs: dict, n: int) -> ApiError | None:
        """Slow start: batches of 1, 2, 4… stop at the first failure (``slowStartBatch``)."""
        created, batch = 0, 1
        while created < n:
            size = min(batch, n - created)
            for _ in range(size):
                pod = P.pod_from_template(rs["spec"].get("template") or {}, rs)
                try:
                    made = await self.client.create(pod, namespace=rs["metadata"]["namespace"])
                except ApiError as e:
                    await self.recorder.event(rs, "Warning", "FailedCreate", f"Error creating: {e.message}")
                    return e
                await self.recorder.event(rs, "Normal", "SuccessfulCreate", f"Created pod: {made['metadata']['name']}")
                created += 1
            batch *= 2
        return None

    async def _update_status(self, rs: dict, active: list[dict], error: ApiError | None) -> None:
        status = replica_set_status(rs, active, error, self.clock.scale)
        if status != (rs.get("status") or {}):
            rs = copy.deepcopy(rs)
            rs["status"] = status
            await self.client.replace(rs, subresource="status")
        wait = next_available_in(active, P.min_ready_seconds_scaled(rs, self.clock.scale))
        if wait is not None:
            self.queue.add_after(f"{rs['metadata']['namespace']}/{rs['metadata']['name']}", wait + 0.05)


async def claim_pods(ctl: Controller, owner: dict) -> list[dict]:
    """Pods controlled by ``owner``: adopt matching orphans, release non-matching ones (``ClaimPods``)."""
    ns = owner["metadata"]["namespace"]
    selector = (owner.get("spec") or {}).get("selector")
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
