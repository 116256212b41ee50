"""Figures of the lab API server (prints them; no asserts).

    python benchmarks/bench_apiserver.py [--objects 10000]

- ``lab up`` to the first answered request (target ≤ 1.5 s)
- GET p50/p99 with 4 concurrent clients (target p99 ≤ 20 ms)
- ConfigMap creates per second, 4 clients (target ≥ 300/s)
- watch latency: write acknowledged → event received (target ≤ 50 ms)
- daemon RSS idle (≤ 120 MB) and holding 10,000 objects (≤ 250 MB)
"""
from __future__ import annotations

import argparse
import http.client
import json
import ssl
import statistics
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from gitopslab.cluster import lifecycle
from gitopslab.home import Home


class Conn:
    def __init__(self, server: str, token: str, ca_pem: str):
        url = urlparse(server)
        if url.scheme == "https":
            ctx = ssl.create_default_context(cadata=ca_pem)
            self.c = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=60)
        else:
            self.c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                        "Content-Type": "application/json"}

    def req(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        headers = self.headers
        if method == "PATCH":
            headers = {**headers, "Content-Type": "application/merge-patch+json"}
        self.c.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        r = self.c.getresponse()
        return r.status, r.read()


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--gets", type=int, default=500, help="GETs per client")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-apiserver-"))
    home = Home(root)
    try:
        t0 = time.perf_counter()
        info = lifecycle.up(home, "prod", time_scale=10, with_gitserver=False)
        up_s = time.perf_counter() - t0
        print(f"lab up -> first answered request : {up_s:.2f} s   (target <= 1.5 s)")
        conn = Conn(info.server, info.token, info.ca_pem)
        conn.req("POST", "/api/v1/namespaces", {"metadata": {"name": "bench"}})
        conn.req("POST", "/api/v1/namespaces/bench/configmaps", {"metadata": {"name": "probe"}, "data": {"a": "b"}})
        time.sleep(2.0)
        print(f"daemon RSS idle                  : {rss_mb(info.pid):.0f} MB   (target <= 120 MB)")

        # GET latency, 4 concurrent clients
        lat: list[float] = []
        lock = threading.Lock()

        def getter() -> None:
            c = Conn(info.server, info.token, info.ca_pem)
            mine = []
            for _ in range(args.gets):
                s = time.perf_counter()
                c.req("GET", "/api/v1/namespaces/bench/configmaps/probe")
                mine.append((time.perf_counter() - s) * 1000)
            with lock:
                lat.extend(mine)

        threads = [threading.Thread(target=getter) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"GET latency, 4 clients           : p50 {statistics.median(lat):.1f} ms, p99 {pct(lat, 99):.1f} ms"
              "   (target p99 <= 20 ms)")

        # creates per second, 4 clients
        n_create = 2000
        def creator(k: int) -> None:
            c = Conn(info.server, info.token, info.ca_pem)
            for i in range(k, n_create, 4):
                c.req("POST", "/api/v1/namespaces/bench/configmaps",
                      {"metadata": {"name": f"cm-{i}", "labels": {"bench": "yes"}}, "data": {"i": str(i)}})
        s = time.perf_counter()
        threads = [threading.Thread(target=creator, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rate = n_create / (time.perf_counter() - s)
        print(f"ConfigMap creates                : {rate:.0f} /s   (target >= 300/s)")

        # watch latency
        _, body = conn.req("GET", "/api/v1/namespaces/bench/configmaps?limit=1")
        rv = json.loads(body)["metadata"]["resourceVersion"]
        url = urlparse(info.server)
        wctx = ssl.create_default_context(cadata=info.ca_pem) if url.scheme == "https" else None
        wconn = (http.client.HTTPSConnection(url.hostname, url.port, context=wctx) if wctx
                 else http.client.HTTPConnection(url.hostname, url.port))
        wconn.request("GET", f"/api/v1/namespaces/bench/configmaps?watch=true&resourceVersion={rv}"
                             "&fieldSelector=metadata.name%3Dwatched&timeoutSeconds=5",
                      headers={"Authorization": f"Bearer {info.token}"})
        wresp = wconn.getresponse()
        received: list[float] = []
        def reader() -> None:
            while len(received) < 20:
                line = wresp.readline()
                if not line:
                    return
                if line.strip():
                    received.append(time.perf_counter())
        rt = threading.Thread(target=reader, daemon=True)
        rt.start()
        sent = []
        for i in range(20):
            s = time.perf_counter()
            if i == 0:
                conn.req("POST", "/api/v1/namespaces/bench/configmaps", {"metadata": {"name": "watched"}})
            else:
                conn.req("PATCH", "/api/v1/namespaces/bench/configmaps/watched", {"data": {"i": str(i)}})
            sent.append(s)
            time.sleep(0.05)
        rt.join(timeout=10)
        wl = [(r - s) * 1000 for s, r in zip(sent, received)]
        if wl:
            print(f"watch latency (write -> event)   : p50 {statistics.median(wl):.1f} ms, max {max(wl):.1f} ms"
                  "   (target <= 50 ms)")
        wconn.close()

        # 10,000 objects
        have = n_create + 2
        def filler(k: int) -> None:
            c = Conn(info.server, info.token, info.ca_pem)
            for i in range(have + k, args.objects, 4):
                c.req("POST", "/api/v1/namespaces/bench/configmaps",
                      {"metadata": {"name": f"fill-{i}", "labels": {"app": "bench", "i": str(i)}},
                       "data": {"key": "value " * 10}})
        threads = [threading.Thread(target=filler, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(1.0)
        s = time.perf_counter()
        status, body = conn.req("GET", "/api/v1/namespaces/bench/configmaps")
        list_ms = (time.perf_counter() - s) * 1000
        count = len(json.loads(body)["items"])
        print(f"daemon RSS with {count} objects   : {rss_mb(info.pid):.0f} MB   (target <= 250 MB)")
        print(f"LIST of {count} ConfigMaps        : {list_ms:.0f} ms")
    finally:
        lifecycle.down(home, None, all=True)


if __name__ == "__main__":
    main()
