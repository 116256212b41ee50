"""The controllers inside a real lab daemon, through kubectl and the official client.

Matrix: Deployment rollout status and history with two revisions; Service
endpoints visible to kubectl; delete cascade; a pod that does not fit; a Job
that always fails; namespace deletion.
"""
from __future__ import annotations

import time

import pytest
from kubernetes.client.exceptions import ApiException


def wait(predicate, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def deployment(name, image="nginx", replicas=2):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": image,
                                                           "ports": [{"name": "http", "containerPort": 80}]}]}}}}


@pytest.fixture(scope="module")
def ns(lab):
    return lab.namespace("ctl")


def test_rollout_status_and_history(lab, ns):
    lab.apps.create_namespaced_deployment(ns, deployment("web"))
    out = lab.kubectl("-n", ns, "rollout", "status", "deploy/web", "--timeout=90s").stdout
    assert 'deployment "web" successfully rolled out' in out
    lab.kubectl("-n", ns, "set", "image", "deploy/web", "web=nginx:1.27")
    out = lab.kubectl("-n", ns, "rollout", "status", "deploy/web", "--timeout=90s").stdout
    assert 'deployment "web" successfully rolled out' in out
    history = lab.kubectl("-n", ns, "rollout", "history", "deploy/web").stdout
    assert "REVISION" in history and "1 " in history and "2 " in history
    d = lab.apps.read_namespaced_deployment("web", ns)
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    assert d.status.updated_replicas == 2 and d.status.observed_generation == d.metadata.generation
    reasons = {c.type: c.reason for c in d.status.conditions}
    assert reasons["Progressing"] == "NewReplicaSetAvailable"  # stays so even if a pod crashes later
    describe = lab.kubectl("-n", ns, "describe", "deploy/web").stdout
    assert "ScalingReplicaSet" in describe and "NewReplicaSet:" in describe


def test_service_endpoints(lab, ns):
    lab.core.create_namespaced_service(ns, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}})

    def two_addresses():
        try:
            ep = lab.core.read_namespaced_endpoints("web", ns)
        except ApiException as e:  # the endpoints controller has not written it yet
            if e.status == 404:
                return None
            raise
        return ep.subsets and len((ep.subsets[0].addresses or []) + (ep.subsets[0].not_ready_addresses or [])) == 2 and ep
    ep = wait(two_addresses, what="endpoints")
    subset = ep.subsets[0]
    assert all(a.target_ref.kind == "Pod" for a in (subset.addresses or []) + (subset.not_ready_addresses or []))
    assert ep.subsets[0].ports[0].port == 80
    slices = lab.kubectl("-n", ns, "get", "endpointslices", "-l", "kubernetes.io/service-name=web").stdout
    assert "web-" in slices and "IPv4" in slices


def test_delete_cascades(lab, ns):
    lab.kubectl("-n", ns, "delete", "deploy/web", "--wait=true", "--timeout=60s")
    wait(lambda: not lab.apps.list_namespaced_replica_set(ns).items, what="replicasets gone")
    wait(lambda: not [p for p in lab.core.list_namespaced_pod(ns, label_selector="app=web").items], what="pods gone")


def test_pod_that_does_not_fit(lab, ns):
    lab.core.create_namespaced_pod(ns, {"metadata": {"name": "huge"}, "spec": {"containers": [
        {"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "500"}}}]}})

    def unschedulable():
        p = lab.core.read_namespaced_pod("huge", ns)
        c = [c for c in p.status.conditions or [] if c.type == "PodScheduled"]
        return c and c[0].reason == "Unschedulable" and c[0]
    c = wait(unschedulable, what="Unschedulable")
    assert c.message == ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
                         "1 No preemption victims found for incoming pod.")
    events = lab.kubectl("-n", ns, "get", "events", "--field-selector", "reason=FailedScheduling").stdout
    assert "Insufficient cpu" in events
    lab.core.delete_namespaced_pod("huge", ns, grace_period_seconds=0)


def test_job_that_always_fails(lab, ns):
    lab.kubectl("-n", ns, "create", "job", "boom", "--image=busybox", "--", "sh", "-c", "exit 1", check=False)
    if lab.kubectl("-n", ns, "get", "job", "boom", check=False).returncode != 0:
        from kubernetes import client
        client.BatchV1Api(lab.api_client).create_namespaced_job(ns, {"metadata": {"name": "boom"}, "spec": {
            "backoffLimit": 1, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "c", "image": "busybox", "command": ["sh", "-c", "exit 1"]}]}}}})
    else:
        lab.kubectl("-n", ns, "patch", "job", "boom", "--type=merge", "-p", '{"spec":{"backoffLimit":1}}')
    from kubernetes import client
    batch = client.BatchV1Api(lab.api_client)

    def failed():
        j = batch.read_namespaced_job("boom", ns)
        return [c for c in j.status.conditions or [] if c.type == "Failed"] and j
    j = wait(failed, timeout=120, what="job failed")
    c = [c for c in j.status.conditions if c.type == "Failed"][0]
    assert (c.reason, c.message) == ("BackoffLimitExceeded", "Job has reached the specified backoff limit")


def test_namespace_deletion(lab):
    name = lab.namespace("bye")
    lab.core.create_namespaced_config_map(name, {"metadata": {"name": "x"}})
    lab.kubectl("delete", "namespace", name, "--timeout=60s")
    assert name not in lab.kubectl("get", "ns").stdout
