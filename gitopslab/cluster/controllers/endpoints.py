"""Endpoints and EndpointSlice controllers: a Service's selector -> its backing pods."""
from __future__ import annotations

import copy
import logging

from gitopslab.cluster.controllers import endpoints_util as eu
from gitopslab.cluster.controllers import timeutil
from gitopslab.cluster.controllers.base import Controller
from gitopslab.cluster.controllers.pods import controller_ref
from gitopslab.cluster.controllers.selectors import map_matches
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import object_key, split_key

log = logging.getLogger(__name__)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"


class EndpointsController(Controller):
    """Both upstream controllers in one loop: they read the same inputs."""

    name = "endpoints"
    component = "endpoint-controller"
    workers = 2

    def setup(self) -> None:
        self.services = self.watch("v1", "Service")
        self.pods = self.informers.get("v1", "Pod")
        self.pods.add_handler(on_add=self._pod_changed, on_update=lambda old, new: (self._pod_changed(old), self._pod_changed(new)),
                              on_delete=self._pod_changed)

    def _pod_changed(self, pod: dict) -> None:
        ns = (pod.get("metadata") or {}).get("namespace")
        labels = (pod.get("metadata") or {}).get("labels")
        for svc in self.services.items(ns):
            if map_matches((svc.get("spec") or {}).get("selector"), labels):
                self.queue.add(object_key(svc))

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        svc = await self.get_or_none("v1", "Service", name, ns)
        if svc is None or svc["metadata"].get("deletionTimestamp"):
            return  # the garbage collector removes the owned slices; Endpoints go with the name
        if not (svc.get("spec") or {}).get("selector"):
            return  # selector-less Services have user-managed endpoints
        pods = self.pods.items(ns)  # the shared informer's cache, as upstream's pod lister (read only)
        await self._sync_endpoints(svc, pods)
        await self._sync_slices(svc, pods)

    async def _sync_endpoints(self, svc: dict, pods: list[dict]) -> None:
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        subsets = eu.endpoints_subsets(svc, pods)
        labels = dict(svc["metadata"].get("labels") or {})
        if (svc.get("spec") or {}).get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        current = await self.get_or_none("v1", "Endpoints", name, ns)
        if current is None:
            ep = {"apiVersion": "v1", "kind": "Endpoints",
                  "metadata": {"name": name, "namespace": ns, "labels": labels or None,
                               "annotations": {TRIGGER_TIME: timeutil.now_str()}}}
            if not labels:
                del ep["metadata"]["labels"]
            if subsets:
                ep["subsets"] = subsets
            try:
                await self.client.create(ep, namespace=ns)
            except ApiError as e:
                if e.code != 409:
                    raise
            return
        if (current.get("subsets") or []) == subsets and (current["metadata"].get("labels") or {}) == labels:
            return
        new = copy.deepcopy(current)
        new["subsets"] = subsets or None
        if not subsets:
            new.pop("subsets")
        new["metadata"]["labels"] = labels
        new["metadata"].setdefault("annotations", {})[TRIGGER_TIME] = timeutil.now_str()
        await self.client.replace(new)

    async def _sync_slices(self, svc: dict, pods: list[dict]) -> None:
        ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
        existing = await self.list_items("discovery.k8s.io/v1", "EndpointSlice", ns,
                                         label_selector=f"{SERVICE_NAME_LABEL}={name},{MANAGED_BY_LABEL}={MANAGED_BY}")
        wanted = eu.slice_groups(svc, pods)
        labels = {**(svc["metadata"].get("labels") or {}), SERVICE_NAME_LABEL: name, MANAGED_BY_LABEL: MANAGED_BY}
        if (svc.get("spec") or {}).get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        free = sorted(existing, key=lambda s: s["metadata"]["name"])
        for ports, endpoints in wanted:
            match = next((s for s in free if (s.get("ports") or []) == ports), None) or (free[0] if free else None)
            if match is not None:
                free.remove(match)
                if (match.get("ports") or []) == ports and (match.get("endpoints") or []) == endpoints \
                        and (match["metadata"].get("labels") or {}) == labels:
                    continue
                new = copy.deepcopy(match)
                new.update(ports=ports, endpoints=endpoints)
                new["metadata"]["labels"] = labels
                new["metadata"].setdefault("annotations", {})[TRIGGER_TIME] = timeutil.now_str()
                await self.client.replace(new)
                continue
            await self.client.create({
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"generateName": f"{name}-", "namespace": ns, "labels": labels,
                             "annotations": {TRIGGER_TIME: timeutil.now_str()},
                             "ownerReferences": [controller_ref({**svc, "apiVersion": "v1", "kind": "Service"})]},
                "addressType": "IPv4", "endpoints": endpoints, "ports": ports}, namespace=ns)
        for stale in free:
            await self.delete_quietly("discovery.k8s.io/v1", "EndpointSlice", stale["metadata"]["name"], ns)
