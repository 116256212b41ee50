"""``resources.limits.memory`` enforced as the container's memory cgroup: OOMKilled, then the crash back-off.

A real process (image built from a Python Dockerfile) is SIGKILLed when its
process tree's resident memory crosses the limit; a modelled image is
OOMKilled when the limit is below its footprint (``runtime/models/footprints``).
Either way the kubelet shows what k3s 1.32 shows: a terminated state with
reason OOMKilled and exit code 137, restarts with the usual back-off
(CrashLoopBackOff, BackOff events), and no other pod event.
"""
from __future__ import annotations

import textwrap

import pytest

from .helpers import (build_and_push, container_status, deployment, events, get_pods_row, pod, read_pod, try_get,
                      wait, waiting_reason)

APP = textwrap.dedent('''\
    import http.server, os, time

    target = int(os.environ.get("ALLOC_MB", "0"))
    print(f"allocating {target} MiB", flush=True)
    held = []
    while len(held) < target:
        held.append(b"x" * (1024 * 1024))  # written: resident at once
        if len(held) % 4 == 0:
            time.sleep(0.05)
    print(f"holding {len(held)} MiB", flush=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"holding {len(held)} MiB\\n".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
    ''')
DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]\n'
IMAGE = "alice/memory-hog:1.0"


@pytest.fixture(scope="module")
def image(lab, tmp_path_factory):
    folder = tmp_path_factory.mktemp("memory-hog")
    (folder / "app.py").write_text(APP)
    (folder / "Dockerfile").write_text(DOCKERFILE)
    build_and_push(lab, folder, IMAGE)
    return IMAGE


@pytest.fixture
def ns(lab):
    name = lab.namespace("mem")
    yield name
    lab.kubectl("delete", "namespace", name, "--wait=false", check=False)


def limited(memory: str) -> dict:
    return {"resources": {"limits": {"memory": memory}}}


def crash_looping(lab, ns: str, name: str, restarts: int = 2) -> dict | None:
    p = read_pod(lab, ns=ns, name=name)
    st = container_status(p)
    if waiting_reason(p) == "CrashLoopBackOff" and st.get("restartCount", 0) >= restarts:
        return p
    return None


def deployment_pod(lab, ns: str, app: str) -> str | None:
    pods = [p for p in lab.core.list_namespaced_pod(ns, label_selector=f"app={app}").items
            if p.metadata.deletion_timestamp is None]
    return pods[0].metadata.name if pods else None


def test_nginx_over_its_limit_is_oom_killed_into_crash_loop(lab, ns):
    lab.apps.create_namespaced_deployment(ns, deployment("tiny", "nginx:1.27", **limited("1Mi")))
    lab.apps.create_namespaced_deployment(ns, deployment("roomy", "nginx:1.27", **limited("64Mi")))
    name = wait(lambda: deployment_pod(lab, ns, "tiny"), what="tiny's pod")
    p = wait(lambda: crash_looping(lab, ns, name), timeout=90, what="tiny in CrashLoopBackOff")
    st = container_status(p)
    term = st["lastState"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (137, "OOMKilled")
    assert "message" not in term
    uid = p["metadata"]["uid"]
    assert st["state"]["waiting"]["message"].endswith(f"restarting failed container=web pod={name}_{ns}({uid})")
    seen = events(lab, ns, name)
    assert ("Warning", "BackOff", f"Back-off restarting failed container web in pod {name}_{ns}({uid})") in seen
    assert {reason for _, reason, _ in seen} <= {"Scheduled", "Pulled", "Pulling", "Created", "Started", "BackOff"}
    row = get_pods_row(lab, ns, name)
    assert row["STATUS"] in ("CrashLoopBackOff", "OOMKilled") and row["READY"] == "0/1"

    # the same image under a limit above its footprint runs undisturbed
    roomy = read_pod(lab, ns=ns, name=deployment_pod(lab, ns, "roomy"))
    st = container_status(roomy)
    assert st["restartCount"] == 0 and "running" in st["state"] and st["ready"]


def test_footprints_differ_by_image(lab, ns):
    lab.core.create_namespaced_pod(ns, pod("pg", "postgres:16", env=[{"name": "POSTGRES_PASSWORD", "value": "x"}],
                                           **limited("16Mi")))
    lab.core.create_namespaced_pod(ns, pod("web", "nginx:1.27", **limited("16Mi")))
    p = wait(lambda: (p := read_pod(lab, ns=ns, name="pg")) and
             (container_status(p).get("lastState") or {}).get("terminated") and p, timeout=60,
             what="postgres OOMKilled once")
    assert container_status(p)["lastState"]["terminated"]["reason"] == "OOMKilled"
    st = container_status(read_pod(lab, ns=ns, name="web"))
    assert st["restartCount"] == 0 and "running" in st["state"]


def test_python_process_over_its_limit_is_oom_killed(lab, ns, image):
    lab.core.create_namespaced_pod(ns, pod("hog", image, env=[{"name": "ALLOC_MB", "value": "400"}],
                                           **limited("64Mi")))
    lab.core.create_namespaced_pod(ns, pod("fits", image, env=[{"name": "ALLOC_MB", "value": "16"}],
                                           **limited("256Mi")))
    p = wait(lambda: crash_looping(lab, ns, "hog"), timeout=120, what="hog in CrashLoopBackOff")
    term = container_status(p)["lastState"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (137, "OOMKilled")
    # the process ran until the kill: its own output, cut before it held the 400 MiB
    assert lab.kubectl("-n", ns, "logs", "hog", "--previous").stdout == "allocating 400 MiB\n"

    fits = read_pod(lab, ns=ns, name="fits")
    st = container_status(fits)
    assert st["restartCount"] == 0 and "running" in st["state"]
    url = f"http://{fits['status']['podIP']}:8000/"
    assert wait(lambda: try_get(url), what="fits answering")[1] == "holding 16 MiB\n"
