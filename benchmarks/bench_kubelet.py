"""Kubelet figures: a real Python pod's time to Ready, and 200 modelled pods' cost.

Runs the in-process lab of tests/kubelet (real registry, in-process client,
real kubelet, fixed image set) at time scale 20 and prints:

- time from pod creation (bound to the node) to Ready for a real Python HTTP
  server (target: <= 2 s);
- time for 200 nginx pods to be Running and Ready, and the process RSS
  before and after (target: 200 pods under 300 MB).

Usage: .venv/bin/python benchmarks/bench_kubelet.py [--pods 200]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "kubelet"))

from harness import InProcessLab, catalog_images, pod_manifest  # noqa: E402
from test_lifecycle import python_image  # noqa: E402


def rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def ready(lab, name) -> bool:
    pod = await lab.pod(name)
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod or {}).get("status", {}).get("conditions") or [])


async def bench(pods: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    async with InProcessLab(tmp / "home", images=catalog_images() + [python_image(tmp)], scale=20) as lab:
        t0 = time.monotonic()
        await lab.client.create(pod_manifest("py", "lab/hello:1", readinessProbe={"tcpSocket": {"port": 5000},
                                                                                    "periodSeconds": 1}))
        await lab.wait_for(lambda: ready(lab, "py"), timeout=30)
        print(f"real Python pod Ready after creation: {time.monotonic() - t0:.2f} s (target <= 2 s)")
        await lab.client.delete("v1", "Pod", "py", "default")

        before = rss_mb()
        t0 = time.monotonic()
        for i in range(pods):
            await lab.client.create(pod_manifest(f"m{i}", "nginx:1.27"))
        created = time.monotonic() - t0

        async def all_ready():
            items = (await lab.client.list("v1", "Pod", "default")).get("items") or []
            n = sum(1 for p in items if any(c.get("type") == "Ready" and c.get("status") == "True"
                                            for c in (p.get("status") or {}).get("conditions") or []))
            return n >= pods

        await lab.wait_for(all_ready, timeout=300)
        total = time.monotonic() - t0
        print(f"{pods} modelled pods: created in {created:.2f} s, all Ready after {total:.2f} s "
              f"({pods / total:.0f} pods/s)")
        print(f"process RSS: {before:.0f} MB before, {rss_mb():.0f} MB with {pods} pods running "
              f"({(rss_mb() - before) * 1024 / pods:.0f} KB per pod)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(bench(args.pods))


if __name__ == "__main__":
    main()
