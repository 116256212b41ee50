"""The ReplicaSet controller at scale and its claims, against the in-memory client.

The controller reads pods from the shared informer cache, which lags behind
its own writes: a ReplicaSet larger than its node must still create each
replica exactly once, leave the extra pods Pending with the scheduler's
wording, and a scale-down must delete exactly the surplus (unscheduled pods
first). Orphans matching the selector are adopted, pods whose labels stop
matching are released and replaced.
"""
from __future__ import annotations

import asyncio

from gitopslab.cluster.controllers.replicaset import ReplicaSetController
from gitopslab.cluster.controllers.scheduler import Scheduler

from .fakeclient import FakeClient
from .harness import FakeKubelet, Lab, node_object, run_async


class LaggingClient(FakeClient):
    """Pod watch events reach the informers late, as those of a busy API server do."""

    async def watch(self, api_version, kind, *args, **kw):
        async for ev in super().watch(api_version, kind, *args, **kw):
            if kind == "Pod":
                await asyncio.sleep(0.003)
            yield ev


def replicaset(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}, "status": {"phase": "Pending"}}}}


def scheduled_condition(pod: dict) -> dict:
    return next((c for c in (pod.get("status") or {}).get("conditions") or [] if c["type"] == "PodScheduled"), {})


def created_count(lab) -> int:
    """Pods the SuccessfulCreate events report (after 10, the recorder combines similar events into one)."""
    return sum(e.get("count") or 1 for e in lab.events("SuccessfulCreate"))


def controller_uid(pod: dict) -> str | None:
    return next((r["uid"] for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")), None)


def test_replicaset_larger_than_its_node_creates_each_replica_once(tmp_path):
    async def scenario():
        async with Lab(tmp_path, [ReplicaSetController, Scheduler], kubelet=FakeKubelet(None),
                       client=LaggingClient(), node=node_object(pods="100")) as lab:
            lab.kubelet.client = lab.client
            await lab.client.create(replicaset("big", 130))

            async def status(replicas: int, ready: int):
                rs = await lab.get("apps/v1", "ReplicaSet", "big")
                st = rs.get("status") or {}
                return st.get("replicas") == replicas and st.get("readyReplicas", 0) == ready and rs

            rs = await lab.wait_for(lambda: status(130, 100), timeout=120, what="130 replicas, 100 ready")
            pods = lab.client.find("Pod")
            assert len(pods) == 130
            assert {controller_uid(p) for p in pods} == {rs["metadata"]["uid"]}
            assert created_count(lab) == 130
            pending = [p for p in pods if not p["spec"].get("nodeName")]
            assert len(pending) == 30
            await lab.wait_for(lambda: all(scheduled_condition(p).get("reason") == "Unschedulable"
                                           for p in lab.client.find("Pod") if not p["spec"].get("nodeName")),
                               timeout=60, what="the 30 extra pods Unschedulable")
            messages = {scheduled_condition(p)["message"] for p in lab.client.find("Pod")
                        if not p["spec"].get("nodeName")}
            assert messages == {"0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: "
                                "1 No preemption victims found for incoming pod."}

            rs["spec"]["replicas"] = 40
            await lab.client.replace(rs)
            await lab.wait_for(lambda: status(40, 40), timeout=120, what="scaled down to 40")
            remaining = lab.client.find("Pod")
            assert len(remaining) == 40 and sum(e.get("count") or 1 for e in lab.events("SuccessfulDelete")) == 90
            assert all(p["spec"].get("nodeName") for p in remaining)  # the unscheduled pods went first
    run_async(scenario())


def test_replicaset_adopts_matching_orphans_and_releases_pods_that_stop_matching(tmp_path):
    async def scenario():
        async with Lab(tmp_path, [ReplicaSetController, Scheduler], kubelet=FakeKubelet(None)) as lab:
            lab.kubelet.client = lab.client
            orphan = {"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": "orphan", "namespace": "default", "labels": {"app": "web"}},
                      "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}, "status": {"phase": "Pending"}}
            await lab.client.create(orphan)
            rs = await lab.client.create(replicaset("web", 3))
            uid = rs["metadata"]["uid"]

            def owned() -> list[dict]:
                return [p for p in lab.client.find("Pod") if controller_uid(p) == uid]

            await lab.wait_for(lambda: len(owned()) == 3 and len(lab.client.find("Pod")) == 3, what="orphan adopted")
            assert "orphan" in {p["metadata"]["name"] for p in owned()}
            assert created_count(lab) == 2

            await lab.client.patch("v1", "Pod", "orphan", {"metadata": {"labels": {"app": "debug"}}}, "default")
            await lab.wait_for(lambda: len(owned()) == 3 and len(lab.client.find("Pod")) == 4,
                               what="released and replaced")
            released = await lab.get("v1", "Pod", "orphan")
            assert controller_uid(released) is None and released["metadata"]["labels"] == {"app": "debug"}
            assert created_count(lab) == 3

            # an orphan created later wakes the ReplicaSet: adopted, it is one replica too many, and a
            # surplus pod is deleted (an unscheduled one first, so most likely itself)
            await lab.client.create({**orphan, "metadata": {**orphan["metadata"], "name": "late"}})
            await lab.wait_for(lambda: lab.events("SuccessfulDelete"), what="the surplus deleted")
            await lab.wait_for(lambda: len(owned()) == 3 and len(lab.client.find("Pod")) == 4, what="3 replicas again")
    run_async(scenario())
