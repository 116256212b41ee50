"""Grader figures: autograde time of one submission, of a class, and the grader's peak RSS.

    python benchmarks/bench_grade.py [--class-size 30] [--workers 2]

Prints: seconds for one correct submission (target <= 60 s), seconds for a class
of N correct submissions with ``gitopslab grade`` (target <= 10 min for 30 on 2
cores), and the peak RSS summed over the grader's process tree (target <= 1 GB).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gitopslab.grading.batch import child_env  # noqa: E402


class PeakRss:
    """Samples the summed RSS of a process and its descendants."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                total = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            time.sleep(0.5)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


def course(tmp: Path, students: list[str]) -> Path:
    root = tmp / "course"
    root.mkdir()
    shutil.copy2(ROOT / "grader" / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "grader" / "source", root / "source")
    for s in students:
        dest = root / "submitted" / s / "examen"
        dest.mkdir(parents=True)
        shutil.copy2(ROOT / "grader" / "source" / "examen" / "examen.ipynb", dest / "examen.ipynb")
    subprocess.run([str(Path(sys.executable).with_name("nbgrader")), "generate_assignment", "examen", "--force"],
                   cwd=root, env=child_env(), check=True, capture_output=True)
    return root


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, int]:
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with PeakRss(proc.pid) as rss:
        proc.wait()
    return time.monotonic() - start, rss.peak, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    nbgrader = str(Path(sys.executable).with_name("nbgrader"))
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        one = course(Path(tmp) / "one", ["eleve-00"]) if (Path(tmp) / "one").mkdir() is None else None
        seconds, peak, rc = timed([nbgrader, "autograde", "examen", "--student", "eleve-00"], one)
        print(f"autograde, 1 copie : {seconds:.1f} s (objectif <= 60 s), RSS max {peak / 2**20:.0f} Mo, code {rc}")
        (Path(tmp) / "class").mkdir()
        cls = course(Path(tmp) / "class", [f"eleve-{i:02d}" for i in range(args.class_size)])
        seconds, peak, rc = timed([sys.executable, "-m", "gitopslab.cli", "grade", "examen", "--course-dir",
                                   str(cls), "-j", str(args.workers), "--no-progress",
                                   "--report", str(cls / "rapport.csv")], cls)
        print(f"gitopslab grade, {args.class_size} copies, {args.workers} correcteurs : {seconds:.0f} s "
              f"(objectif <= 600 s pour 30), RSS max {peak / 2**20:.0f} Mo (objectif <= 1024 Mo), code {rc}")
        report = (cls / "rapport.csv").read_text().splitlines()
        full = sum(1 for line in report[1:] if ",10.0,10.0," in line)
        print(f"copies à 10/10 : {full}/{args.class_size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
