"""The lab's kubelet: runs the pods bound to this node.

``run(ctx)`` is started by the cluster daemon. It registers the node if
needed, follows the pods with ``spec.nodeName == ctx.node_name`` through the
API, gives each one a ``PodWorker`` (see ``worker``), keeps the Service
table the pod network needs, and runs the NodePort proxy. When cancelled,
it stops every container (SIGTERM, then SIGKILL after the grace period):
no process outlives the daemon. It also keeps the node's heartbeats
(``heartbeat``: its Lease, and its conditions' ``lastHeartbeatTime``).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time

from gitopslab.cluster.context import DaemonContext
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.events import EventRecorder
from gitopslab.cluster.informer import Informer
from gitopslab.cluster.kubelet.backoff import Backoff
from gitopslab.cluster.kubelet.heartbeat import Heartbeat
from gitopslab.cluster.kubelet.images import ImageService
from gitopslab.cluster.kubelet.probes import RELIST_PERIOD_SECONDS, next_tick
from gitopslab.cluster.kubelet.worker import PodWorker, now_str
from gitopslab.cluster.runtime.network import PodNetwork
from gitopslab.cluster.runtime.services import ServiceDirectory

log = logging.getLogger(__name__)

KUBELET_VERSION = "v1.32.5+k3s1"
SHUTDOWN_GRACE_SECONDS = 5.0   # a daemon stop does not wait a pod's full 30 s


def node_object(name: str, host_ip: str) -> dict:
    now = now_str()
    capacity = {"cpu": "2", "memory": "8141560Ki", "pods": "110", "ephemeral-storage": "20511312Ki"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
            "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true",
            "node.kubernetes.io/instance-type": "k3s"}},
        "spec": {"podCIDR": "127.42.0.0/16", "podCIDRs": ["127.42.0.0/16"]},
        "status": {
            "capacity": capacity, "allocatable": dict(capacity),
            "addresses": [{"type": "InternalIP", "address": host_ip}, {"type": "Hostname", "address": name}],
            "conditions": [
                {"type": t, "status": "False", "reason": r, "message": m, "lastHeartbeatTime": now,
                 "lastTransitionTime": now} for t, r, m in (
                    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"))
            ] + [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                  "message": "kubelet is posting ready status", "lastHeartbeatTime": now,
                  "lastTransitionTime": now}],
            "nodeInfo": {"kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                         "containerRuntimeVersion": "containerd://2.0.5-k3s1", "operatingSystem": "linux",
                         "architecture": "amd64", "osImage": "gitopslab", "kernelVersion": "",
                         "machineID": "", "systemUUID": "", "bootID": ""},
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        },
    }


def service_env_vars(services: list[dict]) -> dict[str, str]:
    """Docker-links style variables for the Services of the pod's namespace (enableServiceLinks)."""
    env: dict[str, str] = {}
    for svc in services:
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        if not ip or ip == "None" or not spec.get("ports"):
            continue
        prefix = re.sub(r"[^A-Z0-9]", "_", svc["metadata"]["name"].upper())
        env[f"{prefix}_SERVICE_HOST"] = ip
        first = spec["ports"][0]
        env[f"{prefix}_SERVICE_PORT"] = str(first.get("port"))
        env[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first.get('port')}"
        for p in spec["ports"]:
            if p.get("name"):
                env[f"{prefix}_SERVICE_PORT_{re.sub(r'[^A-Z0-9]', '_', p['name'].upper())}"] = str(p.get("port"))
            proto = p.get("protocol", "TCP")
            base = f"{prefix}_PORT_{p.get('port')}_{proto}"
            env[base] = f"{proto.lower()}://{ip}:{p.get('port')}"
            env[f"{base}_PROTO"] = proto.lower()
            env[f"{base}_PORT"] = str(p.get("port"))
            env[f"{base}_ADDR"] = ip
    return env


class Kubelet:
    def __init__(self, ctx: DaemonContext, *, images=None, host_ip: str | None = None):
        self.ctx = ctx
        self.client = ctx.client
        self.clock = ctx.clock
        self.node_name = ctx.node_name
        self.host_ip = host_ip or ctx.paths.node_ip()
        ctx.paths.root.mkdir(parents=True, exist_ok=True)
        self.network: PodNetwork = ctx.extras.setdefault("pod_network", PodNetwork(ctx.paths.root / "pod-network.json"))
        self.services_file = ctx.paths.root / "services.json"
        self.services: ServiceDirectory = ctx.extras.setdefault(
            "services", ServiceDirectory(ctx.client, self.services_file))
        self.pv_root = ctx.paths.root / "volumes"
        self.images = images or ImageService(ctx.home, ctx.clock, cache_file=ctx.paths.root / "images.json")
        self.recorder = EventRecorder(ctx.client, "kubelet", self.node_name)
        self.crash_backoff = Backoff()
        self.pull_backoff = Backoff()
        self.workers: dict[str, PodWorker] = {}
        self.pods = Informer(ctx.client, "v1", "Pod", field_selector=f"spec.nodeName={self.node_name}")
        self.relist_start = time.monotonic()

    def relist_after(self, moment: float) -> float:
        """When the PLEG's relist (every second of lab time since the kubelet started) first sees a change at ``moment``."""
        return next_tick(self.relist_start, self.clock.delay(RELIST_PERIOD_SECONDS), moment)

    # --- node ---------------------------------------------------------------------
    async def register_node(self) -> None:
        try:
            await self.client.get("v1", "Node", self.node_name)
        except ApiError as e:
            if e.code != 404:
                raise
            try:
                await self.client.create(node_object(self.node_name, self.host_ip))
            except ApiError as e2:
                if e2.code != 409:
                    raise
            return

    def service_env(self, pod: dict) -> dict[str, str]:
        if (pod.get("spec") or {}).get("enableServiceLinks") is False:
            services = [s for s in self.services.services.items() if s["metadata"]["name"] == "kubernetes"
                        and s["metadata"].get("namespace") == "default"]
        else:
            ns = pod["metadata"]["namespace"]
            services = [s for s in self.services.services.items()
                        if s["metadata"].get("namespace") == ns or
                        (s["metadata"]["name"] == "kubernetes" and s["metadata"].get("namespace") == "default")]
        return service_env_vars(services)

    # --- pods ---------------------------------------------------------------------
    def _on_pod(self, pod: dict) -> None:
        uid = pod["metadata"].get("uid")
        if not uid or (pod.get("spec") or {}).get("nodeName") != self.node_name:
            return
        worker = self.workers.get(uid)
        if worker is None:
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") and \
                    not pod["metadata"].get("deletionTimestamp"):
                # a finished pod from before a daemon restart: nothing to run
                return
            worker = PodWorker(self, pod)
            self.workers[uid] = worker
            worker.update(pod)
            worker.start()
            worker.task.add_done_callback(lambda _t, u=uid: self.workers.pop(u, None))
        else:
            worker.update(pod)

    def _on_pod_deleted(self, pod: dict) -> None:
        worker = self.workers.get((pod.get("metadata") or {}).get("uid"))
        if worker is not None:
            worker.removed()

    async def _finished_pods_cleanup(self) -> None:
        """Deleted terminal pods (not run by a worker) still need their grace-0 delete."""
        for pod in self.pods.items():
            meta = pod["metadata"]
            if meta.get("deletionTimestamp") and meta.get("uid") not in self.workers:
                self._on_pod(pod)

    async def run(self) -> None:
        await self.register_node()
        self.pods.add_handler(on_add=self._on_pod, on_update=lambda old, new: self._on_pod(new),
                              on_delete=self._on_pod_deleted)
        tasks = [asyncio.create_task(self.services.run(), name="kubelet services"),
                 asyncio.create_task(self.pods.run(), name="kubelet pods"),
                 asyncio.create_task(Heartbeat(self.client, self.clock, self.node_name).run(),
                                     name="kubelet heartbeat")]
        try:
            await self.pods.wait_synced()
            alive = {p["metadata"].get("uid") for p in self.pods.items()}
            self.network.retain_only(alive)
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await self.shutdown()

    async def shutdown(self) -> None:
        """Stop every container: SIGTERM, then SIGKILL after a short grace."""
        workers = list(self.workers.values())
        for w in workers:
            w._gone = True  # the API may be going away too: no more writes
            w.pod.setdefault("metadata", {})["deletionGracePeriodSeconds"] = min(
                w._grace_seconds(), SHUTDOWN_GRACE_SECONDS)

        async def stop(w: PodWorker) -> None:
            if w._lifecycle is not None:
                w._lifecycle.cancel()
            runs = list(w.runs.values())
            await asyncio.gather(*(r.container.stop(min(w._grace_seconds(), SHUTDOWN_GRACE_SECONDS))
                                   for r in runs), return_exceptions=True)
            if w.task is not None:
                w.task.cancel()

        try:
            await asyncio.shield(asyncio.gather(*(stop(w) for w in workers), return_exceptions=True))
        finally:
            for w in workers:
                w.kill_now()


async def run(ctx: DaemonContext) -> None:
    """Entry point used by the cluster daemon: the kubelet and the NodePort proxy."""
    from gitopslab.cluster.nodeport import NodePortProxy

    kubelet = Kubelet(ctx)
    proxy = NodePortProxy(kubelet.services, host=kubelet.host_ip)
    ctx.extras["kubelet"] = kubelet
    proxy_task = asyncio.create_task(proxy.run(), name="nodeport proxy")
    try:
        await kubelet.run()
    finally:
        proxy_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await proxy_task
