"""Service defaults, ClusterIP / NodePort allocation and validation
(core/v1 defaults, service REST allocators, ValidateService)."""
from __future__ import annotations

import ipaddress
import random

from gitopslab.cluster.admission.fields import (FieldError, GoValue, duplicate, forbidden, go_string_slice, invalid,
                                                 not_supported, required)
from gitopslab.cluster.admission.names import dns1123_label, port_name, port_number

SERVICE_CIDR = ipaddress.ip_network("10.43.0.0/16")  # k3s's default service CIDR
KUBERNETES_SERVICE_IP = "10.43.0.1"
NODE_PORT_MIN, NODE_PORT_MAX = 30000, 32767
# static sub-range (KEP-3668): offset = min(max(16, size/32), 128) = 86
NODE_PORT_DYNAMIC_START = NODE_PORT_MIN + min(max(16, (NODE_PORT_MAX - NODE_PORT_MIN + 1) // 32), 128)
TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]


def needs_cluster_ip(spec: dict) -> bool:
    return spec.get("type", "ClusterIP") != "ExternalName"


def needs_node_port(spec: dict) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def default_service(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "ClientIP":
        spec.setdefault("sessionAffinityConfig", {}).setdefault("clientIP", {}).setdefault("timeoutSeconds", 10800)
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        if p.get("targetPort") in (None, 0, ""):
            p["targetPort"] = p.get("port")
    if spec["type"] != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if needs_node_port(spec):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def carry_over_allocations(spec: dict, old_spec: dict) -> None:
    """service REST ``patchAllocatedValues``: an update that omits the allocated values keeps them."""
    if needs_cluster_ip(old_spec) and needs_cluster_ip(spec):
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
        if not spec.get("clusterIPs") and old_spec.get("clusterIPs"):
            spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if needs_node_port(old_spec) and needs_node_port(spec):
        new_used = {p.get("nodePort") for p in spec.get("ports") or [] if p.get("nodePort")}
        old_used = {p.get("nodePort") for p in old_spec.get("ports") or [] if p.get("nodePort")}
        used = old_used & new_used
        by_name = {p.get("name", ""): p.get("nodePort") for p in old_spec.get("ports") or []}
        for p in spec.get("ports") or []:
            if not p.get("nodePort"):
                old_value = by_name.get(p.get("name", ""))
                if old_value and old_value not in used:
                    p["nodePort"] = old_value


def clear_node_ports(spec: dict, old_spec: dict) -> None:
    """An update switching to a type without node ports wipes the ones it kept
    from the old object (``dropTypeDependentFields``); explicit new ones are validated."""
    if needs_node_port(old_spec) and not needs_node_port(spec):
        old_ports = {p.get("nodePort") for p in old_spec.get("ports") or []}
        for p in spec.get("ports") or []:
            if p.get("nodePort") in old_ports:
                p.pop("nodePort", None)


def _validate_ports(spec: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    ports = spec.get("ports") or []
    if not ports and spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
        errs.append(required("spec.ports"))
    names: set[str] = set()
    seen: set[tuple] = set()
    for i, p in enumerate(ports):
        path = f"spec.ports[{i}]"
        name = p.get("name") or ""
        if len(ports) > 1 and not name:
            errs.append(required(f"{path}.name"))
        elif name:
            # Service port names are DNS-1123 labels; IANA_SVC_NAME only applies to container ports
            errs.extend(invalid(f"{path}.name", name, m) for m in dns1123_label(name))
            if name in names:
                errs.append(duplicate(f"{path}.name", name))
            names.add(name)
        port = p.get("port")
        if not isinstance(port, int) or isinstance(port, bool):
            errs.append(required(f"{path}.port") if port is None else invalid(f"{path}.port", port, "must be an integer"))
        else:
            errs.extend(invalid(f"{path}.port", port, m) for m in port_number(port))
        protocol = p.get("protocol")
        if protocol not in PROTOCOLS:
            errs.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
        target = p.get("targetPort")
        if isinstance(target, int) and not isinstance(target, bool):
            errs.extend(invalid(f"{path}.targetPort", target, m) for m in port_number(target))
        elif isinstance(target, str) and target:
            errs.extend(invalid(f"{path}.targetPort", target, m) for m in port_name(target))
        key = (port, protocol)
        if key in seen:
            errs.append(duplicate(path, GoValue(f'core.ServicePort{{Name:"{name}", Protocol:"{protocol}", Port:{port}}}')))
        seen.add(key)
        if p.get("nodePort") and not needs_node_port(spec):
            errs.append(forbidden(f"{path}.nodePort", f"may not be used when `type` is '{spec.get('type')}'"))
    return errs


def validate_service(obj: dict, old: dict | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errs: list[FieldError] = []
    stype = spec.get("type")
    if stype not in TYPES:
        errs.append(not_supported("spec.type", stype, TYPES))
    if stype == "ExternalName" and not spec.get("externalName"):
        errs.append(required("spec.externalName"))
    errs += _validate_ports(spec)
    affinity = spec.get("sessionAffinity")
    if affinity not in ("ClientIP", "None"):
        errs.append(not_supported("spec.sessionAffinity", affinity, ["ClientIP", "None"]))
    if old is not None:
        old_spec = old.get("spec") or {}
        if needs_cluster_ip(old_spec) and needs_cluster_ip(spec):
            old_ips = old_spec.get("clusterIPs") or []
            new_ips = spec.get("clusterIPs") or []
            if old_ips and new_ips and old_ips[0] != new_ips[0]:
                errs.append(invalid("spec.clusterIPs[0]", GoValue(go_string_slice(new_ips)), "may not change once set"))
            elif old_spec.get("clusterIP") and spec.get("clusterIP") and old_spec["clusterIP"] != spec["clusterIP"]:
                errs.append(invalid("spec.clusterIP", spec["clusterIP"], "field is immutable"))
    return errs


# --- allocation -----------------------------------------------------------------------

def allocate(obj: dict, old: dict | None, used_node_ports: set[int], used_cluster_ips: set[str]) -> list[FieldError]:
    """Assign clusterIP(s) and node ports; errors use the allocators' messages."""
    spec = obj["spec"]
    errs: list[FieldError] = []
    old_spec = (old or {}).get("spec") or {}
    if needs_cluster_ip(spec):
        errs += _allocate_cluster_ip(spec, old_spec, used_cluster_ips)
        spec.setdefault("ipFamilies", ["IPv4"])
        # a selector-less headless service is dual-stack capable by default
        headless_without_selector = spec.get("clusterIP") == "None" and not spec.get("selector")
        spec.setdefault("ipFamilyPolicy", "RequireDualStack" if headless_without_selector else "SingleStack")
    else:
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    if needs_node_port(spec):
        mine = {p.get("nodePort") for p in old_spec.get("ports") or [] if p.get("nodePort")}
        taken = set(used_node_ports) - mine
        for i, p in enumerate(spec.get("ports") or []):
            requested = p.get("nodePort")
            if requested:
                if not NODE_PORT_MIN <= requested <= NODE_PORT_MAX:
                    errs.append(invalid(f"spec.ports[{i}].nodePort", requested,
                                        f"provided port is not in the valid range. The range of valid ports is {NODE_PORT_MIN}-{NODE_PORT_MAX}"))
                elif requested in taken:
                    errs.append(invalid(f"spec.ports[{i}].nodePort", requested, "provided port is already allocated"))
                taken.add(requested)
        for p in spec.get("ports") or []:
            if not p.get("nodePort"):
                port = _free_node_port(taken)
                if port is None:
                    errs.append(FieldError("FieldValueInvalid", "spec.ports", GoValue("[]core.ServicePort{...}"),
                                           "range is full"))
                    break
                p["nodePort"] = port
                taken.add(port)
    return errs


def _free_node_port(taken: set[int]) -> int | None:
    for lo, hi in ((NODE_PORT_DYNAMIC_START, NODE_PORT_MAX), (NODE_PORT_MIN, NODE_PORT_DYNAMIC_START - 1)):
        free = [p for p in range(lo, hi + 1) if p not in taken]
        if free:
            return random.choice(free)
    return None


def _allocate_cluster_ip(spec: dict, old_spec: dict, used: set[str]) -> list[FieldError]:
    requested = spec.get("clusterIP") or ((spec.get("clusterIPs") or [None])[0])
    if requested == "None":
        spec["clusterIP"] = "None"
        spec["clusterIPs"] = ["None"]
        return []
    mine = old_spec.get("clusterIP")
    if requested:
        if requested == mine:
            spec["clusterIP"] = requested
            spec.setdefault("clusterIPs", [requested])
            return []
        try:
            ip = ipaddress.ip_address(requested)
        except ValueError:
            return [invalid("spec.clusterIPs[0]", requested, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
        if ip not in SERVICE_CIDR or ip in (SERVICE_CIDR.network_address, SERVICE_CIDR.broadcast_address):
            return [invalid("spec.clusterIPs", GoValue(go_string_slice([requested])),
                            f"failed to allocate IP {requested}: provided IP ({requested}) is not in the valid range. "
                            f"The range of valid IPs is {SERVICE_CIDR}")]
        if requested in used:
            return [invalid("spec.clusterIPs", GoValue(go_string_slice([requested])),
                            f"failed to allocate IP {requested}: provided IP is already allocated")]
        spec["clusterIP"] = requested
        spec["clusterIPs"] = [requested]
        return []
    taken = set(used) | {KUBERNETES_SERVICE_IP}
    size = SERVICE_CIDR.num_addresses
    base = int(SERVICE_CIDR.network_address)
    start = random.randrange(1, size - 1)
    for offset in range(size - 2):
        candidate = str(ipaddress.ip_address(base + 1 + (start + offset) % (size - 2)))
        if candidate not in taken:
            spec["clusterIP"] = candidate
            spec["clusterIPs"] = [candidate]
            return []
    return [invalid("spec.clusterIPs", GoValue("[]string(nil)"), "failed to allocate IP: range is full")]
