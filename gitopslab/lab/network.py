"""Reaching what the cluster exposes: the node's address, NodePorts, plain HTTP GETs."""
from __future__ import annotations

import urllib.error
import urllib.request

from kubernetes.client.exceptions import ApiException

from gitopslab.lab.session import Lab

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def node_address(lab: Lab) -> str:
    """The first node's InternalIP: where its NodePorts listen."""
    for node in lab.core.list_node().items:
        for addr in (node.status.addresses or []) if node.status else []:
            if addr.type == "InternalIP":
                return addr.address
    return "127.0.0.1"


def node_ports(lab: Lab, namespace: str, service: str) -> list[int]:
    """The nodePorts of a Service (empty if it has none or does not exist)."""
    try:
        svc = lab.core.read_namespaced_service(service, namespace)
    except ApiException:
        return []
    return [p.node_port for p in svc.spec.ports or [] if p.node_port]


def http_get(url: str, timeout: float = 5) -> str | None:
    """The body of ``GET url`` (what a browser would show), or None if nothing answers."""
    try:
        with _opener.open(url, timeout=timeout) as resp:
            return resp.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError):
        return None
