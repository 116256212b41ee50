"""``pods/exec``, ``pods/attach`` and ``pods/portforward``: the lab has no SPDY/WebSocket
streams to containers, so these answer at once with a 400 whose message (French, it is
the lab's own) says what to use instead. kubectl prints it and exits: it never hangs.
"""
from __future__ import annotations

from gitopslab.cluster import errors as E
from gitopslab.cluster.controllers.selectors import matches

STREAMING_SUBRESOURCES = ("exec", "attach", "portforward")
COMMANDS = {"exec": "kubectl exec", "attach": "kubectl attach", "portforward": "kubectl port-forward"}


def node_ports_for(pod: dict, services: list[dict]) -> list[tuple[str, int]]:
    """(service name, nodePort) of the NodePort/LoadBalancer Services selecting ``pod``."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    found = []
    for svc in services:
        spec = svc.get("spec") or {}
        selector = spec.get("selector")
        if not selector or spec.get("type") not in ("NodePort", "LoadBalancer"):
            continue
        if not matches({"matchLabels": selector}, labels):
            continue
        found += [(svc["metadata"]["name"], p["nodePort"]) for p in spec.get("ports") or [] if p.get("nodePort")]
    return found


def refusal_message(sub: str, pod_name: str, namespace: str, node_ports: list[tuple[str, int]],
                    node_ip: str = "127.0.0.1") -> str:
    command = COMMANDS[sub]
    head = (f"{command} n'est pas disponible dans le cluster du labo gitopslab "
            "(pas de flux SPDY/WebSocket vers les conteneurs)")
    if sub == "portforward":
        if node_ports:
            where = ", ".join(f"http://{node_ip}:{port} (Service {name})" for name, port in node_ports)
            return f"{head} ; le pod {pod_name} est joignable par NodePort : {where}"
        return (f"{head} ; exposez le pod par un Service de type NodePort "
                f"(kubectl expose … -n {namespace} --type=NodePort) puis ouvrez http://{node_ip}:<nodePort>")
    return f"{head} ; lisez plutôt la sortie du conteneur : kubectl logs {pod_name} -n {namespace}"


def refuse(view, namespace: str, name: str, sub: str) -> E.ApiError:
    """The error to answer for a streaming subresource of ``namespace/name`` (404 if no such pod)."""
    pod = view.get("v1", "Pod", namespace, name)
    if pod is None:
        return E.not_found("", "pods", name)
    nodes = view.list("v1", "Node")
    node_ip = next((a.get("address") for n in nodes for a in (n.get("status") or {}).get("addresses") or []
                    if a.get("type") == "InternalIP"), "127.0.0.1")
    ports = node_ports_for(pod, view.list("v1", "Service", namespace))
    return E.bad_request(refusal_message(sub, name, namespace, ports, node_ip))
