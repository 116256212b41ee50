"""Image build figures: a small Flask image with its requirements already cached.

Target: build <= 3 s with the wheel cache warm (first build in a fresh home,
then an unchanged rebuild). Prints figures; no asserts.
    .venv/bin/python benchmarks/bench_image.py
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from gitopslab.home import Home
from gitopslab.registry.build import build
from gitopslab.registry.store import ImageStore

APP = 'from flask import Flask\napp = Flask(__name__)\n\n@app.route("/")\ndef index():\n    return "ok"\n'
DOCKERFILE = ('FROM python:3.9-slim\nWORKDIR /app\nCOPY requirements.txt .\n'
              'RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nEXPOSE 5000\nCMD ["python", "app.py"]\n')
RUNS = 5


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-image-") as tmp:
        ctx = Path(tmp) / "ctx"
        ctx.mkdir()
        (ctx / "app.py").write_text(APP)
        (ctx / "requirements.txt").write_text("Flask\n")
        (ctx / "Dockerfile").write_text(DOCKERFILE)
        wheels = Path(tmp) / "wheels"
        import os

        os.environ["GITOPSLAB_WHEELHOUSE"] = str(wheels)
        warm = ImageStore(Home(Path(tmp) / "warmup").ensure())
        start = time.perf_counter()
        build(warm, ctx, tags=["bench/flask"], out=lambda line: None)
        cold = time.perf_counter() - start
        fresh, rebuilds = [], []
        for i in range(RUNS):
            store = ImageStore(Home(Path(tmp) / f"home{i}").ensure())
            start = time.perf_counter()
            build(store, ctx, tags=["bench/flask"], out=lambda line: None)
            fresh.append(time.perf_counter() - start)
            start = time.perf_counter()
            build(store, ctx, tags=["bench/flask"], out=lambda line: None)
            rebuilds.append(time.perf_counter() - start)
    print(f"first build, empty wheel cache (downloads Flask): {cold:.2f} s")
    print(f"build in a fresh home, requirements cached: median {statistics.median(fresh):.2f} s "
          f"(max {max(fresh):.2f} s) — target <= 3 s")
    print(f"unchanged rebuild (Using cache): median {statistics.median(rebuilds) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
