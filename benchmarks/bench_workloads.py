"""Workload figures through the real lab daemon (``lab up``, time scale 1, kubectl-free API calls).

Prints:

- a Deployment of 3 nginx replicas: created -> Available (target <= 1.5 s),
  with the image not yet on the node (cold) and already pulled (warm);
- a real Python pod (image built and pushed with ``gitopslab image``):
  scheduled -> Ready (target <= 2 s), with where the time went (kubelet
  pick-up, image pull, container start, readiness). Its first readiness
  probe comes with the kubelet's first relist after the start (every second),
  so the figure moves between runs by up to a second: run it a few times;
- a Deployment of 200 modelled replicas on the one node, which takes 110 pods:
  time until every pod exists, until 110 are Running and Ready and 90 Pending
  with FailedScheduling, until the Deployment's status says so, and the
  daemon's RSS (target < 300 MB).

Usage: .venv/bin/python benchmarks/bench_workloads.py [--pods 200]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
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


class EventClock:
    """When each (object, reason) event of a namespace first arrived, by a watch in a thread."""

    def __init__(self, core, namespace: str):
        self.seen: dict[tuple[str, str], float] = {}
        self._watch = None
        threading.Thread(target=self._run, args=(core, namespace), daemon=True).start()

    def _run(self, core, namespace: str) -> None:
        from kubernetes import watch

        self._watch = watch.Watch()
        try:
            for ev in self._watch.stream(core.list_namespaced_event, namespace, timeout_seconds=3600):
                o = ev["object"]
                self.seen.setdefault((o.involved_object.name, o.reason), time.monotonic())
        except Exception:  # noqa: BLE001 - the lab goes down at the end
            pass

    def at(self, name: str, *reasons: str) -> float | None:
        times = [self.seen[(name, r)] for r in reasons if (name, r) in self.seen]
        return min(times) if times else None

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.stop()


def breakdown(events: EventClock, name: str, scheduled: float, ready: float) -> str:
    """Where the time went between scheduling and Ready, from when the pod's events arrived."""
    scheduled = events.at(name, "Scheduled") or scheduled
    pull = events.at(name, "Pulling", "Pulled")
    pulled = events.at(name, "Pulled")
    started = events.at(name, "Started")
    if None in (pull, pulled, started):
        return "(events missing)"
    return (f"kubelet pick-up {pull - scheduled:.2f} s, pull {pulled - pull:.2f} s, create+start "
            f"{started - pulled:.2f} s, started -> Ready {ready - started:.2f} s"
            + (" (first probe before the app listened)" if events.at(name, "Unhealthy") else ""))


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
        events = EventClock(core, "bench")
        for name in ("py-cold", "py-warm"):
            t0 = time.monotonic()
            core.create_namespaced_pod("bench", {"metadata": {"name": name}, "spec": {"containers": [
                {"name": "app", "image": "bench/http:1", "readinessProbe": probe}]}})
            wait(lambda n=name: core.read_namespaced_pod(n, "bench").spec.node_name)
            scheduled = time.monotonic()
            wait(lambda n=name: condition_time(core.read_namespaced_pod(n, "bench"), "Ready"))
            ready = time.monotonic()
            time.sleep(0.2)  # the last events on their way
            print(f"real Python pod ({name.split('-')[1]}): scheduled -> Ready {ready - scheduled:.2f} s, "
                  f"created -> Ready {ready - t0:.2f} s (target <= 2 s): {breakdown(events, name, scheduled, ready)}")
        events.stop()

        before = rss_mb(info.pid)
        capacity = int(core.read_node("prod-control-plane").status.allocatable["pods"])
        running_before = len(core.list_pod_for_all_namespaces(field_selector="status.phase=Running").items)
        fits = min(args.pods, capacity - running_before)
        t0 = time.monotonic()
        apps.create_namespaced_deployment("bench", deployment("many", "nginx:1.27", args.pods))
        milestones: dict[str, float] = {}

        def reconciled():
            pods = core.list_namespaced_pod("bench", label_selector="app=many").items
            now = time.monotonic() - t0
            if len(pods) == args.pods:
                milestones.setdefault("created", now)
            running = sum(1 for p in pods if p.status.phase == "Running" and condition_time(p, "Ready"))
            unschedulable = sum(1 for p in pods for c in p.status.conditions or []
                                if c.type == "PodScheduled" and c.reason == "Unschedulable")
            if len(pods) == args.pods and unschedulable == args.pods - fits:
                milestones.setdefault("placed", now)
            if len(pods) == args.pods and running == fits:
                milestones.setdefault("running", now)
            d = apps.read_namespaced_deployment_status("many", "bench").status
            done = len(pods) == args.pods and running == fits and running + unschedulable == args.pods and \
                d.replicas == args.pods and (d.ready_replicas or 0) == fits and (d.available_replicas or 0) == fits
            return done and (running, unschedulable)
        running, unschedulable = wait(reconciled, timeout=600, interval=0.2)
        total = time.monotonic() - t0
        failed = {e.involved_object.name for e in core.list_namespaced_event(
            "bench", field_selector="reason=FailedScheduling").items if e.involved_object.name.startswith("many-")}
        print(f"{args.pods} modelled replicas reconciled in {total:.2f} s: all created at "
              f"{milestones['created']:.2f} s, {unschedulable} Pending Unschedulable at {milestones['placed']:.2f} s "
              f"({len(failed)} pods with a FailedScheduling event; the node takes {capacity} pods), {running} Running "
              f"and Ready at {milestones['running']:.2f} s, Deployment status {running}/{args.pods} ready at "
              f"{total:.2f} s; daemon RSS {before:.0f} MB before, {rss_mb(info.pid):.0f} MB after "
              f"(target < 300 MB)")
    finally:
        lifecycle.down(home, None, all=True)


if __name__ == "__main__":
    main()
