"""What a fresh k3s server holds before anyone creates anything: the system
namespaces with their ``default`` ServiceAccount and ``kube-root-ca.crt``
ConfigMap, the ``kubernetes`` Service, and the one Node (Ready).

Idempotent: run at every daemon start; existing objects are kept (the node's
status and the apiserver endpoints are refreshed).
"""
from __future__ import annotations

import logging
import os
import platform
import uuid
from datetime import datetime, timezone
from pathlib import Path

from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.registry import Registry, WriteOptions, rfc3339
from gitopslab.home import DEFAULT_NODE_IP, ClusterPaths

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
CONTAINERD_VERSION = "containerd://1.7.27-k3s1"
KUBERNETES_SERVICE_IP = "10.43.0.1"
POD_CIDR = "127.42.0.0/16"
BOOTSTRAP_MANAGER = "k3s"


def k8s_version() -> str:
    try:
        from gitopslab.cluster.apiserver.discovery import GIT_VERSION
        return GIT_VERSION
    except ImportError:
        return "v1.32.5+k3s1"


def _arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower(), "amd64")


def _os_image() -> str:
    try:
        for line in open("/etc/os-release", encoding="utf-8"):
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def _memory_ki() -> int:
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 8 * 1024 * 1024


def _machine_id() -> str:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            value = open(path, encoding="utf-8").read().strip()
            if value:
                return value
        except OSError:
            continue
    return uuid.uuid4().hex


def _disk_ki(path: str) -> int:
    try:
        st = os.statvfs(path)
        return st.f_blocks * st.f_frsize // 1024
    except OSError:
        return 100 * 1024 * 1024


def node_conditions(now: str, previous: list | None = None) -> list[dict]:
    prev = {c.get("type"): c for c in previous or []}

    def cond(ctype, status, reason, message):
        transition = prev.get(ctype, {}).get("lastTransitionTime") if prev.get(ctype, {}).get("status") == status else None
        return {"type": ctype, "status": status, "lastHeartbeatTime": now,
                "lastTransitionTime": transition or now, "reason": reason, "message": message}

    return [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]


def node_addresses(name: str, node_ip: str) -> list[dict]:
    return [{"type": "InternalIP", "address": node_ip}, {"type": "Hostname", "address": name}]


def node_object(name: str, now: str, data_dir: str = "/", node_ip: str = DEFAULT_NODE_IP) -> dict:
    version = k8s_version()
    cpu = str(os.cpu_count() or 2)
    mem_ki = _memory_ki()
    disk_ki = _disk_ki(data_dir)
    capacity = {"cpu": cpu, "ephemeral-storage": f"{disk_ki}Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                "memory": f"{mem_ki}Ki", "pods": "110"}
    allocatable = dict(capacity, **{"ephemeral-storage": str(int(disk_ki * 1024 * 0.97))})
    arch = _arch()
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "beta.kubernetes.io/arch": arch, "beta.kubernetes.io/instance-type": "k3s",
                "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": arch,
                "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true",
                "node.kubernetes.io/instance-type": "k3s",
            },
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                "k3s.io/internal-ip": node_ip,
                "k3s.io/hostname": name,
            },
        },
        "spec": {"podCIDR": POD_CIDR, "podCIDRs": [POD_CIDR], "providerID": f"k3s://{name}"},
        "status": {
            "addresses": node_addresses(name, node_ip),
            "allocatable": allocatable,
            "capacity": capacity,
            "conditions": node_conditions(now),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "images": [],
            "nodeInfo": {
                "architecture": arch,
                "bootID": str(uuid.uuid4()),
                "containerRuntimeVersion": CONTAINERD_VERSION,
                "kernelVersion": platform.release(),
                "kubeProxyVersion": version,
                "kubeletVersion": version,
                "machineID": _machine_id(),
                "operatingSystem": "linux",
                "osImage": _os_image(),
                "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)).upper(),
            },
        },
    }


def _ensure(registry: Registry, obj: dict) -> dict | None:
    res = registry.kinds.by_kind(obj["apiVersion"], obj["kind"])
    meta = obj["metadata"]
    ns = meta.get("namespace")
    existing = registry.store.get(res.storage_key, ns or "", meta["name"])
    if existing is not None:
        return existing.copy()
    try:
        return registry.create(res, ns, obj, WriteOptions(default_manager=BOOTSTRAP_MANAGER))
    except ApiError as e:
        log.error("bootstrap: cannot create %s %s: %s", obj["kind"], meta["name"], e)
        return None


def seed_namespace(registry: Registry, namespace: str, ca_pem: str) -> None:
    """The ``default`` ServiceAccount and ``kube-root-ca.crt`` ConfigMap of one namespace."""
    _ensure(registry, {"apiVersion": "v1", "kind": "ServiceAccount",
                       "metadata": {"name": "default", "namespace": namespace}})
    _ensure(registry, {"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "kube-root-ca.crt", "namespace": namespace,
                                    "annotations": {"kubernetes.io/description": (
                                        "Contains a CA bundle that can be used to verify the kube-apiserver when "
                                        "using internal endpoints such as the internal service IP or "
                                        "kubernetes.default.svc. No other usage is guaranteed across "
                                        "distributions of Kubernetes clusters.")}},
                       "data": {"ca.crt": ca_pem}})


def bootstrap(registry: Registry, *, node_name: str, api_port: int, ca_pem: str = "", data_dir: str = "/") -> None:
    now = rfc3339(datetime.now(timezone.utc))
    for ns in SYSTEM_NAMESPACES:
        _ensure(registry, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for ns in SYSTEM_NAMESPACES:
        seed_namespace(registry, ns, ca_pem)
    _ensure_kubernetes_service(registry, api_port)
    _ensure_node(registry, node_name, now, data_dir, ClusterPaths(Path(data_dir)).node_ip())


def _ensure_kubernetes_service(registry: Registry, api_port: int) -> None:
    _ensure(registry, {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "clusterIP": KUBERNETES_SERVICE_IP, "clusterIPs": [KUBERNETES_SERVICE_IP],
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                 "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                 "internalTrafficPolicy": "Cluster"},
    })
    endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": "kubernetes", "namespace": "default",
                              "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                 "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                              "ports": [{"name": "https", "port": api_port, "protocol": "TCP"}]}]}
    res = registry.kinds.by_kind("v1", "Endpoints")
    current = registry.store.get(res.storage_key, "default", "kubernetes")
    if current is None:
        _ensure(registry, endpoints)
    elif current.obj.get("subsets") != endpoints["subsets"]:
        registry.patch(res, "default", "kubernetes", "merge", {"subsets": endpoints["subsets"]},
                       WriteOptions(default_manager=BOOTSTRAP_MANAGER))


def _ensure_node(registry: Registry, node_name: str, now: str, data_dir: str, node_ip: str) -> None:
    res = registry.kinds.by_kind("v1", "Node")
    current = registry.store.get(res.storage_key, "", node_name)
    if current is None:
        _ensure(registry, node_object(node_name, now, data_dir, node_ip))
        return
    status = current.copy().get("status") or {}
    status["addresses"] = node_addresses(node_name, node_ip)
    status["conditions"] = node_conditions(now, status.get("conditions"))
    status.setdefault("nodeInfo", {})["bootID"] = str(uuid.uuid4())
    registry.patch(res, None, node_name, "merge", {"status": status}, WriteOptions(default_manager=BOOTSTRAP_MANAGER),
                   subresource="status")
