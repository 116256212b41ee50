"""DaemonSet controller (``pkg/controller/daemon``): one pod per eligible node,
pinned with node affinity and the daemon tolerations, replaced on template
change (RollingUpdate, one unavailable at a time) and reported in status."""
from __future__ import annotations

import copy
import logging

from gitopslab.cluster.controllers import pods as P
from gitopslab.cluster.controllers import revisions, scheduling, timeutil
from gitopslab.cluster.controllers.base import Controller, owner_key
from gitopslab.cluster.controllers.replicaset import claim_pods
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import object_key, split_key

log = logging.getLogger(__name__)

TEMPLATE_GENERATION = "pod-template-generation"
REVISION_LABEL = "controller-revision-hash"
DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]


def daemon_pod(ds: dict, node: str, revision_hash: str) -> dict:
    gen = str(ds["metadata"].get("generation", 1))
    pod = P.pod_from_template(ds["spec"].get("template") or {}, ds,
                              extra_labels={TEMPLATE_GENERATION: gen, REVISION_LABEL: revision_hash})
    spec = pod["spec"]
    spec["affinity"] = {**(spec.get("affinity") or {}), "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}
    tolerations = list(spec.get("tolerations") or [])
    for t in DAEMON_TOLERATIONS:
        if not any(x.get("key") == t["key"] and x.get("effect") == t["effect"] for x in tolerations):
            tolerations.append(dict(t))
    spec["tolerations"] = tolerations
    return pod


def pod_node(pod: dict) -> str | None:
    """The node a daemon pod is for: bound node, else its matchFields affinity."""
    if (pod.get("spec") or {}).get("nodeName"):
        return pod["spec"]["nodeName"]
    terms = (((((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
              .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or [])
    for t in terms:
        for f in t.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("values"):
                return f["values"][0]
    return None


class DaemonSetController(Controller):
    name = "daemonset"
    component = "daemonset-controller"

    def setup(self) -> None:
        self.sets = self.watch("apps/v1", "DaemonSet")
        self.watch("v1", "Pod", owner_key("DaemonSet"))
        nodes = self.informers.get("v1", "Node")
        requeue_all = lambda *_: [self.queue.add(object_key(ds)) for ds in self.sets.items()]  # noqa: E731
        nodes.add_handler(on_add=requeue_all, on_update=requeue_all, on_delete=requeue_all)

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        ds = await self.get_or_none("apps/v1", "DaemonSet", name, ns)
        if ds is None:
            return
        revision_hash = revisions.revision_name(ds).rsplit("-", 1)[1]
        await self._ensure_revision(ds)
        nodes = await self.list_items("v1", "Node")
        pods = [p for p in await claim_pods(self, ds) if not P.is_terminated(p) or P.phase(p) == "Failed"]
        eligible = [n for n in nodes if self._eligible(ds, n)]
        if not P.is_terminating(ds):
            await self._manage(ds, eligible, pods, revision_hash)
        await self._update_status(ds, eligible, pods, revision_hash)

    def _eligible(self, ds: dict, node: dict) -> bool:
        probe = daemon_pod(ds, node["metadata"]["name"], "x")
        reasons = scheduling.node_fit_reasons(probe, node, [])
        return not [r for r in reasons if not r.startswith(("Insufficient", "Too many"))]

    async def _ensure_revision(self, ds: dict) -> None:
        name = revisions.revision_name(ds)
        ns = ds["metadata"]["namespace"]
        if await self.get_or_none("apps/v1", "ControllerRevision", name, ns) is not None:
            return
        owned = [r for r in await self.list_items("apps/v1", "ControllerRevision", ns) if P.is_owned_by(r, ds)]
        try:
            await self.client.create(revisions.new_revision(ds, max((int(r.get("revision") or 0) for r in owned), default=0) + 1),
                                     namespace=ns)
        except ApiError as e:
            if e.code != 409:
                raise

    async def _manage(self, ds: dict, eligible: list[dict], pods: list[dict], revision_hash: str) -> None:
        names = {n["metadata"]["name"] for n in eligible}
        by_node: dict[str, list[dict]] = {}
        for p in pods:
            by_node.setdefault(pod_node(p) or "", []).append(p)
        for node, node_pods in by_node.items():
            extra = node_pods if node not in names else [p for p in node_pods if P.phase(p) == "Failed"]
            if node in names and not extra and len(node_pods) > 1:
                extra = sorted(node_pods, key=lambda p: p["metadata"].get("creationTimestamp") or "")[1:]
            for p in extra:
                await self._delete(ds, p)
        for node in sorted(names):
            live = [p for p in by_node.get(node, []) if P.phase(p) != "Failed" and not P.is_terminating(p)]
            if not live:
                await self._create(ds, node, revision_hash)
        await self._rolling_update(ds, by_node, names, revision_hash)

    async def _rolling_update(self, ds: dict, by_node: dict, names: set, revision_hash: str) -> None:
        if ((ds["spec"].get("updateStrategy") or {}).get("type") or "RollingUpdate") != "RollingUpdate":
            return
        pods = [p for n in names for p in by_node.get(n, []) if not P.is_terminating(p)]
        if any(not P.is_ready(p) for p in pods):
            return  # maxUnavailable 1: wait until the previous replacement is ready
        for p in pods:
            if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision_hash:
                await self._delete(ds, p)
                return

    async def _create(self, ds: dict, node: str, revision_hash: str) -> None:
        try:
            pod = await self.client.create(daemon_pod(ds, node, revision_hash), namespace=ds["metadata"]["namespace"])
        except ApiError as e:
            await self.recorder.event(ds, "Warning", "FailedCreate", f"Error creating: {e.message}")
            raise
        await self.recorder.event(ds, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}")

    async def _delete(self, ds: dict, pod: dict) -> None:
        if await self.delete_quietly("v1", "Pod", pod["metadata"]["name"], pod["metadata"]["namespace"]):
            await self.recorder.event(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")

    async def _update_status(self, ds: dict, eligible: list[dict], pods: list[dict], revision_hash: str) -> None:
        names = {n["metadata"]["name"] for n in eligible}
        live = [p for p in pods if not P.is_terminating(p) and P.phase(p) != "Failed"]
        scheduled = {pod_node(p) for p in live if pod_node(p) in names}
        min_ready = P.min_ready_seconds_scaled(ds, self.clock.scale)
        now = timeutil.now()
        ready = sum(1 for p in live if P.is_ready(p))
        available = sum(1 for p in live if P.is_available(p, min_ready, now))
        status = {"currentNumberScheduled": len(scheduled), "desiredNumberScheduled": len(names),
                  "numberMisscheduled": len({pod_node(p) for p in live} - names),
                  "numberReady": ready, "observedGeneration": ds["metadata"].get("generation", 1),
                  "updatedNumberScheduled": sum(1 for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision_hash),
                  "numberAvailable": available, "numberUnavailable": max(len(names) - available, 0)}
        for k in ("numberAvailable", "numberUnavailable", "updatedNumberScheduled"):
            if status[k] == 0:
                del status[k]
        if status != (ds.get("status") or {}):
            ds = copy.deepcopy(ds)
            ds["status"] = status
            await self.client.replace(ds, subresource="status")
