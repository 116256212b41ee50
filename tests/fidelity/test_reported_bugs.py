"""Bugs engineers met as a learner would, checked through the real kubectl and the official client."""
from __future__ import annotations

import json
import time

import pytest

STATEFULSET = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - {name: nginx, image: nginx}
"""

SLOW_READY = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: slow}
spec:
  replicas: 2
  minReadySeconds: 20
  selector: {matchLabels: {app: slow}}
  template:
    metadata: {labels: {app: slow}}
    spec:
      containers:
      - name: web
        image: nginx
        readinessProbe:
          httpGet: {path: /, port: 80}
          initialDelaySeconds: 20
          periodSeconds: 5
"""


def wait_for(predicate, timeout: float = 30, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


# --- 1. Service port names are DNS-1123 labels ------------------------------------------

def test_create_service_nodeport_with_numeric_port_name(lab, kubectl):
    ns = lab.namespace("svcname")
    out = kubectl("create", "service", "nodeport", "svc", "--tcp=80:8080", "-n", ns).stdout
    assert out.strip() == "service/svc created"
    svc = json.loads(kubectl("get", "svc", "svc", "-n", ns, "-o", "json").stdout)
    port = svc["spec"]["ports"][0]
    assert (port["name"], port["port"], port["targetPort"]) == ("80-8080", 80, 8080)
    row = kubectl("get", "svc", "svc", "-n", ns, "--no-headers").stdout.split()
    assert row[1] == "NodePort" and row[4] == f"80:{port['nodePort']}/TCP"


def test_service_port_name_must_be_a_dns1123_label(lab, kubectl):
    ns = lab.namespace("svcname")
    manifest = json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad"},
                           "spec": {"ports": [{"name": "HTTP", "port": 80}]}})
    done = kubectl("apply", "-n", ns, "-f", "-", input=manifest, check=False)
    assert done.returncode != 0
    assert ('spec.ports[0].name: Invalid value: "HTTP": a lowercase RFC 1123 label must consist of lower case '
            "alphanumeric characters or '-', and must start and end with an alphanumeric character") in done.stderr


def test_container_port_names_stay_iana_service_names(lab, kubectl):
    ns = lab.namespace("ctrport")
    pod = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                      "spec": {"containers": [{"name": "c", "image": "nginx",
                                               "ports": [{"name": "80-8080", "containerPort": 80}]}]}})
    done = kubectl("apply", "-n", ns, "-f", "-", input=pod, check=False)
    assert done.returncode != 0
    assert 'spec.containers[0].ports[0].name: Invalid value: "80-8080": must contain at least one letter (a-z)' in done.stderr


# --- 2. READY and AVAILABLE follow the pods' Ready condition and minReadySeconds --------------

def _ready_pods(lab, ns: str) -> list[dict]:
    pods = lab.core.list_namespaced_pod(ns, label_selector="app=slow").items
    return [p for p in pods if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]


def test_deployment_ready_and_available_never_run_ahead_of_pods(lab, kubectl):
    ns = lab.namespace("ready")
    kubectl("apply", "-n", ns, "-f", "-", input=SLOW_READY)
    seen_ready_not_available = False
    deadline = time.monotonic() + 40
    while True:
        status = lab.apps.read_namespaced_deployment("slow", ns).status
        ready_pods = _ready_pods(lab, ns)  # read after the Deployment: readiness only grows here
        ready, available = status.ready_replicas or 0, status.available_replicas or 0
        assert ready <= len(ready_pods), f"READY {ready} with {len(ready_pods)} Ready pods"
        assert available <= ready
        if ready == 2 and available == 0:
            seen_ready_not_available = True  # minReadySeconds (2 s at ×10) not yet elapsed
        if available == 2:
            break
        assert time.monotonic() < deadline, "the Deployment never became available"
        time.sleep(0.1)
    assert seen_ready_not_available
    row = kubectl("get", "deploy", "slow", "-n", ns, "--no-headers").stdout.split()
    assert row[1:4] == ["2/2", "2", "2"]


def test_deployment_status_omits_zero_counters(lab, kubectl):
    ns = lab.namespace("omit")
    kubectl("create", "deployment", "web", "--image=nginx", "--replicas=2", "-n", ns)
    kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s")
    status = json.loads(kubectl("get", "deploy", "web", "-n", ns, "-o", "json").stdout)["status"]
    assert "unavailableReplicas" not in status
    assert status["readyReplicas"] == status["availableReplicas"] == status["updatedReplicas"] == 2
    kubectl("scale", "deploy/web", "--replicas=0", "-n", ns)
    status = wait_for(lambda: (s := json.loads(kubectl("get", "deploy", "web", "-n", ns, "-o", "json").stdout)["status"])
                      .get("replicas") is None and s)
    assert not {"replicas", "readyReplicas", "availableReplicas", "updatedReplicas", "unavailableReplicas"} & set(status)


# --- 3. kubectl delete --wait returns once the old UID is gone -------------------------------

def _uid(lab, ns: str, name: str) -> str | None:
    from kubernetes.client.exceptions import ApiException
    try:
        return lab.core.read_namespaced_pod(name, ns).metadata.uid
    except ApiException as e:
        if e.status == 404:
            return None
        raise


@pytest.fixture(scope="module")
def sts_ns(lab, kubectl):
    ns = lab.namespace("sts")
    kubectl("apply", "-n", ns, "-f", "-", input=STATEFULSET)
    kubectl("rollout", "status", "sts/db", "-n", ns, "--timeout=60s")
    return ns


def test_delete_statefulset_pod_returns_when_the_old_pod_is_gone(lab, kubectl, sts_ns):
    for _ in range(4):  # the hang was a race: try it a few times
        wait_for(lambda: (lab.core.read_namespaced_pod("db-0", sts_ns).status.phase == "Running"))
        old = _uid(lab, sts_ns, "db-0")
        done = kubectl("delete", "pod", "db-0", "-n", sts_ns, "--timeout=30s", timeout=45)
        assert done.stdout.strip() == 'pod "db-0" deleted'
        assert _uid(lab, sts_ns, "db-0") != old  # recreated under the same name, or not yet


def test_statefulset_does_not_delete_a_pod_already_terminating(lab, kubectl, sts_ns):
    """The StatefulSet controller only deletes finished pods nobody is deleting yet."""
    wait_for(lambda: lab.core.read_namespaced_pod("db-0", sts_ns).status.phase == "Running")
    kubectl("delete", "pod", "db-0", "-n", sts_ns, "--timeout=30s", timeout=45)
    wait_for(lambda: lab.core.read_namespaced_pod("db-0", sts_ns).status.phase == "Running")
    events = lab.core.list_namespaced_event(sts_ns, field_selector="involvedObject.kind=StatefulSet").items
    reasons = {e.reason for e in events}
    assert "SuccessfulCreate" in reasons
    assert "SuccessfulDelete" not in reasons


def test_delete_pod_of_deployment_and_deployment_itself(lab, kubectl):
    ns = lab.namespace("deldeploy")
    kubectl("create", "deployment", "web", "--image=nginx", "-n", ns)
    kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s")
    pod = lab.core.list_namespaced_pod(ns, label_selector="app=web").items[0].metadata.name
    done = kubectl("delete", "pod", pod, "-n", ns, "--timeout=30s", timeout=45)
    assert done.stdout.strip() == f'pod "{pod}" deleted'
    assert _uid(lab, ns, pod) is None
    done = kubectl("delete", "deploy", "web", "-n", ns, "--timeout=30s", timeout=45)
    assert done.stdout.strip() == 'deployment.apps "web" deleted'
    wait_for(lambda: not lab.core.list_namespaced_pod(ns, label_selector="app=web").items)
    assert not lab.apps.list_namespaced_replica_set(ns).items


def test_delete_answers_like_the_real_server(lab):
    """Graceful pod deletion answers with the object; an immediate delete of other kinds with a Status."""
    ns = lab.namespace("delanswer")
    lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "cm"}})
    uid = lab.core.read_namespaced_config_map("cm", ns).metadata.uid
    code, body = lab.raw("DELETE", f"/api/v1/namespaces/{ns}/configmaps/cm")
    status = json.loads(body)
    assert code == 200 and status["kind"] == "Status" and status["status"] == "Success"
    assert status["details"] == {"name": "cm", "kind": "configmaps", "uid": uid}
    lab.core.create_namespaced_pod(ns, {"metadata": {"name": "p"},
                                        "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    wait_for(lambda: lab.core.read_namespaced_pod("p", ns).status.phase == "Running")
    code, body = lab.raw("DELETE", f"/api/v1/namespaces/{ns}/pods/p")
    pod = json.loads(body)
    assert code == 200 and pod["kind"] == "Pod"
    assert pod["metadata"]["deletionTimestamp"] and pod["metadata"]["deletionGracePeriodSeconds"] == 30
