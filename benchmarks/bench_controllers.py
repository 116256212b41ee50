"""Controller figures in a real lab daemon (prints, never asserts).

1. Deployment of 3 nginx replicas: create -> Available (updated=available=3).
2. 200 pods (a Deployment of 200 replicas): create -> every pod reconciled,
   i.e. Ready on the node or left Pending by the scheduler (the node admits
   110 pods, as a k3s node does: the rest report "Too many pods"); pods per
   second, and the daemon's RSS before and after.

Usage: .venv/bin/python benchmarks/bench_controllers.py [--pods 200]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import start_lab, stop_lab  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def deployment(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}


def wait_available(lab, name: str, n: int, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        st = lab.apps.read_namespaced_deployment_status(name, "default").status
        if (st.available_replicas or 0) >= n and (st.updated_replicas or 0) >= n:
            return time.monotonic() - start
        time.sleep(0.05)
    return float("nan")


def wait_reconciled(lab, label: str, n: int, timeout: float) -> tuple[float, dict]:
    """Seconds until ``n`` pods exist and each is Ready or Unschedulable; the counts by state."""
    start = time.monotonic()
    counts: dict = {}
    while time.monotonic() - start < timeout:
        pods = lab.core.list_namespaced_pod("default", label_selector=label).items
        counts = {"ready": 0, "unschedulable": 0, "other": 0}
        for p in pods:
            conds = {c.type: c for c in p.status.conditions or []}
            if conds.get("Ready") and conds["Ready"].status == "True":
                counts["ready"] += 1
            elif conds.get("PodScheduled") and conds["PodScheduled"].reason == "Unschedulable":
                counts["unschedulable"] += 1
            else:
                counts["other"] += 1
        if len(pods) >= n and counts["other"] == 0:
            return time.monotonic() - start, counts
        time.sleep(0.2)
    return float("nan"), counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=200)
    args = ap.parse_args()
    lab = start_lab(Path(tempfile.mkdtemp(prefix="bench-ctl-")), time_scale=1.0)
    try:
        pid = lab.paths.read_pid()
        time.sleep(1.0)
        idle = rss_mib(pid)
        t0 = time.monotonic()
        lab.apps.create_namespaced_deployment("default", deployment("web", 3))
        took = wait_available(lab, "web", 3, 60)
        print(f"deployment 3 nginx replicas -> Available: {took:.2f} s (wall {time.monotonic() - t0:.2f} s)")
        t0 = time.monotonic()
        lab.apps.create_namespaced_deployment("default", deployment("many", args.pods))
        took, counts = wait_reconciled(lab, "app=many", args.pods, 600)
        print(f"{args.pods} pods reconciled in {took:.2f} s ({args.pods / took:.1f} pods/s): {counts}")
        print(f"daemon RSS: idle {idle:.0f} MiB, with {args.pods + 3} pods {rss_mib(pid):.0f} MiB")
    finally:
        stop_lab(lab)


if __name__ == "__main__":
    main()
