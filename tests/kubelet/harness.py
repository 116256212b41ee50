"""An in-process lab for kubelet tests: the real registry and in-process client,
the controllers that exist, the real kubelet, and an image store with fixed images.

It runs everything in the test's event loop (fast: no daemon to spawn) and
stops every container on exit, even when the test fails.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib
from dataclasses import dataclass, field
from pathlib import Path

from gitopslab.cluster.context import DaemonContext
from gitopslab.home import Home, LabClock

NODE = "prod-control-plane"
DIGEST = "sha256:" + "ab" * 32


@dataclass
class FakeImage:
    ref: str
    digest: str = DIGEST
    base: str = ""
    rootfs: Path | None = None
    env: dict = field(default_factory=dict)
    workdir: str = "/"
    entrypoint: list = field(default_factory=list)
    cmd: list = field(default_factory=list)
    exposed_ports: list = field(default_factory=list)
    user: str = ""
    python: Path | None = None
    size: int = 59774010


class FakeImageStore:
    """``ImageStore.resolve``/``image`` over a fixed set of images, all pullable."""

    def __init__(self, images: list[FakeImage]):
        from gitopslab.registry.refs import normalize_ref

        self._norm = normalize_ref
        self.images = {normalize_ref(i.ref): i for i in images}

    def resolve(self, ref: str, *, pulled_only: bool = True):
        return self.images.get(self._norm(ref))

    def image(self, ref: str, digest: str):
        return self.images[self._norm(ref)]


def catalog_images() -> list[FakeImage]:
    return [
        FakeImage("nginx:latest", base="nginx", entrypoint=["/docker-entrypoint.sh"],
                  cmd=["nginx", "-g", "daemon off;"]),
        FakeImage("nginx:1.27", base="nginx", entrypoint=["/docker-entrypoint.sh"],
                  cmd=["nginx", "-g", "daemon off;"]),
        FakeImage("busybox:latest", base="busybox", cmd=["sh"], size=2_160_000),
        FakeImage("busybox:1.36", base="busybox", cmd=["sh"], size=2_160_000),
        FakeImage("postgres:16", base="postgres", entrypoint=["docker-entrypoint.sh"], cmd=["postgres"],
                  size=160_000_000),
        FakeImage("redis:7", base="redis", entrypoint=["docker-entrypoint.sh"], cmd=["redis-server"]),
        FakeImage("odoo:18", base="odoo", entrypoint=["/entrypoint.sh"], cmd=["odoo"]),
    ]


def controller_classes() -> list[type]:
    wanted = [("deployment", "DeploymentController"), ("replicaset", "ReplicaSetController"),
              ("endpoints", "EndpointsController"), ("scheduler", "Scheduler"),
              ("statefulset", "StatefulSetController"), ("volumes", "VolumeController"),
              ("garbagecollector", "GarbageCollector"), ("namespace", "NamespaceController"),
              ("serviceaccount", "ServiceAccountController")]
    out = []
    for module, name in wanted:
        try:
            out.append(getattr(importlib.import_module(f"gitopslab.cluster.controllers.{module}"), name))
        except (ImportError, AttributeError):
            pass
    return out


class InProcessLab:
    def __init__(self, root: Path, images: list[FakeImage] | None = None, scale: float = 20.0):
        self.root = root
        self.images = FakeImageStore(images if images is not None else catalog_images())
        self.scale = scale
        self.tasks: list[asyncio.Task] = []

    async def __aenter__(self) -> "InProcessLab":
        from gitopslab.cluster import bootstrap
        from gitopslab.cluster.inprocess import InProcessClient
        from gitopslab.cluster.kinds import KindRegistry
        from gitopslab.cluster.kubelet import Kubelet
        from gitopslab.cluster.nodeport import NodePortProxy
        from gitopslab.cluster.registry import Registry
        from gitopslab.cluster.store import Store
        from gitopslab.cluster import controllers
        from gitopslab.cluster.kubelet.images import ImageService

        home = Home(self.root)
        paths = home.cluster("prod")
        paths.root.mkdir(parents=True, exist_ok=True)
        self.store = Store(paths.store)
        registry = Registry(self.store, KindRegistry())
        bootstrap.bootstrap(registry, node_name=NODE, api_port=6443, data_dir=str(paths.root))
        self.client = InProcessClient(registry, paths)
        clock = LabClock(self.scale)
        self.ctx = DaemonContext(home=home, cluster="prod", paths=paths, client=self.client, clock=clock,
                                 node_name=NODE, api_port=6443)
        self.kubelet = Kubelet(self.ctx, images=ImageService(home, clock, store=self.images))
        self.proxy = NodePortProxy(self.kubelet.services)
        self.tasks.append(asyncio.create_task(controllers.run(self.ctx, only=controller_classes())))
        self.tasks.append(asyncio.create_task(self.kubelet.run()))
        self.tasks.append(asyncio.create_task(self.proxy.run()))
        return self

    async def __aexit__(self, *exc) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            self.store.close()

    async def wait_for(self, predicate, timeout: float = 20.0, what: str = "condition"):
        deadline = asyncio.get_running_loop().time() + timeout
        last = None
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            last = value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what} (last: {last!r})")
            await asyncio.sleep(0.05)

    async def pod(self, name: str, namespace: str = "default") -> dict | None:
        return await self.client.get_or_none("v1", "Pod", name, namespace)

    async def events(self, namespace: str = "default", name: str | None = None) -> list[dict]:
        items = (await self.client.list("v1", "Event", namespace)).get("items") or []
        return [e for e in items if name is None or e["involvedObject"].get("name") == name]

    async def messages(self, name: str, namespace: str = "default") -> list[tuple[str, str]]:
        return [(e["reason"], e["message"]) for e in await self.events(namespace, name)]


def pod_manifest(name: str, image: str = "nginx", **container) -> dict:
    """A pod already bound to the node (the kubelet's input; scheduling is not under test here)."""
    c = {"name": container.pop("container_name", "app"), "image": image, **container}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": NODE, "containers": [c]}}


def run_lab(coro_fn, tmp_path: Path, timeout: float = 60, **kw):
    async def main():
        async with InProcessLab(tmp_path, **kw) as lab:
            return await coro_fn(lab)

    return asyncio.run(asyncio.wait_for(main(), timeout))
