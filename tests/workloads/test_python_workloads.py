"""Issue 3 with real processes: an HTTP app built with ``gitopslab image build`` + ``push``.

The app (Python's http.server) runs as real processes whose sockets live on
their pod IPs: two replicas on the same port, a NodePort in front, logs
from the process itself, a restart visible with ``kubectl logs --previous``,
a StatefulSet writing to its PersistentVolume, a process that ignores
SIGTERM, and no process left behind by a namespace deletion or ``lab down``.
"""
from __future__ import annotations

import textwrap

import pytest

from .helpers import (alive, build_and_push, container_pids, container_status, deployment, events,
                      get_pods_row, http_get, node_port_service, read_pod, try_get, wait)

APP = textwrap.dedent('''\
    import http.server, os, signal, socket, sys

    DATA = os.environ.get("DATA_DIR")
    starts = 0
    if DATA:
        path = os.path.join(DATA, "starts")
        starts = int(open(path).read()) if os.path.exists(path) else 0
        starts += 1
        with open(path, "w") as f:
            f.write(str(starts))

    if os.environ.get("IGNORE_TERM"):
        def ignored(signum, frame):
            open(os.path.join(os.environ["IGNORE_TERM"], "term-received"), "w").write("yes")
            print("SIGTERM received, ignored", flush=True)
        signal.signal(signal.SIGTERM, ignored)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/crash":
                print("crashing on purpose", flush=True)
                os._exit(1)
            body = f"hello from {socket.gethostname()} start {starts}\\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            print(f"GET {self.path}", flush=True)

        def log_message(self, *args):
            pass

    print("listening on :8000", flush=True)
    http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
    ''')

DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py .\nEXPOSE 8000\nCMD ["python", "app.py"]\n'
IMAGE = "alice/hello-http:1.0"
READY = {"httpGet": {"path": "/", "port": 8000}, "periodSeconds": 2}


def write_app(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(APP)
    (folder / "Dockerfile").write_text(DOCKERFILE)
    return folder


@pytest.fixture(scope="module")
def image(lab, tmp_path_factory):
    out = build_and_push(lab, write_app(tmp_path_factory.mktemp("hello-http")), IMAGE)
    assert "The push refers to repository [docker.io/alice/hello-http]" in out
    return IMAGE


@pytest.fixture
def ns(lab):
    name = lab.namespace("py")
    yield name
    lab.kubectl("delete", "namespace", name, "--wait=false", check=False)


def ready_pods(lab, ns, selector, count):
    pods = [p for p in lab.core.list_namespaced_pod(ns, label_selector=selector).items
            if p.metadata.deletion_timestamp is None]
    ok = len(pods) == count and all(p.status.container_statuses and p.status.container_statuses[0].ready
                                    for p in pods)
    return pods if ok else None


def test_two_replicas_on_one_port_behind_a_node_port(lab, ns, image):
    lab.apps.create_namespaced_deployment(ns, deployment("hello", image, replicas=2, readinessProbe=READY,
                                                         ports=[{"containerPort": 8000}]))
    svc = lab.core.create_namespaced_service(ns, node_port_service("hello", 80, 8000))
    lab.kubectl("-n", ns, "rollout", "status", "deploy/hello", "--timeout=60s")
    pods = wait(lambda: ready_pods(lab, ns, "app=hello", 2), what="two ready replicas")
    names = {p.metadata.name for p in pods}
    assert len({p.status.pod_ip for p in pods}) == 2
    for p in pods:  # each replica is its own process listening on its own pod IP, port 8000
        assert http_get(f"http://{p.status.pod_ip}:8000/")[1].startswith(f"hello from {p.metadata.name} ")
        assert len(container_pids(lab, p.status.pod_ip)) == 1
    first = events(lab, ns, pods[0].metadata.name)
    assert ("Normal", "Pulling", f'Pulling image "{image}"') in first or \
        ("Normal", "Pulled", f'Container image "{image}" already present on machine') in first

    port = svc.spec.ports[0].node_port
    seen = set()
    for _ in range(8):
        status, body = wait(lambda: try_get(f"http://127.0.0.1:{port}/via-node-port"), what="NodePort")
        assert status == 200
        seen.add(body.split()[2])
    assert seen == names  # the NodePort balances over both replicas
    for name in names:
        logs = lab.kubectl("-n", ns, "logs", name).stdout.splitlines()
        assert logs[0] == "listening on :8000" and "GET /via-node-port" in logs
    stamped = lab.kubectl("-n", ns, "logs", sorted(names)[0], "--timestamps").stdout.splitlines()[0]
    assert stamped.split(" ", 1)[1] == "listening on :8000" and stamped[:4].isdigit()


def test_logs_previous_after_a_restart(lab, ns, image):
    lab.core.create_namespaced_pod(ns, {"metadata": {"name": "crashy"}, "spec": {"containers": [
        {"name": "app", "image": image, "readinessProbe": READY}]}})
    p = wait(lambda: (p := read_pod(lab, "crashy", ns)) and container_status(p).get("ready") and p,
             what="crashy ready")
    ip = p["status"]["podIP"]
    with pytest.raises(OSError):
        http_get(f"http://{ip}:8000/crash")
    wait(lambda: container_status(read_pod(lab, "crashy", ns)).get("restartCount") == 1, what="one restart")
    st = wait(lambda: (st := container_status(read_pod(lab, "crashy", ns))).get("ready") and st,
              what="ready again")
    term = st["lastState"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (1, "Error")
    previous = lab.kubectl("-n", ns, "logs", "crashy", "--previous").stdout
    assert previous == "listening on :8000\nGET /\ncrashing on purpose\n" or \
        previous.endswith("crashing on purpose\n")
    current = lab.kubectl("-n", ns, "logs", "crashy").stdout
    assert current.startswith("listening on :8000\n") and "crashing" not in current
    row = get_pods_row(lab, ns, "crashy")
    assert row["RESTARTS"].startswith("1 (") and row["STATUS"] == "Running"


def statefulset(image: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
           "spec": {"serviceName": "db", "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
                    "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [
                        {"name": "app", "image": image, "env": [{"name": "DATA_DIR", "value": "/data"}],
                         "readinessProbe": READY, "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}


def test_statefulset_with_a_persistent_volume(lab, ns, image):
    lab.apps.create_namespaced_stateful_set(ns, statefulset(image))
    lab.kubectl("-n", ns, "rollout", "status", "statefulset/db", "--timeout=60s")
    pvc = lab.core.read_namespaced_persistent_volume_claim("data-db-0", ns)
    assert pvc.status.phase == "Bound" and pvc.spec.storage_class_name == "local-path"
    pv = lab.core.read_persistent_volume(pvc.spec.volume_name)
    assert pv.spec.claim_ref.name == "data-db-0" and pv.status.phase == "Bound"
    out = lab.kubectl("-n", ns, "get", "pvc").stdout
    assert "data-db-0" in out and "Bound" in out and "local-path" in out

    ip = read_pod(lab, "db-0", ns)["status"]["podIP"]
    assert http_get(f"http://{ip}:8000/")[1] == "hello from db-0 start 1\n"
    uid = read_pod(lab, "db-0", ns)["metadata"]["uid"]
    lab.kubectl("-n", ns, "delete", "pod", "db-0")
    wait(lambda: (p := read_pod(lab, "db-0", ns)) and p["metadata"]["uid"] != uid
         and container_status(p).get("ready"), what="db-0 recreated and ready")
    ip = read_pod(lab, "db-0", ns)["status"]["podIP"]
    assert http_get(f"http://{ip}:8000/")[1] == "hello from db-0 start 2\n"  # the volume kept its data


def test_process_ignoring_sigterm_is_killed_after_the_grace_period(lab, ns, image):
    marks = "/var/lab-marks/" + ns
    lab.core.create_namespaced_pod(ns, {"metadata": {"name": "stubborn"}, "spec": {
        "terminationGracePeriodSeconds": 3,
        "containers": [{"name": "app", "image": image, "readinessProbe": READY,
                        "env": [{"name": "IGNORE_TERM", "value": "/marks"}],
                        "volumeMounts": [{"name": "marks", "mountPath": "/marks"}]}],
        "volumes": [{"name": "marks", "hostPath": {"path": marks, "type": "DirectoryOrCreate"}}]}})
    p = wait(lambda: (p := read_pod(lab, "stubborn", ns)) and container_status(p).get("ready") and p,
             what="stubborn ready")
    pids = container_pids(lab, p["status"]["podIP"])
    assert len(pids) == 1
    lab.kubectl("-n", ns, "delete", "pod", "stubborn", "--timeout=60s")
    assert not any(alive(pid) for pid in pids)
    # it got SIGTERM, ignored it, and only SIGKILL ended it
    assert (lab.paths.root / "hostpath" / marks.lstrip("/") / "term-received").read_text() == "yes"
    assert ("Normal", "Killing", "Stopping container app") in events(lab, ns, "stubborn")


def test_namespace_deletion_leaves_no_process(lab, image):
    ns = lab.namespace("gone")
    lab.apps.create_namespaced_deployment(ns, deployment("hello", image, replicas=2, readinessProbe=READY))
    pods = wait(lambda: ready_pods(lab, ns, "app=hello", 2), what="two ready replicas")
    pids = set().union(*(container_pids(lab, p.status.pod_ip) for p in pods))
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    lab.kubectl("delete", "namespace", ns, "--timeout=90s")
    assert not any(alive(pid) for pid in pids)
    assert not [n for n in lab.core.list_namespace().items if n.metadata.name == ns]


def test_lab_down_leaves_no_process(lab_factory, tmp_path):
    from gitopslab.cluster import lifecycle

    other = lab_factory()
    build_and_push(other, write_app(tmp_path / "app"), IMAGE)
    ns = other.namespace("down")
    other.apps.create_namespaced_deployment(ns, deployment("hello", IMAGE, replicas=2, readinessProbe=READY))
    pods = wait(lambda: ready_pods(other, ns, "app=hello", 2), what="two ready replicas")
    daemon = other.paths.read_pid()
    pids = set().union(*(container_pids(other, p.status.pod_ip) for p in pods))
    assert len(pids) == 2
    assert lifecycle.down(other.home, "prod") == ["prod"]
    assert not alive(daemon) and not any(alive(pid) for pid in pids)
