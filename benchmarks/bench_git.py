"""Lab Git server figures: clone of a seeded repository, push -> webhook delivery.

Targets: clone <= 300 ms; push -> notification <= 200 ms. Prints medians; no asserts.
    .venv/bin/python benchmarks/bench_git.py
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from gitopslab.content import seed
from gitopslab.gitserver import gitconfig, names
from gitopslab.gitserver.server import GitServer
from gitopslab.home import Home

RUNS = 10
CHART = "nzapanarcisse/datascientest-chart"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-git-") as tmp:
        home = Home(Path(tmp) / "home").ensure()
        seed.seed_repositories(home)
        server = GitServer(home).start()
        gitconfig.write(home, server.base_url)
        env = dict(os.environ, **gitconfig.environment(home))
        received: dict[str, float] = {}
        receiver = _receiver(home, received)
        try:
            clone_times = []
            for i in range(RUNS):
                start = time.perf_counter()
                subprocess.run(["git", "clone", "-q", f"https://github.com/{CHART}.git", f"{tmp}/c{i}"],
                               env=env, check=True)
                clone_times.append(time.perf_counter() - start)
            work = f"{tmp}/c0"
            push_url = names.lab_url(server.base_url, CHART).replace("http://", f"http://x:{server.token}@")
            latencies = []
            for i in range(RUNS):
                Path(work, "README.md").write_text(f"run {i}\n")
                subprocess.run(["git", "commit", "-qam", f"run {i}"], cwd=work, env=env, check=True)
                sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, env=env, capture_output=True,
                                     text=True, check=True).stdout.strip()
                start = time.perf_counter()
                subprocess.run(["git", "push", "-q", push_url, "main"], cwd=work, env=env, check=True)
                deadline = time.perf_counter() + 5
                while sha not in received and time.perf_counter() < deadline:
                    time.sleep(0.001)
                latencies.append(received.get(sha, float("nan")) - start)
        finally:
            receiver.shutdown()
            receiver.server_close()
            server.stop()
    print(f"clone of {CHART} (https://github.com/… rewritten): median {statistics.median(clone_times) * 1000:.0f} ms "
          f"(min {min(clone_times) * 1000:.0f} ms, max {max(clone_times) * 1000:.0f} ms) — target <= 300 ms")
    print(f"git push -> webhook received by a cluster daemon: median {statistics.median(latencies) * 1000:.0f} ms "
          f"(max {max(latencies) * 1000:.0f} ms) — target <= 200 ms")


def _receiver(home: Home, received: dict[str, float]) -> HTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received[payload["after"]] = time.perf_counter()
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    cluster = home.cluster("prod")
    cluster.root.mkdir(parents=True, exist_ok=True)
    cluster.port_file.write_text(str(httpd.server_address[1]))
    cluster.token_file.write_text("bench")
    return httpd


if __name__ == "__main__":
    main()
