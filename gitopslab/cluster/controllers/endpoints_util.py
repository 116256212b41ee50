"""Pure computation of a Service's Endpoints and EndpointSlice content (§5 of the
API reference): which pods back it, ready or not, and their resolved ports."""
from __future__ import annotations

from gitopslab.cluster.controllers import pods as P
from gitopslab.cluster.controllers.selectors import map_matches


def resolve_target_port(svc_port: dict, pod: dict) -> int | None:
    """``podutil.FindPort``: a number as is, a name looked up in the pod's containers."""
    target = svc_port.get("targetPort", svc_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = svc_port.get("protocol", "TCP")
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and p.get("protocol", "TCP") == protocol:
                return p.get("containerPort")
    return None


def selected_pods(svc: dict, pods: list[dict]) -> list[dict]:
    selector = (svc.get("spec") or {}).get("selector")
    ns = (svc.get("metadata") or {}).get("namespace")
    return [p for p in pods if (p.get("metadata") or {}).get("namespace") == ns
            and map_matches(selector, (p.get("metadata") or {}).get("labels"))
            and (p.get("status") or {}).get("podIP") and not P.is_terminated(p)]


def _address(pod: dict) -> dict:
    m = pod["metadata"]
    addr = {"ip": pod["status"]["podIP"]}
    if (pod.get("spec") or {}).get("nodeName"):
        addr["nodeName"] = pod["spec"]["nodeName"]
    addr["targetRef"] = {"kind": "Pod", "namespace": m.get("namespace"), "name": m.get("name"), "uid": m.get("uid")}
    return addr


def _ports_for(svc: dict, pod: dict) -> tuple | None:
    """The (name, port, protocol) tuple of every service port for this pod; None if one is unresolvable."""
    out = []
    for sp in (svc.get("spec") or {}).get("ports") or []:
        port = resolve_target_port(sp, pod)
        if port is None:
            continue
        out.append((sp.get("name") or "", port, sp.get("protocol", "TCP")))
    return tuple(out)


def _port_dicts(ports: tuple, with_empty_name: bool) -> list[dict]:
    out = []
    for name, port, protocol in ports:
        d = {"name": name} if (name or with_empty_name) else {}
        d.update({"port": port, "protocol": protocol})
        out.append(d)
    return out


def endpoints_subsets(svc: dict, pods: list[dict]) -> list[dict]:
    """``subsets`` of the Endpoints object, one per distinct resolved port set."""
    publish_all = bool((svc.get("spec") or {}).get("publishNotReadyAddresses"))
    groups: dict[tuple, dict] = {}
    for pod in selected_pods(svc, pods):
        if P.is_terminating(pod) and not publish_all:
            continue
        ports = _ports_for(svc, pod)
        if not ports:
            continue
        g = groups.setdefault(ports, {"addresses": [], "notReadyAddresses": []})
        key = "addresses" if (publish_all or P.is_ready(pod)) else "notReadyAddresses"
        g[key].append(_address(pod))
    subsets = []
    for ports, g in sorted(groups.items()):
        subset = {}
        for key in ("addresses", "notReadyAddresses"):
            if g[key]:
                subset[key] = sorted(g[key], key=lambda a: _ip_key(a["ip"]))
        subset["ports"] = _port_dicts(ports, with_empty_name=False)
        subsets.append(subset)
    return subsets


def slice_groups(svc: dict, pods: list[dict]) -> list[tuple[list[dict], list[dict]]]:
    """(ports, endpoints) for each EndpointSlice the Service needs."""
    publish_all = bool((svc.get("spec") or {}).get("publishNotReadyAddresses"))
    groups: dict[tuple, list[dict]] = {}
    for pod in selected_pods(svc, pods):
        ports = _ports_for(svc, pod)
        if not ports and (svc.get("spec") or {}).get("ports"):
            continue
        terminating = P.is_terminating(pod)
        ready = P.is_ready(pod)
        ep = {"addresses": [pod["status"]["podIP"]],
              "conditions": {"ready": (publish_all or ready) and not terminating,
                             "serving": publish_all or ready, "terminating": terminating}}
        if (pod.get("spec") or {}).get("nodeName"):
            ep["nodeName"] = pod["spec"]["nodeName"]
        m = pod["metadata"]
        ep["targetRef"] = {"kind": "Pod", "namespace": m.get("namespace"), "name": m.get("name"), "uid": m.get("uid")}
        groups.setdefault(ports, []).append(ep)
    if not groups:
        return [([], [])]  # the placeholder slice upstream keeps for an empty Service
    return [(_port_dicts(ports, True), sorted(eps, key=lambda e: _ip_key(e["addresses"][0])))
            for ports, eps in sorted(groups.items())]


def _ip_key(ip: str) -> tuple:
    try:
        return tuple(int(x) for x in ip.split("."))
    except ValueError:
        return (999, ip)
