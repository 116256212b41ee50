"""Container lifecycle hooks through the real lab: preStop before the stop signal, postStart after the start.

As the kubelet does (kuberuntime_container.go killContainer/executePreStopHook,
startContainer step 4, lifecycle/handlers.go): a preStop hook (exec, httpGet,
sleep) runs on pod deletion before SIGTERM, within
terminationGracePeriodSeconds; a failing one records FailedPreStopHook
"PreStopHook failed". A failing postStart hook records FailedPostStartHook
"PostStartHook failed", kills the container (Killing "FailedPostStartHook")
and shows PostStartHookError with the handler's message until the next try.
A Python app built into the lab registry writes what it sees to a hostPath
folder, so the order of events can be read after the pod is gone.
"""
from __future__ import annotations

import textwrap
import time

import pytest

from .helpers import build_and_push, container_status, events, pod, read_pod, wait, waiting_reason

LAB_TIME_SCALE = 10.0   # the clock of conftest's `lab` fixture

APP = textwrap.dedent('''\
    import http.server, os, signal, time

    MARKS = "/marks"

    def on_term(signum, frame):
        seen = " ".join(sorted(os.listdir(MARKS)))
        with open(os.path.join(MARKS, "term"), "w") as f:
            f.write(f"{time.time()} {seen}")
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/prestop":
                with open(os.path.join(MARKS, "prestop-http"), "w") as f:
                    f.write(self.headers.get("User-Agent", ""))
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"ok\\n")

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
    ''')
DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]\n'
IMAGE = "alice/hooks:1.0"
READY = {"httpGet": {"path": "/", "port": 8000}, "periodSeconds": 2}


@pytest.fixture(scope="module")
def image(lab, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hooks")
    (folder / "app.py").write_text(APP)
    (folder / "Dockerfile").write_text(DOCKERFILE)
    build_and_push(lab, folder, IMAGE)
    return IMAGE


@pytest.fixture
def ns(lab):
    name = lab.namespace("hooks")
    yield name
    lab.kubectl("delete", "namespace", name, "--wait=false", check=False)


def marked_pod(name: str, image: str, ns: str, pre_stop: dict, grace: int = 30) -> dict:
    return {"metadata": {"name": name}, "spec": {
        "terminationGracePeriodSeconds": grace,
        "containers": [{"name": "app", "image": image, "readinessProbe": READY, "lifecycle": {"preStop": pre_stop},
                        "volumeMounts": [{"name": "marks", "mountPath": "/marks"}]}],
        "volumes": [{"name": "marks", "hostPath": {"path": f"/var/hook-marks/{ns}/{name}",
                                                    "type": "DirectoryOrCreate"}}]}}


def marks(lab, ns: str, name: str):
    return lab.paths.root / "hostpath" / "var" / "hook-marks" / ns / name


def delete_when_ready(lab, ns: str, name: str) -> float:
    """Wait for the pod to be ready, delete it and wait until it is gone; when the deletion was asked."""
    wait(lambda: container_status(read_pod(lab, name, ns)).get("ready"), what=f"{name} ready")
    asked = time.time()
    lab.kubectl("-n", ns, "delete", "pod", name, "--timeout=90s")
    return asked


def term_mark(lab, ns: str, name: str) -> tuple[float, str]:
    """When the app got SIGTERM, and the marks it found then."""
    stamp, _, seen = (marks(lab, ns, name) / "term").read_text().partition(" ")
    return float(stamp), seen


def test_exec_pre_stop_runs_before_sigterm(lab, ns, image):
    hook = {"exec": {"command": ["python", "-c", "open('/marks/prestop-exec', 'w').write('done')"]}}
    lab.core.create_namespaced_pod(ns, marked_pod("exec", image, ns, hook))
    delete_when_ready(lab, ns, "exec")
    assert term_mark(lab, ns, "exec")[1] == "prestop-exec"
    seen = events(lab, ns, "exec")
    assert ("Normal", "Killing", "Stopping container app") in seen
    assert not [e for e in seen if e[1] == "FailedPreStopHook"]


def test_http_pre_stop_reaches_the_container_before_sigterm(lab, ns, image):
    hook = {"httpGet": {"path": "/prestop", "port": 8000}}
    lab.core.create_namespaced_pod(ns, marked_pod("http", image, ns, hook))
    delete_when_ready(lab, ns, "http")
    assert term_mark(lab, ns, "http")[1] == "prestop-http"
    assert (marks(lab, ns, "http") / "prestop-http").read_text() == "kube-lifecycle/1.32"


def test_sleep_pre_stop_delays_sigterm(lab, ns, image):
    lab.core.create_namespaced_pod(ns, marked_pod("nap", image, ns, {"sleep": {"seconds": 20}}, grace=60))
    asked = delete_when_ready(lab, ns, "nap")
    term_at, seen = term_mark(lab, ns, "nap")
    # an order, not a speed: SIGTERM cannot come before the hook's 20 s (lab clock) have passed
    assert term_at - asked >= 20 / LAB_TIME_SCALE
    assert seen == ""


def test_pre_stop_longer_than_the_grace_period_is_cut_short(lab, ns, image):
    lab.core.create_namespaced_pod(ns, marked_pod("cut", image, ns, {"sleep": {"seconds": 600}}, grace=3))
    delete_when_ready(lab, ns, "cut")  # gone well before the hook's 600 s
    assert term_mark(lab, ns, "cut")[1] == ""  # SIGTERM came, after the grace period ran out
    assert not [e for e in events(lab, ns, "cut") if e[1] == "FailedPreStopHook"]


def test_failing_pre_stop_records_the_kubelet_event(lab, ns):
    lab.core.create_namespaced_pod(ns, pod("fails", "nginx:1.27", container_name="web",
                                           lifecycle={"preStop": {"exec": {"command": ["sh", "-c", "exit 3"]}}}))
    lab.core.create_namespaced_pod(ns, pod("hangs", "nginx:1.27", container_name="web", spec={
        "terminationGracePeriodSeconds": 2},
        lifecycle={"preStop": {"exec": {"command": ["sh", "-c", "sleep 600"]}}}))
    for name in ("fails", "hangs"):
        wait(lambda n=name: container_status(read_pod(lab, n, ns)).get("ready"), what=f"{name} ready")
    lab.kubectl("-n", ns, "delete", "pod", "fails", "hangs", "--timeout=90s")
    for name in ("fails", "hangs"):
        seen = events(lab, ns, name)
        # no detail in the event: the kubelet keeps the hook's output out of it
        assert ("Warning", "FailedPreStopHook", "PreStopHook failed") in seen
        assert ("Normal", "Killing", "Stopping container web") in seen
    out = lab.kubectl("-n", ns, "get", "events", "--field-selector", "reason=FailedPreStopHook",
                      "-o", "jsonpath={.items[*].involvedObject.fieldPath}").stdout
    assert out.split() == ["spec.containers{web}", "spec.containers{web}"]


def watch_for_waiting(lab, ns: str, name: str, reason: str, timeout: int = 90):
    """The first container status of pod ``name`` waiting with ``reason``, seen on a watch (no state is missed)."""
    from kubernetes import watch

    w = watch.Watch()
    for event in w.stream(lab.core.list_namespaced_pod, ns, field_selector=f"metadata.name={name}",
                          timeout_seconds=timeout):
        for st in event["object"].status.container_statuses or []:
            if st.state.waiting is not None and st.state.waiting.reason == reason:
                w.stop()
                return event["object"], st
    raise AssertionError(f"{name} never waited with {reason}")


def test_failing_post_start_kills_and_restarts_the_container(lab, ns):
    script = "sleep 20; exit 1"
    lab.core.create_namespaced_pod(ns, pod("post", "nginx:1.27", container_name="web",
                                           lifecycle={"postStart": {"exec": {"command": ["sh", "-c", script]}}}))
    p, st = watch_for_waiting(lab, ns, "post", "PostStartHookError")
    uid = p.metadata.uid
    assert st.state.waiting.message == (
        f'Exec lifecycle hook ([sh -c {script}]) for Container "web" in Pod "post_{ns}({uid})" failed - error: '
        f"command 'sh -c {script}' exited with 1: , message: \"\"")
    assert (st.last_state.terminated.reason, st.last_state.terminated.exit_code) == ("Completed", 0)
    assert not st.ready and not st.started
    seen = events(lab, ns, "post")
    assert ("Warning", "FailedPostStartHook", "PostStartHook failed") in seen
    assert ("Normal", "Killing", "FailedPostStartHook") in seen
    wait(lambda: waiting_reason(read_pod(lab, "post", ns)) == "CrashLoopBackOff", timeout=90,
         what="post in CrashLoopBackOff")


def test_container_shows_running_once_post_start_is_done(lab, ns):
    hook = {"postStart": {"exec": {"command": ["sh", "-c", "sleep 600"]}}}
    lab.core.create_namespaced_pod(ns, pod("slow", "nginx:1.27", container_name="web", lifecycle=hook))
    quick = {"postStart": {"exec": {"command": ["sh", "-c", "echo warming up; sleep 10"]}}}
    lab.core.create_namespaced_pod(ns, pod("quick", "nginx:1.27", container_name="web", lifecycle=quick))
    # Started is recorded at once; the status says ContainerCreating while the hook runs (600 s, lab clock)
    wait(lambda: ("Normal", "Started", "Started container web") in events(lab, ns, "slow"), what="Started")
    for _ in range(5):
        p = read_pod(lab, "slow", ns)
        assert waiting_reason(p) == "ContainerCreating" and p["status"]["phase"] == "Pending"
        time.sleep(0.2)
    st = wait(lambda: (st := container_status(read_pod(lab, "quick", ns))).get("ready") and st, what="quick ready")
    assert st["restartCount"] == 0 and "running" in st["state"]
    assert not [e for e in events(lab, ns, "quick") if e[1] == "FailedPostStartHook"]
    lab.kubectl("-n", ns, "delete", "pod", "slow", "--timeout=90s")  # a hook under way does not hold the deletion


def test_nginx_signals_through_exec(lab, ns):
    """`nginx -s quit` run in the container (a probe here) stops nginx gracefully, as the real master does."""
    lab.core.create_namespaced_pod(ns, pod("quits", "nginx:1.27", container_name="web", spec={
        "restartPolicy": "Never"},
        readinessProbe={"exec": {"command": ["nginx", "-t"]}, "periodSeconds": 2},
        startupProbe={"exec": {"command": ["nginx", "-s", "quit"]}, "periodSeconds": 2}))
    wait(lambda: read_pod(lab, "quits", ns)["status"].get("phase") == "Succeeded", timeout=90, what="quits Succeeded")
    terminated = container_status(read_pod(lab, "quits", ns))["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    logs = lab.kubectl("-n", ns, "logs", "quits").stdout
    assert " [notice] 1#1: signal 3 (SIGQUIT) received from 36, shutting down" in logs
    assert logs.rstrip().endswith("[notice] 1#1: exit")


def test_the_usual_nginx_pre_stop_succeeds(lab, ns):
    """The common `/usr/sbin/nginx -s quit` preStop ends without a FailedPreStopHook event."""
    lab.core.create_namespaced_pod(ns, pod("graceful", "nginx:1.27", container_name="web", lifecycle={"preStop": {
        "exec": {"command": ["/usr/sbin/nginx", "-s", "quit"]}}}))
    wait(lambda: container_status(read_pod(lab, "graceful", ns)).get("ready"), what="graceful ready")
    lab.kubectl("-n", ns, "delete", "pod", "graceful", "--timeout=90s")
    seen = events(lab, ns, "graceful")
    assert ("Normal", "Killing", "Stopping container web") in seen
    assert not [e for e in seen if e[1] == "FailedPreStopHook"]
