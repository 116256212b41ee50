"""Load-balancer addresses as k3s gives them: ServiceLB for ``type: LoadBalancer``
Services, the bundled Traefik for Ingresses. Both publish the node's address."""
from __future__ import annotations

import copy

from gitopslab.cluster.controllers.base import Controller
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.events import EventRecorder
from gitopslab.cluster.informer import split_key

DEFAULT_NODE_IP = "127.0.0.1"
TRAEFIK_CLASS = "traefik"


def node_ip(node: dict | None) -> str:
    """ExternalIP if any node has one, else InternalIP (``podIPs`` in k3s servicelb)."""
    addresses = ((node or {}).get("status") or {}).get("addresses") or []
    for kind in ("ExternalIP", "InternalIP"):
        for a in addresses:
            if a.get("type") == kind and a.get("address"):
                return a["address"]
    return DEFAULT_NODE_IP


def service_lb_status(svc: dict, ip: str) -> dict:
    if (svc.get("spec") or {}).get("type") != "LoadBalancer":
        return {}
    return {"ingress": [{"ip": ip, "ipMode": "VIP"}]}


def ingress_lb_status(ing: dict, ip: str) -> dict | None:
    """Traefik's published status, or None for an Ingress of another class."""
    cls = (ing.get("spec") or {}).get("ingressClassName") or \
        ((ing.get("metadata") or {}).get("annotations") or {}).get("kubernetes.io/ingress.class") or TRAEFIK_CLASS
    if cls != TRAEFIK_CLASS:
        return None
    return {"ingress": [{"ip": ip}]}


class _NodeAddressMixin:
    async def _node_ip(self) -> str:
        node = await self.get_or_none("v1", "Node", self.ctx.node_name)
        if node is None:
            nodes = await self.list_items("v1", "Node")
            node = nodes[0] if nodes else None
        return node_ip(node)


class ServiceLBController(_NodeAddressMixin, Controller):
    name = "service-lb"
    component = "service-lb-controller"

    def __init__(self, ctx, informers, **kw):
        super().__init__(ctx, informers, **kw)
        self.cloud_recorder = EventRecorder(ctx.client, "service-controller")

    def setup(self) -> None:
        self.watch("v1", "Service")

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        svc = await self.get_or_none("v1", "Service", name, ns)
        if svc is None:
            return
        current = (svc.get("status") or {}).get("loadBalancer") or {}
        wanted = service_lb_status(svc, await self._node_ip())
        if current == wanted:
            return
        if wanted:
            await self.cloud_recorder.event(svc, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer")
        new = copy.deepcopy(svc)
        new.setdefault("status", {})["loadBalancer"] = wanted
        await self.client.replace(new, subresource="status")
        if wanted:
            await self.cloud_recorder.event(svc, "Normal", "EnsuredLoadBalancer", "Ensured load balancer")
            before = [i.get("ip") or i.get("hostname") for i in current.get("ingress") or []]
            after = [i["ip"] for i in wanted["ingress"]]
            await self.recorder.event(svc, "Normal", "UpdatedLoadBalancer",
                                      f"Updated LoadBalancer with new IPs: [{' '.join(before)}] -> [{' '.join(after)}]")


class IngressStatusController(_NodeAddressMixin, Controller):
    name = "traefik-ingress-status"
    component = "traefik"

    def setup(self) -> None:
        self.watch("networking.k8s.io/v1", "Ingress")

    async def start(self) -> None:
        if await self.get_or_none("networking.k8s.io/v1", "IngressClass", TRAEFIK_CLASS) is None:
            try:
                await self.client.create({
                    "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                    "metadata": {"name": TRAEFIK_CLASS,
                                 "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
                                 "labels": {"app.kubernetes.io/name": "traefik"}},
                    "spec": {"controller": "traefik.io/ingress-controller"}})
            except ApiError as e:
                if e.code != 409:
                    raise

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        ing = await self.get_or_none("networking.k8s.io/v1", "Ingress", name, ns)
        if ing is None:
            return
        wanted = ingress_lb_status(ing, await self._node_ip())
        if wanted is None or ((ing.get("status") or {}).get("loadBalancer") or {}) == wanted:
            return
        new = copy.deepcopy(ing)
        new.setdefault("status", {})["loadBalancer"] = wanted
        await self.client.replace(new, subresource="status")
