"""The course's kubectl commands as a learner types them, compared with what k3s v1.32 prints."""
from __future__ import annotations

import json



def _history_revisions(kubectl, ns: str) -> list[str]:
    out = kubectl("rollout", "history", "deploy/web", "-n", ns).stdout.splitlines()
    assert out[0] == "deployment.apps/web " and out[1].split() == ["REVISION", "CHANGE-CAUSE"]
    return [line.split()[0] for line in out[2:] if line.strip()]


def test_rollout_undo_reuses_the_old_replicaset(lab, kubectl):
    """``rollout undo`` sends the old template back (with ``creationTimestamp: null``): the
    Deployment goes back to its first ReplicaSet, whose revision becomes 3."""
    ns = lab.namespace("undo")
    kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "-n", ns)
    kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s")
    first_rs = {rs.metadata.name for rs in lab.apps.list_namespaced_replica_set(ns).items}
    kubectl("set", "image", "deploy/web", "nginx=nginx:1.26", "-n", ns)
    kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s")
    assert _history_revisions(kubectl, ns) == ["1", "2"]
    assert kubectl("rollout", "undo", "deploy/web", "-n", ns).stdout.strip() == "deployment.apps/web rolled back"
    kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s")
    assert _history_revisions(kubectl, ns) == ["2", "3"]
    rss = lab.apps.list_namespaced_replica_set(ns).items
    assert len(rss) == 2
    (back,) = [rs for rs in rss if rs.metadata.name in first_rs]
    assert back.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    assert back.metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"
    assert back.spec.replicas == 2
    done = kubectl("rollout", "undo", "deploy/web", "-n", ns, "--to-revision=9", check=False)
    assert done.returncode == 1 and done.stderr.strip() == "error: unable to find specified revision 9 in history"


def test_json_patch_nulls_are_not_stored(lab):
    """A typed object keeps no explicit null (Go decoding): a JSON patch with one stores nothing."""
    ns = lab.namespace("nulls")
    lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "cm", "labels": {"a": "b"}}, "data": {"k": "v"}})
    code, _ = lab.raw("PATCH", f"/api/v1/namespaces/{ns}/configmaps/cm",
                      json.dumps([{"op": "replace", "path": "/metadata/labels", "value": {"a": "b", "c": None}}]),
                      headers={"Content-Type": "application/json-patch+json"})
    assert code == 200
    code, body = lab.raw("GET", f"/api/v1/namespaces/{ns}/configmaps/cm")
    assert json.loads(body)["metadata"]["labels"] == {"a": "b"}


def test_exec_and_port_forward_fail_at_once_with_a_clear_message(lab, kubectl):
    ns = lab.namespace("stream")
    kubectl("create", "deployment", "pf", "--image=nginx", "-n", ns)
    kubectl("rollout", "status", "deploy/pf", "-n", ns, "--timeout=60s")
    pod = lab.core.list_namespaced_pod(ns, label_selector="app=pf").items[0].metadata.name
    done = kubectl("exec", pod, "-n", ns, "--", "ls", check=False, timeout=20)
    assert done.returncode == 1
    assert done.stderr.startswith("Error from server (BadRequest): kubectl exec n'est pas disponible")
    assert f"kubectl logs {pod} -n {ns}" in done.stderr
    done = kubectl("port-forward", f"pod/{pod}", "-n", ns, "8080:80", check=False, timeout=20)
    assert done.returncode == 1
    assert done.stderr.startswith("error: error upgrading connection: kubectl port-forward n'est pas disponible")
    kubectl("expose", "deploy/pf", "--port=80", "--type=NodePort", "-n", ns)
    node_port = lab.core.read_namespaced_service("pf", ns).spec.ports[0].node_port
    done = kubectl("port-forward", "svc/pf", "-n", ns, "8080:80", check=False, timeout=20)
    assert done.returncode == 1 and f":{node_port} (Service pf)" in done.stderr
    done = kubectl("exec", "nope", "-n", ns, "--", "ls", check=False, timeout=20)
    assert done.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'


def test_a_client_leaving_a_watch_is_not_a_server_error(lab):
    """kubectl ends its watches by closing the connection: the daemon must not log that as an error."""
    from kubernetes import watch

    ns = lab.namespace("watchgone")
    log = lab.paths.log_file
    count = lambda: log.read_text(errors="replace").count("Error handling request") if log.exists() else 0  # noqa: E731
    before = count()
    lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "cm-0"}})
    for i in range(3):
        w = watch.Watch()
        for _event in w.stream(lab.core.list_namespaced_config_map, ns, timeout_seconds=20):
            w.stop()
        for j in range(3):
            lab.core.create_namespaced_config_map(ns, {"metadata": {"name": f"cm-{i}-{j}"}})
    lab.core.list_namespaced_config_map(ns)  # one more round trip: the daemon has handled the writes
    assert count() == before
