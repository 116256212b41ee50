"""Run controllers against the in-memory FakeClient, with a stand-in kubelet.

``Lab`` starts the chosen controllers in the current event loop and stops them
on exit, even when the test fails. ``FakeKubelet`` marks bound pods Running and
Ready (or leaves them unready / makes them exit) so workload controllers can be
tested before the real kubelet lands.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
from pathlib import Path

from gitopslab.cluster.context import DaemonContext
from gitopslab.cluster.controllers import run
from gitopslab.cluster.controllers.timeutil import now_str
from gitopslab.home import Home, LabClock
from .fakeclient import FakeClient

NODE = "prod-control-plane"


def node_object(name: str = NODE, cpu: str = "2", memory: str = "4Gi", pods: str = "110") -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
            "spec": {},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
                       "capacity": {"cpu": cpu, "memory": memory, "pods": pods},
                       "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                                     {"type": "Hostname", "address": name}]}}


class FakeKubelet:
    """Pods bound to the node become Running (+Ready unless ``ready`` says no)."""

    def __init__(self, client: FakeClient, *, ready=lambda pod: True, exit_code=lambda pod: None):
        self.client, self.ready, self.exit_code = client, ready, exit_code
        self._ip = 10

    async def run(self) -> None:
        async for ev in self.client.watch("v1", "Pod"):
            pod = ev.object
            if ev.type == "DELETED" or not pod["spec"].get("nodeName"):
                continue
            if pod["metadata"].get("deletionTimestamp"):
                continue
            st = pod.get("status") or {}
            if st.get("phase") in ("Running", "Succeeded", "Failed"):
                continue
            await self._start(pod)

    async def _start(self, pod: dict) -> None:
        pod = copy.deepcopy(pod)
        self._ip += 1
        code = self.exit_code(pod)
        ready = self.ready(pod) and code is None
        now = now_str()
        phase = "Running" if code is None else ("Succeeded" if code == 0 else "Failed")
        conds = [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                 {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": now}]
        pod["status"] = {**(pod.get("status") or {}), "phase": phase, "podIP": f"127.42.0.{self._ip}",
                         "conditions": conds, "startTime": now}
        with contextlib.suppress(Exception):
            await self.client.replace(pod, subresource="status")


class Lab:
    def __init__(self, tmp: Path, controllers: list[type], *, scale: float = 1.0, kubelet: FakeKubelet | None = None,
                 client: FakeClient | None = None, node: dict | None = None):
        self.client = client or FakeClient()
        home = Home(tmp)
        self.ctx = DaemonContext(home=home, cluster="prod", paths=home.cluster("prod"), client=self.client,
                                 clock=LabClock(scale), node_name=NODE)
        self.ctx.paths.root.mkdir(parents=True, exist_ok=True)
        self.controllers = controllers
        self.kubelet = kubelet
        self.node = node
        self._tasks: list[asyncio.Task] = []

    async def __aenter__(self) -> "Lab":
        await self.client.create(self.node or node_object())
        for ns in ("default", "kube-system"):
            await self.client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        self._tasks.append(asyncio.create_task(run(self.ctx, only=self.controllers)))
        if self.kubelet:
            self._tasks.append(asyncio.create_task(self.kubelet.run()))
        return self

    async def __aexit__(self, *exc) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait_for(self, predicate, timeout: float = 10.0, what: str = "condition"):
        """Poll an async or sync predicate until it returns a truthy value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)

    async def get(self, api_version, kind, name, namespace="default"):
        return await self.client.get_or_none(api_version, kind, name, namespace)

    def events(self, reason: str | None = None) -> list[dict]:
        return [e for e in self.client.find("Event") if reason is None or e.get("reason") == reason]


def run_async(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))
