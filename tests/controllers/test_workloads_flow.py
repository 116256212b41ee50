"""Job, StatefulSet, DaemonSet, CronJob and scheduling failures against the in-memory client.

Matrix: Job completes (Complete + SuccessCriteriaMet, Completed event), Job that
always fails (FailureTarget/Failed BackoffLimitExceeded), StatefulSet ordered pods
with PVCs and revisions, DaemonSet one pod on the node, CronJob job naming,
a pod that does not fit (FailedScheduling wording) then fits once capacity frees.
"""
from __future__ import annotations

import re

from gitopslab.cluster.controllers.cronjob import CronJobController
from gitopslab.cluster.controllers.daemonset import DaemonSetController
from gitopslab.cluster.controllers.job import JobController
from gitopslab.cluster.controllers.scheduler import Scheduler
from gitopslab.cluster.controllers.statefulset import StatefulSetController
from gitopslab.cluster.controllers.volumes import VolumeController

from .harness import FakeKubelet, Lab, node_object, run_async


def job(name="pi", backoff=6, **spec):
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "default"},
            "spec": {"backoffLimit": backoff, "template": {"metadata": {"labels": {"app": name}}, "spec": {
                "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}, **spec}}


def conds(obj):
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def test_job_completes(tmp_path):
    async def scenario():
        kubelet = FakeKubelet(None, exit_code=lambda pod: 0)
        async with Lab(tmp_path, [JobController, Scheduler], kubelet=kubelet) as lab:
            kubelet.client = lab.client
            await lab.client.create(job(completions=2, parallelism=1))

            async def complete():
                j = await lab.get("batch/v1", "Job", "pi")
                return "Complete" in conds(j) and j
            j = await lab.wait_for(complete, what="job complete")
            c = conds(j)
            assert c["Complete"]["status"] == "True" and c["SuccessCriteriaMet"]["reason"] == "CompletionsReached"
            assert j["status"]["succeeded"] == 2 and j["status"]["startTime"] and j["status"]["completionTime"]
            assert "active" not in j["status"]
            assert [e["message"] for e in lab.events("Completed")] == ["Job completed"]
            pods = lab.client.find("Pod")
            assert len(pods) == 2
            assert all(p["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "pi" for p in pods)
    run_async(scenario())


def test_job_that_always_fails_reaches_backoff_limit(tmp_path):
    async def scenario():
        kubelet = FakeKubelet(None, exit_code=lambda pod: 1)
        # back-off 10 s, 20 s… on the lab clock: fast at ×1000
        async with Lab(tmp_path, [JobController, Scheduler], kubelet=kubelet, scale=1000) as lab:
            kubelet.client = lab.client
            await lab.client.create(job(backoff=2))

            async def failed():
                j = await lab.get("batch/v1", "Job", "pi")
                return "Failed" in conds(j) and j
            j = await lab.wait_for(failed, what="job failed")
            c = conds(j)
            for t in ("Failed", "FailureTarget"):
                assert (c[t]["status"], c[t]["reason"], c[t]["message"]) == (
                    "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
            assert j["status"]["failed"] == 3 and "completionTime" not in j["status"]
            assert len(lab.events("SuccessfulCreate")) == 3
            ev = lab.events("BackoffLimitExceeded")[0]
            assert ev["type"] == "Warning" and ev["source"]["component"] == "job-controller"
    run_async(scenario())


def test_statefulset_creates_ordered_pods_and_claims(tmp_path):
    async def scenario():
        kubelet = FakeKubelet(None)
        async with Lab(tmp_path, [StatefulSetController, VolumeController, Scheduler], kubelet=kubelet) as lab:
            kubelet.client = lab.client
            await lab.client.create({
                "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "default"},
                "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                         "template": {"metadata": {"labels": {"app": "db"}},
                                      "spec": {"containers": [{"name": "pg", "image": "postgres"}]}},
                         "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                             "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}})

            async def ready():
                s = await lab.get("apps/v1", "StatefulSet", "db")
                st = s.get("status") or {}
                return st.get("readyReplicas") == 3 and st.get("availableReplicas") == 3 and s
            s = await lab.wait_for(ready, what="statefulset ready")
            assert sorted(p["metadata"]["name"] for p in lab.client.find("Pod")) == ["db-0", "db-1", "db-2"]
            assert sorted(c["metadata"]["name"] for c in lab.client.find("PersistentVolumeClaim")) == [
                "data-db-0", "data-db-1", "data-db-2"]
            st = s["status"]
            assert st["currentRevision"] == st["updateRevision"]
            assert re.fullmatch(r"db-[bcdfghjklmnpqrstvwxz2456789]+", st["updateRevision"])
            revs = lab.client.find("ControllerRevision")
            assert [r["metadata"]["name"] for r in revs] == [st["updateRevision"]] and revs[0]["revision"] == 1
            created = [e["message"] for e in lab.events("SuccessfulCreate")]
            pods_order = [m for m in created if m.startswith("create Pod")]
            assert pods_order == [f"create Pod db-{i} in StatefulSet db successful" for i in range(3)]
            assert "create Claim data-db-0 Pod db-0 in StatefulSet db success" in created
            pvc = await lab.get("v1", "PersistentVolumeClaim", "data-db-0")
            assert pvc["status"]["phase"] == "Bound" and pvc["status"]["capacity"] == {"storage": "1Gi"}
            pv = await lab.get("v1", "PersistentVolume", pvc["spec"]["volumeName"], None)
            assert pv["metadata"]["name"] == f"pvc-{pvc['metadata']['uid']}"
            assert pv["spec"]["claimRef"]["name"] == "data-db-0" and pv["status"]["phase"] == "Bound"
            assert pv["spec"]["hostPath"]["path"].startswith(str(tmp_path))
            pod0 = await lab.get("v1", "Pod", "db-0")
            assert pod0["spec"]["hostname"] == "db-0" and pod0["spec"]["subdomain"] == "db"
            assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}} in pod0["spec"]["volumes"]
            assert pod0["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "db-0"
    run_async(scenario())


def test_daemonset_runs_one_pod_on_the_node(tmp_path):
    async def scenario():
        kubelet = FakeKubelet(None)
        async with Lab(tmp_path, [DaemonSetController, Scheduler], kubelet=kubelet) as lab:
            kubelet.client = lab.client
            await lab.client.create({
                "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "default"},
                "spec": {"selector": {"matchLabels": {"app": "agent"}},
                         "template": {"metadata": {"labels": {"app": "agent"}},
                                      "spec": {"containers": [{"name": "a", "image": "busybox"}]}}}})

            async def ready():
                d = await lab.get("apps/v1", "DaemonSet", "agent")
                return (d.get("status") or {}).get("numberReady") == 1 and d
            d = await lab.wait_for(ready, what="daemonset ready")
            st = d["status"]
            assert (st["desiredNumberScheduled"], st["currentNumberScheduled"], st["numberAvailable"]) == (1, 1, 1)
            pods = lab.client.find("Pod")
            assert len(pods) == 1 and pods[0]["spec"]["nodeName"] == "prod-control-plane"
    run_async(scenario())


def test_pod_that_does_not_fit_stays_pending_then_schedules(tmp_path):
    async def scenario():
        async with Lab(tmp_path, [Scheduler], node=node_object(cpu="1")) as lab:
            big = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big", "namespace": "default"},
                   "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "800m"}}}]}}
            await lab.client.create(big)
            await lab.wait_for(lambda: lab.client.find("Pod")[0]["spec"].get("nodeName"), what="big scheduled")
            await lab.client.create({**big, "metadata": {"name": "second", "namespace": "default"}})
            expected = ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
                        "1 No preemption victims found for incoming pod.")

            async def unschedulable():
                p = await lab.get("v1", "Pod", "second")
                c = conds(p).get("PodScheduled") or {}
                return c.get("reason") == "Unschedulable" and p
            p = await lab.wait_for(unschedulable, what="Unschedulable")
            c = conds(p)["PodScheduled"]
            assert (c["status"], c["message"]) == ("False", expected)
            ev = lab.events("FailedScheduling")[0]
            assert ev["type"] == "Warning" and ev["message"] == expected and ev["reportingComponent"] == "default-scheduler"
            await lab.client.delete("v1", "Pod", "big", "default")
            await lab.wait_for(lambda: (lab.client.find("Pod")[0]["spec"].get("nodeName")), what="second scheduled")
    run_async(scenario())


def test_cronjob_creates_job_named_after_scheduled_minute(tmp_path):
    async def scenario():
        # ×120: a lab minute lasts half a second
        async with Lab(tmp_path, [CronJobController], scale=120) as lab:
            await lab.client.create({
                "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick", "namespace": "default"},
                "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                    "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}}})
            jobs = await lab.wait_for(lambda: lab.client.find("Job"), timeout=15, what="a job")
            j = jobs[0]
            minute = int(j["metadata"]["name"].rsplit("-", 1)[1])
            assert j["metadata"]["name"] == f"tick-{minute}"
            assert j["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
            assert "batch.kubernetes.io/cronjob-scheduled-timestamp" in j["metadata"]["annotations"]

            async def recorded():
                cj = await lab.get("batch/v1", "CronJob", "tick")
                return (cj.get("status") or {}).get("lastScheduleTime") and cj
            cj = await lab.wait_for(recorded, what="lastScheduleTime")
            assert any(r["kind"] == "Job" for r in cj["status"].get("active") or [])
            assert lab.events("SuccessfulCreate")[0]["message"].startswith("Created job tick-")
    run_async(scenario())
