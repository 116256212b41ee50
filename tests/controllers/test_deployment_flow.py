"""Deployment -> ReplicaSet -> pods -> scheduler, against the in-memory client.

Covers: RS naming with pod-template-hash, revision annotations, ScalingReplicaSet
and SuccessfulCreate events, Scheduled events, status counters and conditions,
rolling update to a second revision with history, Recreate, and
ProgressDeadlineExceeded when pods never become ready.
"""
from __future__ import annotations

import re

from gitopslab.cluster.controllers.deployment import DeploymentController
from gitopslab.cluster.controllers.replicaset import ReplicaSetController
from gitopslab.cluster.controllers.scheduler import Scheduler

from .harness import FakeKubelet, Lab, run_async

CONTROLLERS = [DeploymentController, ReplicaSetController, Scheduler]


def deployment(name="web", replicas=3, image="nginx:1.27", **spec):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": image}]}}, **spec}}


def cond(obj, type_):
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), None)


def available(lab, name="web", n=3):
    async def check():
        d = await lab.get("apps/v1", "Deployment", name)
        st = d.get("status") or {}
        c = cond(d, "Progressing") or {}
        return (st.get("availableReplicas") == n and st.get("updatedReplicas") == n
                and st.get("observedGeneration") == d["metadata"]["generation"]
                and c.get("reason") == "NewReplicaSetAvailable") and d
    return check


def test_deployment_becomes_available_with_upstream_names_and_events(tmp_path):
    async def scenario():
        async with Lab(tmp_path, CONTROLLERS, kubelet=FakeKubelet(None)) as lab:
            lab.kubelet.client = lab.client
            await lab.client.create(deployment())
            d = await lab.wait_for(available(lab), what="deployment available")
            rss = lab.client.find("ReplicaSet")
            assert len(rss) == 1
            rs = rss[0]
            assert re.fullmatch(r"web-[bcdfghjklmnpqrstvwxz2456789]{1,10}", rs["metadata"]["name"])
            h = rs["metadata"]["labels"]["pod-template-hash"]
            assert rs["metadata"]["name"] == f"web-{h}"
            assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": h}
            assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
            assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "3"
            assert rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "4"
            ref = rs["metadata"]["ownerReferences"][0]
            assert ref["controller"] is True and ref["blockOwnerDeletion"] is True and ref["kind"] == "Deployment"
            assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
            st = d["status"]
            assert st["replicas"] == 3 and st["readyReplicas"] == 3 and st["observedGeneration"] == 1
            assert st.get("unavailableReplicas", 0) == 0
            a = cond(d, "Available")
            assert (a["status"], a["reason"], a["message"]) == ("True", "MinimumReplicasAvailable",
                                                                "Deployment has minimum availability.")
            p = cond(d, "Progressing")
            assert p["message"] == f'ReplicaSet "web-{h}" has successfully progressed.'
            pods = lab.client.find("Pod")
            assert len(pods) == 3
            for pod in pods:
                assert re.fullmatch(rf"web-{h}-[bcdfghjklmnpqrstvwxz2456789]{{5}}", pod["metadata"]["name"])
                assert pod["spec"]["nodeName"] == "prod-control-plane"
            scaling = [e["message"] for e in lab.events("ScalingReplicaSet")]
            assert scaling == [f"Scaled up replica set web-{h} from 0 to 3"]
            created = sorted(e["message"] for e in lab.events("SuccessfulCreate"))
            assert created == sorted(f"Created pod: {p['metadata']['name']}" for p in pods)
            scheduled = lab.events("Scheduled")
            assert len(scheduled) == 3
            e = scheduled[0]
            assert e["reportingComponent"] == "default-scheduler" and e["eventTime"]
            assert re.fullmatch(r"Successfully assigned default/web-\S+ to prod-control-plane", e["message"])
    run_async(scenario())


def test_rolling_update_keeps_history_and_counts_revisions(tmp_path):
    async def scenario():
        async with Lab(tmp_path, CONTROLLERS, kubelet=FakeKubelet(None)) as lab:
            lab.kubelet.client = lab.client
            await lab.client.create(deployment())
            await lab.wait_for(available(lab), what="first rollout")
            d = await lab.get("apps/v1", "Deployment", "web")
            d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
            await lab.client.replace(d)

            async def second_done():
                d = await available(lab)()
                return d and d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2" and d
            d = await lab.wait_for(second_done, what="second rollout")
            assert d["status"]["observedGeneration"] == 2
            rss = {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs for rs in lab.client.find("ReplicaSet")}
            assert set(rss) == {"1", "2"}
            assert rss["1"]["spec"]["replicas"] == 0 and rss["2"]["spec"]["replicas"] == 3
            await lab.wait_for(lambda: len([p for p in lab.client.find("Pod") if not p["metadata"].get("deletionTimestamp")]) == 3
                               and all(p["metadata"]["labels"]["pod-template-hash"] == rss["2"]["metadata"]["labels"]["pod-template-hash"]
                                       for p in lab.client.find("Pod")), what="old pods deleted")
            msgs = [e["message"] for e in lab.events("ScalingReplicaSet")]
            new, old = rss["2"]["metadata"]["name"], rss["1"]["metadata"]["name"]
            assert msgs[0] == f"Scaled up replica set {old} from 0 to 3"
            assert f"Scaled up replica set {new} from 0 to 1" in msgs
            assert any(m.startswith(f"Scaled down replica set {old} from 3 to ") for m in msgs)
    run_async(scenario())


def test_revision_history_limit_deletes_oldest(tmp_path):
    async def scenario():
        async with Lab(tmp_path, CONTROLLERS, kubelet=FakeKubelet(None)) as lab:
            lab.kubelet.client = lab.client
            await lab.client.create(deployment(replicas=1, revisionHistoryLimit=1))
            for rev, tag in enumerate(("a", "b", "c"), start=1):
                async def at_revision():
                    d = await available(lab, n=1)()
                    return d and d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == str(rev)
                await lab.wait_for(at_revision, what=f"revision {rev}")
                d = await lab.get("apps/v1", "Deployment", "web")
                d["spec"]["template"]["spec"]["containers"][0]["image"] = f"nginx:{tag}"
                await lab.client.replace(d)

            async def done():
                d = await available(lab, n=1)()
                return d and d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"
            await lab.wait_for(done, what="fourth revision")
            await lab.wait_for(lambda: len(lab.client.find("ReplicaSet")) == 2, what="history trimmed")
            revs = sorted(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] for rs in lab.client.find("ReplicaSet"))
            assert revs == ["3", "4"]
    run_async(scenario())


def test_recreate_scales_old_to_zero_before_new(tmp_path):
    async def scenario():
        async with Lab(tmp_path, CONTROLLERS, kubelet=FakeKubelet(None)) as lab:
            lab.kubelet.client = lab.client
            await lab.client.create(deployment(replicas=2, strategy={"type": "Recreate"}))
            await lab.wait_for(available(lab, n=2), what="first rollout")
            d = await lab.get("apps/v1", "Deployment", "web")
            d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:new"
            await lab.client.replace(d)

            async def done():
                d = await available(lab, n=2)()
                return d and d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
            await lab.wait_for(done, what="recreate rollout")
            msgs = [e["message"] for e in lab.events("ScalingReplicaSet")]
            down = next(i for i, m in enumerate(msgs) if m.startswith("Scaled down"))
            up_new = max(i for i, m in enumerate(msgs) if m.startswith("Scaled up"))
            assert down < up_new and msgs[down].endswith("from 2 to 0") and msgs[up_new].endswith("from 0 to 2")
    run_async(scenario())


def test_pods_never_ready_end_in_progress_deadline_exceeded(tmp_path):
    async def scenario():
        kubelet = FakeKubelet(None, ready=lambda pod: False)
        # 600 s of lab time pass in 1 s
        async with Lab(tmp_path, CONTROLLERS, kubelet=kubelet, scale=600) as lab:
            kubelet.client = lab.client
            await lab.client.create(deployment(replicas=2))

            async def timed_out():
                d = await lab.get("apps/v1", "Deployment", "web")
                c = cond(d, "Progressing") or {}
                return c.get("reason") == "ProgressDeadlineExceeded" and d
            d = await lab.wait_for(timed_out, timeout=15, what="ProgressDeadlineExceeded")
            p = cond(d, "Progressing")
            rs = lab.client.find("ReplicaSet")[0]["metadata"]["name"]
            assert p["status"] == "False" and p["message"] == f'ReplicaSet "{rs}" has timed out progressing.'
            a = cond(d, "Available")
            assert (a["status"], a["reason"]) == ("False", "MinimumReplicasUnavailable")
            assert a["message"] == "Deployment does not have minimum availability."
            assert d["status"]["unavailableReplicas"] == 2
    run_async(scenario())


def test_paused_deployment_reports_deployment_paused(tmp_path):
    async def scenario():
        async with Lab(tmp_path, CONTROLLERS, kubelet=FakeKubelet(None)) as lab:
            lab.kubelet.client = lab.client
            await lab.client.create(deployment(replicas=1))
            await lab.wait_for(available(lab, n=1), what="rollout")
            d = await lab.get("apps/v1", "Deployment", "web")
            d["spec"]["paused"] = True
            d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:paused"
            await lab.client.replace(d)

            async def paused():
                d = await lab.get("apps/v1", "Deployment", "web")
                c = cond(d, "Progressing") or {}
                return c.get("reason") == "DeploymentPaused" and d
            d = await lab.wait_for(paused, what="DeploymentPaused")
            c = cond(d, "Progressing")
            assert (c["status"], c["message"]) == ("Unknown", "Deployment is paused")
            assert len(lab.client.find("ReplicaSet")) == 1  # no rollout while paused
    run_async(scenario())
