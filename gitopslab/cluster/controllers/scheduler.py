"""default-scheduler: binds pending pods to a node through ``pods/binding``.

A pod that fits nowhere stays Pending with ``PodScheduled`` False /
``Unschedulable`` and a ``FailedScheduling`` event; it is retried when a pod
leaves a node, a node changes, or every 5 minutes of lab time, like the
scheduler's unschedulable queue.
"""
from __future__ import annotations

import copy
import logging

from gitopslab.cluster.controllers import pods as P
from gitopslab.cluster.controllers import scheduling, timeutil
from gitopslab.cluster.controllers.base import Controller
from gitopslab.cluster.events import EventRecorder
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import object_key, split_key

log = logging.getLogger(__name__)

SCHEDULER_NAME = "default-scheduler"
UNSCHEDULABLE_FLUSH_SECONDS = 300  # podMaxInUnschedulablePodsDuration
SELECTED_NODE = "volume.kubernetes.io/selected-node"


class Scheduler(Controller):
    name = "scheduler"
    component = SCHEDULER_NAME

    def __init__(self, ctx, informers, **kw):
        super().__init__(ctx, informers, recorder=EventRecorder(ctx.client, SCHEDULER_NAME, _hostname(ctx), new_api=True))
        self.unschedulable: set[str] = set()
        # pods bound but not yet seen bound in the cache ("assumed" pods upstream)
        self.assumed: dict[str, dict] = {}

    def setup(self) -> None:
        self.pods = self.informers.get("v1", "Pod")
        self.nodes = self.informers.get("v1", "Node")
        self.pods.add_handler(on_add=self._pod_changed, on_update=lambda old, new: self._pod_changed(new, old),
                              on_delete=self._pod_gone)
        self.nodes.add_handler(on_add=lambda n: self._retry_unschedulable(),
                               on_update=lambda old, new: self._retry_unschedulable())

    def _pod_changed(self, pod: dict, old: dict | None = None) -> None:
        if _wants_scheduling(pod):
            self.queue.add(object_key(pod))
        elif old is not None and (P.is_terminated(pod) and not P.is_terminated(old)):
            self._retry_unschedulable()

    def _pod_gone(self, pod: dict) -> None:
        self.unschedulable.discard(object_key(pod))
        if (pod.get("spec") or {}).get("nodeName"):
            self._retry_unschedulable()

    def _retry_unschedulable(self) -> None:
        for key in list(self.unschedulable):
            self.queue.add(key)

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        pod = await self.get_or_none("v1", "Pod", name, ns)
        if pod is None or not _wants_scheduling(pod):
            self.unschedulable.discard(key)
            return
        nodes = await self.list_items("v1", "Node")
        all_pods = self._pods_with_assumed()
        reasons = {n["metadata"]["name"]: scheduling.node_fit_reasons(pod, n, all_pods) for n in nodes}
        fitting = [n for n, r in reasons.items() if not r]
        if not fitting:
            await self._unschedulable(pod, scheduling.failure_message(reasons))
            self.unschedulable.add(key)
            self.requeue_after(key, UNSCHEDULABLE_FLUSH_SECONDS)
            return
        node = sorted(fitting)[0]
        if not await self._volumes_ready(pod, node):
            self.queue.add_after(key, 0.2)
            return
        self.unschedulable.discard(key)
        if await self._bind(pod, node):
            assumed = copy.deepcopy(pod)
            assumed["spec"]["nodeName"] = node
            self.assumed[key] = assumed

    def _pods_with_assumed(self) -> list[dict]:
        pods = dict(self.pods.cache)
        for key, pod in list(self.assumed.items()):
            seen = pods.get(key)
            if seen is None or (seen.get("spec") or {}).get("nodeName"):
                del self.assumed[key]  # gone, or the cache caught up
            else:
                pods[key] = pod
        return list(pods.values())

    async def _volumes_ready(self, pod: dict, node: str) -> bool:
        """VolumeBinding: pick the node for WaitForFirstConsumer claims, wait until they are bound."""
        ready = True
        for vol in (pod.get("spec") or {}).get("volumes") or []:
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = await self.get_or_none("v1", "PersistentVolumeClaim", claim, pod["metadata"]["namespace"])
            if pvc is None or (pvc.get("status") or {}).get("phase") == "Bound":
                continue
            ready = False
            annotations = pvc["metadata"].get("annotations") or {}
            if annotations.get(SELECTED_NODE) != node:
                await self.client.patch("v1", "PersistentVolumeClaim", claim,
                                        {"metadata": {"annotations": {SELECTED_NODE: node}}},
                                        pod["metadata"]["namespace"], patch_type="merge")
        return ready

    async def _bind(self, pod: dict, node: str) -> bool:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name, "namespace": ns},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        try:
            await self._post_binding(binding, ns)
        except ApiError as e:
            if e.code == 409 or (e.code == 404 and await self.get_or_none("v1", "Pod", name, ns) is None):
                return False  # deleted or already bound meanwhile
            raise
        await self.recorder.event(pod, "Normal", "Scheduled", f"Successfully assigned {ns}/{name} to {node}",
                                  action="Binding")
        bound = await self.get_or_none("v1", "Pod", name, ns)
        if bound is not None and (P.condition(bound, "PodScheduled") or {}).get("status") != "True":
            await self._set_scheduled_condition(bound, {"type": "PodScheduled", "status": "True",
                                                        "lastProbeTime": None,
                                                        "lastTransitionTime": timeutil.now_str()})
        return True

    async def _post_binding(self, binding: dict, ns: str) -> None:
        # The in-process client resolves the resource from the body's kind, which
        # Binding is not: use its explicit subresource call when it has one.
        post = getattr(self.client, "create_subresource", None)
        if post is not None:
            await post("v1", "Pod", binding["metadata"]["name"], "binding", binding, ns)
        else:
            await self.client.create(binding, namespace=ns, subresource="binding")

    async def _unschedulable(self, pod: dict, message: str) -> None:
        await self.recorder.event(pod, "Warning", "FailedScheduling", message, action="Scheduling")
        current = P.condition(pod, "PodScheduled") or {}
        if current.get("status") == "False" and current.get("message") == message:
            return
        await self._set_scheduled_condition(pod, {"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                                  "lastTransitionTime": timeutil.now_str(),
                                                  "reason": "Unschedulable", "message": message})

    async def _set_scheduled_condition(self, pod: dict, cond: dict) -> None:
        pod = copy.deepcopy(pod)
        status = pod.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status["conditions"] = P.set_condition(status.get("conditions") or [], cond)
        try:
            await self.client.replace(pod, subresource="status")
        except ApiError as e:
            if e.code not in (404, 409):
                raise


def _wants_scheduling(pod: dict) -> bool:
    spec = pod.get("spec") or {}
    return (not spec.get("nodeName") and not P.is_terminating(pod) and not P.is_terminated(pod)
            and (spec.get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME)


def _hostname(ctx) -> str:
    return ctx.node_name
