"""Workload figures through the real lab daemon (``lab up``, time scale 1, kubectl-free API calls).

Prints:

- a Deployment of 3 nginx replicas: created -> Available (target <= 1.5 s),
  with the image not yet on the node (cold) and already pulled (warm);
- a real Python pod (image built and pushed with ``gitopslab image``):
  scheduled -> Ready (target <= 2 s);
- 200 modelled pods reconciled: time to all Ready and the daemon's RSS
  (target < 300 MB).

Usage: .venv/bin/python benchmarks/bench_workloads.py [--pods 200]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APP = """import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok\\n")
http.server.ThreadingHTTPServer(("0.0.0.0", 8000), H).serve_forever()
"""
DOCKERFILE = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]\n'


def deployment(name, image, replicas, **container):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": image, **container}]}}}}


def wait(predicate, timeout=300, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit("timed out")


def available(apps, name, ns):
    d = apps.read_namespaced_deployment(name, ns)
    return any(c.type == "Available" and c.status == "True" for c in d.status.conditions or []) and \
        d.status.available_replicas == d.spec.replicas


def time_deployment(apps, ns, name, image) -> float:
    t0 = time.monotonic()
    apps.create_namespaced_deployment(ns, deployment(name, image, 3))
    wait(lambda: available(apps, name, ns))
    return time.monotonic() - t0


def condition_time(pod, ctype):
    for c in pod.status.conditions or []:
        if c.type == ctype and c.status == "True":
            return c.last_transition_time
    return None


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def gitopslab(home: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "gitopslab.cli", *args], check=True, capture_output=True,
                   env=dict(os.environ, GITOPSLAB_HOME=str(home)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=200)
    args = parser.parse_args()

    from kubernetes import client, config

    from gitopslab.cluster import lifecycle
    from gitopslab.home import Home

    home = Home(Path(tempfile.mkdtemp()) / "home")
    info = lifecycle.up(home, "prod", time_scale=1, with_gitserver=False)
    try:
        api = config.new_client_from_config(config_file=str(home.kubeconfig), context="prod")
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        core.create_namespace({"metadata": {"name": "bench"}})
        cold = time_deployment(apps, "bench", "cold", "nginx:1.27")
        warm = time_deployment(apps, "bench", "warm", "nginx:1.27")
        print(f"3 nginx replicas created -> Available: {cold:.2f} s with the pull, {warm:.2f} s with the image "
              f"on the node (target <= 1.5 s)")

        app = home.root.parent / "app"
        app.mkdir()
        (app / "app.py").write_text(APP)
        (app / "Dockerfile").write_text(DOCKERFILE)
        gitopslab(home.root, "image", "build", "-t", "bench/http:1", str(app))
        gitopslab(home.root, "image", "login", "-u", "bench", "-p", "pw")
        gitopslab(home.root, "image", "push", "bench/http:1")
        probe = {"tcpSocket": {"port": 8000}, "periodSeconds": 1}
        for name in ("py-cold", "py-warm"):
            t0 = time.monotonic()
            core.create_namespaced_pod("bench", {"metadata": {"name": name}, "spec": {"containers": [
                {"name": "app", "image": "bench/http:1", "readinessProbe": probe}]}})
            wait(lambda n=name: core.read_namespaced_pod(n, "bench").spec.node_name)
            scheduled = time.monotonic()
            wait(lambda n=name: condition_time(core.read_namespaced_pod(n, "bench"), "Ready"))
            ready = time.monotonic()
            print(f"real Python pod ({name.split('-')[1]}): scheduled -> Ready {ready - scheduled:.2f} s, "
                  f"created -> Ready {ready - t0:.2f} s (target <= 2 s)")

        before = rss_mb(info.pid)
        t0 = time.monotonic()
        apps.create_namespaced_deployment("bench", deployment("many", "nginx:1.27", args.pods))
        capacity = int(core.read_node("prod-control-plane").status.allocatable["pods"])
        running_before = len(core.list_pod_for_all_namespaces(field_selector="status.phase=Running").items)

        def reconciled():
            pods = core.list_namespaced_pod("bench", label_selector="app=many").items
            ready = sum(1 for p in pods if condition_time(p, "Ready"))
            unschedulable = sum(1 for p in pods for c in p.status.conditions or []
                                if c.type == "PodScheduled" and c.reason == "Unschedulable")
            fits = min(args.pods, capacity - running_before)
            return len(pods) == args.pods and ready == fits and ready + unschedulable == args.pods and \
                (ready, unschedulable)
        ready, unschedulable = wait(reconciled, timeout=600, interval=0.2)
        total = time.monotonic() - t0
        print(f"{args.pods} modelled pods reconciled in {total:.2f} s ({ready} Ready, {unschedulable} Pending "
              f"Unschedulable: the node takes {capacity} pods); daemon RSS {before:.0f} MB before, "
              f"{rss_mb(info.pid):.0f} MB after (target < 300 MB)")
    finally:
        lifecycle.down(home, None, all=True)


if __name__ == "__main__":
    main()
