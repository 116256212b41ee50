"""StatefulSet controller (``pkg/controller/statefulset``): ordinal pods
``<set>-N``, PVCs from volumeClaimTemplates, OrderedReady/Parallel, rolling
updates by ControllerRevision, status with current/update revisions."""
from __future__ import annotations

import copy
import logging

from gitopslab.cluster.controllers import pods as P
from gitopslab.cluster.controllers import revisions, timeutil
from gitopslab.cluster.controllers.base import Controller, owner_key
from gitopslab.cluster.controllers.replicaset import claim_pods
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import split_key

log = logging.getLogger(__name__)

REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def ordinal(sts: dict, pod: dict) -> int | None:
    prefix = f"{sts['metadata']['name']}-"
    name = pod["metadata"]["name"]
    if name.startswith(prefix) and name[len(prefix):].isdigit():
        return int(name[len(prefix):])
    return None


def claim_name(template: dict, sts: dict, ord_: int) -> str:
    return f"{template['metadata']['name']}-{sts['metadata']['name']}-{ord_}"


def new_pod(sts: dict, ord_: int, revision: str) -> dict:
    name = f"{sts['metadata']['name']}-{ord_}"
    pod = P.pod_from_template(sts["spec"].get("template") or {}, sts, name=name,
                              extra_labels={REVISION_LABEL: revision, POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ord_)})
    spec = pod["spec"]
    spec["hostname"] = name
    if sts["spec"].get("serviceName"):
        spec["subdomain"] = sts["spec"]["serviceName"]
    volumes = [v for v in spec.get("volumes") or []]
    for tpl in sts["spec"].get("volumeClaimTemplates") or []:
        vname = tpl["metadata"]["name"]
        volumes = [v for v in volumes if v.get("name") != vname]
        volumes.append({"name": vname, "persistentVolumeClaim": {"claimName": claim_name(tpl, sts, ord_)}})
    if volumes:
        spec["volumes"] = volumes
    return pod


def new_claim(sts: dict, tpl: dict, ord_: int, pod: dict | None) -> dict:
    labels = dict(tpl["metadata"].get("labels") or {})
    labels.update(((sts["spec"].get("selector") or {}).get("matchLabels") or {}))
    meta = {"name": claim_name(tpl, sts, ord_), "namespace": sts["metadata"]["namespace"], "labels": labels}
    if tpl["metadata"].get("annotations"):
        meta["annotations"] = dict(tpl["metadata"]["annotations"])
    policy = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
    if policy.get("whenDeleted") == "Delete":
        meta["ownerReferences"] = [P.controller_ref(sts)]
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
            "spec": copy.deepcopy(tpl.get("spec") or {})}


def running_and_ready(pod: dict) -> bool:
    return P.phase(pod) == "Running" and P.is_ready(pod) and not P.is_terminating(pod)


class StatefulSetController(Controller):
    name = "statefulset"
    component = "statefulset-controller"

    def setup(self) -> None:
        self.watch("apps/v1", "StatefulSet")
        self.watch("v1", "Pod", owner_key("StatefulSet"))

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        sts = await self.get_or_none("apps/v1", "StatefulSet", name, ns)
        if sts is None:
            return
        current_rev, update_rev = await self._revisions(sts)
        pods = {ordinal(sts, p): p for p in await claim_pods(self, sts) if ordinal(sts, p) is not None}
        if not P.is_terminating(sts):
            await self._sync_pods(sts, pods, update_rev)
        await self._update_status(sts, pods, current_rev, update_rev)

    async def _revisions(self, sts: dict) -> tuple[str, str]:
        ns = sts["metadata"]["namespace"]
        owned = [r for r in await self.list_items("apps/v1", "ControllerRevision", ns) if P.is_owned_by(r, sts)]
        update = revisions.revision_name(sts)
        numbers = [int(r.get("revision") or 0) for r in owned]
        existing = next((r for r in owned if r["metadata"]["name"] == update), None)
        if existing is None:
            try:
                await self.client.create(revisions.new_revision(sts, max(numbers, default=0) + 1), namespace=ns)
            except ApiError as e:
                if e.code != 409:
                    raise
        elif int(existing.get("revision") or 0) < max(numbers, default=0):
            existing["revision"] = max(numbers) + 1  # a rollback becomes the newest revision
            await self.client.replace(existing)
        current = (sts.get("status") or {}).get("currentRevision") or update
        return current, update

    async def _sync_pods(self, sts: dict, pods: dict[int, dict], update_rev: str) -> None:
        ordered = (sts["spec"].get("podManagementPolicy") or "OrderedReady") == "OrderedReady"
        replicas = int(sts["spec"].get("replicas", 1))
        start = int((sts["spec"].get("ordinals") or {}).get("start", 0))
        wanted = range(start, start + replicas)
        for ord_ in wanted:
            pod = pods.get(ord_)
            if pod is not None and P.is_terminated(pod):
                # a finished pod is deleted to be recreated; one already being deleted
                # (the kubelet marks it Succeeded/Failed during its grace period) is left to go
                if not P.is_terminating(pod):
                    await self._delete_pod(sts, pod)
                if ordered:
                    return
                continue
            if pod is None:
                await self._create_pod(sts, ord_, update_rev)
                if ordered:
                    return
                continue
            if ordered and not running_and_ready(pod):
                return  # OrderedReady: wait for this one before the next
        condemned = sorted((o for o in pods if o not in wanted), reverse=True)
        for ord_ in condemned:
            pod = pods[ord_]
            if P.is_terminating(pod):
                if ordered:
                    return
                continue
            if ordered and not all(running_and_ready(pods[o]) for o in pods if o in wanted):
                return
            await self._delete_pod(sts, pod)
            if ordered:
                return
        await self._rolling_update(sts, pods, wanted, update_rev)

    async def _rolling_update(self, sts: dict, pods: dict[int, dict], wanted: range, update_rev: str) -> None:
        strategy = sts["spec"].get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        if not all(o in pods and running_and_ready(pods[o]) for o in wanted):
            return
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        for ord_ in sorted(wanted, reverse=True):
            if ord_ < partition:
                break
            pod = pods[ord_]
            if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != update_rev:
                await self._delete_pod(sts, pod)
                return

    async def _create_pod(self, sts: dict, ord_: int, revision: str) -> None:
        ns = sts["metadata"]["namespace"]
        pod = new_pod(sts, ord_, revision)
        for tpl in sts["spec"].get("volumeClaimTemplates") or []:
            cname = claim_name(tpl, sts, ord_)
            if await self.get_or_none("v1", "PersistentVolumeClaim", cname, ns) is None:
                try:
                    await self.client.create(new_claim(sts, tpl, ord_, pod), namespace=ns)
                    await self.recorder.event(sts, "Normal", "SuccessfulCreate",
                                              f"create Claim {cname} Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} success")
                except ApiError as e:
                    if e.code != 409:
                        await self.recorder.event(sts, "Warning", "FailedCreate",
                                                  f"create Claim {cname} for Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} failed error: {e.message}")
                        raise
        try:
            await self.client.create(pod, namespace=ns)
        except ApiError as e:
            if e.code == 409:
                return
            await self.recorder.event(sts, "Warning", "FailedCreate",
                                      f"create Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} failed error: {e.message}")
            raise
        await self.recorder.event(sts, "Normal", "SuccessfulCreate",
                                  f"create Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful")

    async def _delete_pod(self, sts: dict, pod: dict) -> None:
        if await self.delete_quietly("v1", "Pod", pod["metadata"]["name"], pod["metadata"]["namespace"]):
            await self.recorder.event(sts, "Normal", "SuccessfulDelete",
                                      f"delete Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful")

    async def _update_status(self, sts: dict, pods: dict[int, dict], current_rev: str, update_rev: str) -> None:
        live = [p for p in pods.values() if not P.is_terminated(p)]
        min_ready = P.min_ready_seconds_scaled(sts, self.clock.scale)
        now = timeutil.now()
        rev = lambda p: (p["metadata"].get("labels") or {}).get(REVISION_LABEL)  # noqa: E731
        status = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(live),
            "readyReplicas": sum(1 for p in live if P.is_ready(p)),
            "currentReplicas": sum(1 for p in live if rev(p) == current_rev),
            "updatedReplicas": sum(1 for p in live if rev(p) == update_rev),
            "currentRevision": current_rev, "updateRevision": update_rev,
            "collisionCount": int((sts.get("status") or {}).get("collisionCount") or 0),
            "availableReplicas": sum(1 for p in live if P.is_available(p, min_ready, now)),
        }
        replicas = int(sts["spec"].get("replicas", 1))
        if status["updatedReplicas"] == replicas and status["readyReplicas"] == replicas and status["replicas"] == replicas:
            status["currentRevision"] = update_rev
            status["currentReplicas"] = status["updatedReplicas"]
        for k in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if status[k] == 0:
                del status[k]
        if status != (sts.get("status") or {}):
            sts = copy.deepcopy(sts)
            sts["status"] = status
            await self.client.replace(sts, subresource="status")
