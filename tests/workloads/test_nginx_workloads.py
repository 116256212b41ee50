"""Issue 3 through the real lab with kubectl and the official client: nginx workloads and bad inputs.

One lab for the module (accelerated clock), one namespace per test. Every
expectation is what a k3s 1.32 node shows for the same manifest.
"""
from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from .helpers import (condition, container_status, deployment, events, get_pods_row, http_get, node_port_service,
                      pod, read_pod, try_get, wait, waiting_reason)


@pytest.fixture
def ns(lab):
    name = lab.namespace("wl")
    yield name
    lab.kubectl("delete", "namespace", name, "--wait=false", check=False)


def available(lab, name, ns):
    d = lab.apps.read_namespaced_deployment(name, ns)
    cond = next((c for c in d.status.conditions or [] if c.type == "Available"), None)
    return d if cond is not None and cond.status == "True" and d.status.available_replicas == d.spec.replicas else None


def test_node_answers_on_its_own_address(lab):
    node = lab.core.list_node().items[0]
    internal = [a.address for a in node.status.addresses if a.type == "InternalIP"]
    assert internal == [lab.paths.node_ip()]  # 127.0.0.1 unless another lab on the machine serves there
    assert lab.paths.node_ip().startswith("127.")
    assert node.metadata.annotations["k3s.io/internal-ip"] == lab.paths.node_ip()
    assert lab.server.startswith("https://127.0.0.1:")


def test_deployment_becomes_available_and_is_served_on_its_node_port(lab, ns):
    lab.apps.create_namespaced_deployment(ns, deployment("web", "nginx", replicas=3,
                                                         ports=[{"containerPort": 80}]))
    svc = lab.core.create_namespaced_service(ns, node_port_service("web", 80, 80))
    node_port = svc.spec.ports[0].node_port
    assert 30000 <= node_port <= 32767
    d = wait(lambda: available(lab, "web", ns), what="Deployment Available")
    cond = next(c for c in d.status.conditions if c.type == "Available")
    assert (cond.reason, cond.message) == ("MinimumReplicasAvailable", "Deployment has minimum availability.")
    progressing = next(c for c in d.status.conditions if c.type == "Progressing")
    assert progressing.reason == "NewReplicaSetAvailable"

    status, body = wait(lambda: try_get(f"http://127.0.0.1:{node_port}/"), what="NodePort answering")
    assert status == 200 and "<title>Welcome to nginx!</title>" in body
    status, body = http_get(f"http://127.0.0.1:{node_port}/missing")
    assert status == 404 and "<center>nginx/1.27.3</center>" in body

    pods = lab.core.list_namespaced_pod(ns, label_selector="app=web").items
    assert len({p.status.pod_ip for p in pods}) == 3
    assert {p.status.host_ip for p in pods} == {lab.paths.node_ip()}
    for p in pods:
        st = p.status.container_statuses[0]
        assert st.ready and st.restart_count == 0 and st.state.running is not None
        assert st.image == "docker.io/library/nginx:latest"
        assert st.image_id.startswith("docker.io/library/nginx@sha256:")
    reasons = [e[1] for e in events(lab, ns, pods[0].metadata.name)]
    assert reasons[:1] == ["Scheduled"] and {"Pulling", "Pulled", "Created", "Started"} <= set(reasons)
    out = lab.kubectl("-n", ns, "get", "svc", "web").stdout
    assert f"80:{node_port}/TCP" in out
    logs = lab.kubectl("-n", ns, "logs", "deploy/web").stdout
    assert "Configuration complete; ready for start up" in logs


def test_rolling_update_to_a_new_image(lab, ns):
    lab.apps.create_namespaced_deployment(ns, deployment("web", "nginx:1.26", replicas=3))
    lab.kubectl("-n", ns, "rollout", "status", "deploy/web", "--timeout=60s")
    lab.kubectl("-n", ns, "set", "image", "deploy/web", "web=nginx:1.27")
    out = lab.kubectl("-n", ns, "rollout", "status", "deploy/web", "--timeout=60s").stdout
    assert out.rstrip().endswith('deployment "web" successfully rolled out')
    history = lab.kubectl("-n", ns, "rollout", "history", "deploy/web").stdout
    assert history.splitlines()[0] == 'deployment.apps/web '
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]

    def updated():
        pods = lab.core.list_namespaced_pod(ns, label_selector="app=web").items
        live = [p for p in pods if p.metadata.deletion_timestamp is None]
        return len(live) == 3 and all(p.spec.containers[0].image == "nginx:1.27" for p in live) and live
    pods = wait(updated, what="three pods on nginx:1.27")
    assert all(p.status.container_statuses[0].image == "docker.io/library/nginx:1.27" for p in pods)
    rs = {r.spec.template.spec.containers[0].image: r for r in lab.apps.list_namespaced_replica_set(ns).items}
    assert rs["nginx:1.26"].spec.replicas == 0 and rs["nginx:1.27"].status.ready_replicas == 3
    describe = lab.kubectl("-n", ns, "describe", "deploy/web").stdout
    assert "Scaled down replica set" in describe and "RollingUpdate" in describe


def test_wrong_image_ends_in_image_pull_backoff(lab, ns):
    lab.core.create_namespaced_pod(ns, pod("bad", "nginx:nope"))
    wait(lambda: waiting_reason(read_pod(lab, "bad", ns)) == "ImagePullBackOff", what="ImagePullBackOff")
    row = get_pods_row(lab, ns, "bad")
    assert row["STATUS"] in ("ImagePullBackOff", "ErrImagePull") and row["READY"] == "0/1"
    err = ('rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:nope": '
           'failed to resolve reference "docker.io/library/nginx:nope": docker.io/library/nginx:nope: not found')
    seen = events(lab, ns, "bad")
    assert ("Warning", "Failed", f'Failed to pull image "nginx:nope": {err}') in seen
    assert ("Warning", "Failed", "Error: ErrImagePull") in seen
    assert ("Normal", "BackOff", 'Back-off pulling image "nginx:nope"') in seen
    assert ("Warning", "Failed", "Error: ImagePullBackOff") in seen
    describe = lab.kubectl("-n", ns, "describe", "pod", "bad").stdout
    # the state flips between the two as the kubelet retries the pull after each back-off
    assert "Reason:       ImagePullBackOff" in describe or "Reason:       ErrImagePull" in describe
    assert 'Back-off pulling image "nginx:nope"' in describe
    assert lab.core.read_namespaced_pod("bad", ns).status.phase == "Pending"


def test_unknown_repository_is_denied(lab, ns):
    lab.core.create_namespaced_pod(ns, pod("ghost", "nobody/nothing:1"))
    wait(lambda: waiting_reason(read_pod(lab, "ghost", ns)) in ("ErrImagePull", "ImagePullBackOff"),
         what="pull failure")
    failed = [m for t, r, m in events(lab, ns, "ghost") if r == "Failed" and m.startswith("Failed to pull")]
    assert failed and failed[0].endswith("pull access denied, repository does not exist or may require "
                                         "authorization: server message: insufficient_scope: authorization failed")


def test_liveness_probe_on_the_wrong_port_crash_loops(lab, ns):
    probe = {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 2, "failureThreshold": 2}
    lab.core.create_namespaced_pod(ns, pod("live", livenessProbe=probe))
    row = wait(lambda: (r := get_pods_row(lab, ns, "live"))["STATUS"] == "CrashLoopBackOff" and r,
               what="CrashLoopBackOff in kubectl get pods")
    assert row["READY"] == "0/1" and int(row["RESTARTS"].split()[0]) >= 1
    p = read_pod(lab, "live", ns)
    ip, uid = p["status"]["podIP"], p["metadata"]["uid"]
    seen = events(lab, ns, "live")
    assert ("Warning", "Unhealthy", f'Liveness probe failed: Get "http://{ip}:8080/": dial tcp {ip}:8080: '
                                    "connect: connection refused") in seen
    assert ("Normal", "Killing", "Container app failed liveness probe, will be restarted") in seen
    assert ("Warning", "BackOff", f"Back-off restarting failed container app in pod live_{ns}({uid})") in seen
    st = container_status(p)
    assert st["lastState"]["terminated"]["reason"] == "Completed"  # nginx exits 0 on its stop signal
    assert st["state"]["waiting"]["message"].startswith("back-off ")
    assert p["status"]["phase"] == "Running"


def test_node_port_already_taken_is_invalid(lab, ns):
    lab.core.create_namespaced_service(ns, node_port_service("first", 80, 80, node_port=30123))
    with pytest.raises(ApiException) as err:
        lab.core.create_namespaced_service(ns, node_port_service("second", 80, 80, node_port=30123))
    assert err.value.status == 422
    body = json.loads(err.value.body)
    assert body["reason"] == "Invalid"
    assert body["message"] == ('Service "second" is invalid: spec.ports[0].nodePort: Invalid value: 30123: '
                               "provided port is already allocated")
    manifest = json.dumps(node_port_service("third", 80, 80, node_port=30123))
    done = lab.kubectl("-n", ns, "apply", "-f", "-", input=manifest, check=False)
    assert done.returncode == 1 and "provided port is already allocated" in done.stderr
    assert lab.kubectl("get", "--raw", "/readyz").stdout == "ok"


def test_missing_configmap_and_secret_then_created(lab, ns):
    lab.core.create_namespaced_pod(ns, pod("env-cm", env=[
        {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "color"}}}]))
    lab.core.create_namespaced_pod(ns, pod("env-secret", envFrom=[{"secretRef": {"name": "creds"}}]))
    lab.core.create_namespaced_pod(ns, pod("vol-cm", volumeMounts=[{"name": "conf", "mountPath": "/etc/conf"}],
                                           spec={"volumes": [{"name": "conf", "configMap": {"name": "site"}}]}))
    for name in ("env-cm", "env-secret"):
        wait(lambda n=name: waiting_reason(read_pod(lab, n, ns)) == "CreateContainerConfigError",
             what=f"{name} CreateContainerConfigError")
    assert get_pods_row(lab, ns, "env-cm")["STATUS"] == "CreateContainerConfigError"
    assert ("Warning", "Failed", 'Error: configmap "settings" not found') in events(lab, ns, "env-cm")
    assert ("Warning", "Failed", 'Error: secret "creds" not found') in events(lab, ns, "env-secret")
    wait(lambda: ("Warning", "FailedMount", 'MountVolume.SetUp failed for volume "conf" : configmap "site" not found')
         in events(lab, ns, "vol-cm"), what="FailedMount")
    assert get_pods_row(lab, ns, "vol-cm")["STATUS"] == "ContainerCreating"

    # the kubelet retries: once the objects exist the pods start
    lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "settings"}, "data": {"color": "blue"}})
    lab.core.create_namespaced_secret(ns, {"metadata": {"name": "creds"}, "stringData": {"TOKEN": "s3cr3t"}})
    lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "site"}, "data": {"a.conf": "x"}})
    for name in ("env-cm", "env-secret", "vol-cm"):
        wait(lambda n=name: container_status(read_pod(lab, n, ns)).get("ready"), timeout=90, what=f"{name} ready")


def test_command_that_exits_at_once(lab, ns):
    lab.core.create_namespaced_pod(ns, pod("quits", "busybox:1.36", command=["sh", "-c", "echo bye; exit 3"]))
    lab.core.create_namespaced_pod(ns, pod("done", "busybox:1.36", command=["sh", "-c", "echo finished"],
                                           spec={"restartPolicy": "Never"}))
    wait(lambda: get_pods_row(lab, ns, "quits")["STATUS"] == "CrashLoopBackOff", what="CrashLoopBackOff")
    st = container_status(read_pod(lab, "quits", ns))
    term = st["lastState"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (3, "Error") and st["restartCount"] >= 1
    assert lab.kubectl("-n", ns, "logs", "quits", "--previous").stdout == "bye\n"

    done = wait(lambda: (p := read_pod(lab, "done", ns)).get("status", {}).get("phase") == "Succeeded" and p,
                what="Succeeded")
    assert container_status(done)["state"]["terminated"]["reason"] == "Completed"
    assert get_pods_row(lab, ns, "done")["STATUS"] == "Completed"
    assert lab.kubectl("-n", ns, "logs", "done").stdout == "finished\n"


def test_readiness_probe_to_a_port_nothing_listens_on(lab, ns):
    probe = {"tcpSocket": {"port": 9999}, "periodSeconds": 2}
    lab.core.create_namespaced_pod(ns, {**pod("unready", readinessProbe=probe),
                                        "metadata": {"name": "unready", "labels": {"app": "unready"}}})
    lab.core.create_namespaced_service(ns, {"metadata": {"name": "unready"},
                                            "spec": {"selector": {"app": "unready"}, "ports": [{"port": 80}]}})
    p = wait(lambda: (p := read_pod(lab, "unready", ns)).get("status", {}).get("podIP") and
             any(r == "Unhealthy" for _, r, _ in events(lab, ns, "unready")) and p, what="Unhealthy")
    ip = p["status"]["podIP"]
    assert ("Warning", "Unhealthy", f"Readiness probe failed: dial tcp {ip}:9999: connect: connection refused") \
        in events(lab, ns, "unready")
    row = get_pods_row(lab, ns, "unready")
    assert (row["READY"], row["STATUS"], row["RESTARTS"]) == ("0/1", "Running", "0")
    ready = condition(p, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ContainersNotReady")

    def not_ready_address():
        ep = lab.core.read_namespaced_endpoints("unready", ns)
        return ep.subsets and ep.subsets[0].not_ready_addresses and ep
    ep = wait(not_ready_address, what="notReadyAddresses")
    assert ep.subsets[0].not_ready_addresses[0].ip == ip and not ep.subsets[0].addresses


def test_process_ignoring_sigterm_is_killed_after_the_grace_period(lab, ns):
    lab.core.create_namespaced_pod(ns, pod("stubborn", "busybox:1.36",
                                           command=["sh", "-c", "trap '' TERM; while true; do sleep 1; done"],
                                           spec={"terminationGracePeriodSeconds": 3}))
    wait(lambda: container_status(read_pod(lab, "stubborn", ns)).get("ready"), what="running")
    lab.kubectl("-n", ns, "delete", "pod", "stubborn", "--timeout=60s")
    assert not lab.core.list_namespaced_pod(ns, field_selector="metadata.name=stubborn").items
    assert ("Normal", "Killing", "Stopping container app") in events(lab, ns, "stubborn")


def test_node_heartbeats_through_its_lease(lab):
    def lease():
        done = lab.kubectl("-n", "kube-node-lease", "get", "lease", "prod-control-plane", "-o", "json", check=False)
        return done.returncode == 0 and json.loads(done.stdout)
    first = wait(lease, what="node lease")
    renewed = wait(lambda: (now := lease()) and now["spec"]["renewTime"] != first["spec"]["renewTime"] and now,
                   timeout=30, what="lease renewed")
    assert renewed["spec"]["holderIdentity"] == "prod-control-plane"
    assert renewed["spec"]["leaseDurationSeconds"] == 40
    assert renewed["metadata"]["ownerReferences"][0]["kind"] == "Node"
