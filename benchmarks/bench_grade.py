"""Grader figures: autograde time of one submission, of a class, and the grader's peak memory.

    python benchmarks/bench_grade.py [--class-size 30] [--workers N] [--skip-one] [--interval 0.5]

Prints: seconds for one correct submission (target <= 60 s), seconds for a class
of N correct submissions with ``gitopslab grade`` (target <= 10 min for 30 on 2
cores), and the grader's peak memory (target <= 1 GB), with a breakdown by
process kind (cluster daemon, Git server, kernel, nbgrader, pods, …) at the peak.

Two sums are sampled over the grader's process tree (every process descended
from the measured command, plus any lab daemon whose GITOPSLAB_HOME lies in
the benchmark's folder, should one have left the tree):

* RSS summed: the target's figure. It counts a page once per process mapping
  it, so pages shared between processes (the Python interpreter and shared
  libraries, copy-on-write pages of forked children) are counted several
  times: an upper bound of what the grader uses.
* PSS summed (``memory_full_info().pss``): each shared page divided between
  the processes sharing it, so the sum is what the tree really occupies.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gitopslab.grading.batch import child_env  # noqa: E402

MB = 2 ** 20


def process_kind(proc: psutil.Process, daemons: set[int]) -> str:
    """What a process of the grading tree is, from its command line (and parent, for pods)."""
    try:
        cmd = proc.cmdline()
        ppid = proc.ppid()
    except psutil.Error:
        return "?"
    line = " ".join(cmd)
    exe = os.path.basename(cmd[0]) if cmd else proc.name()
    rules = [("gitopslab.cluster.daemon", "démon du cluster"), ("gitopslab.gitserver", "serveur Git"),
             ("ipykernel", "noyau Jupyter"), ("gitopslab.grading.worker", "nbgrader (autograde)"),
             ("autograde", "nbgrader (autograde)"),
             ("gitopslab.grading.fresh", "vérifications fraîches"), ("gitopslab.ci", "CI"),
             ("gitopslab.cli grade", "coordinateur (gitopslab grade)"), (" -m pip", "construction d'image (pip)"),
             (" -m venv", "construction d'image (pip)")]
    for needle, kind in rules:
        if needle in line:
            return kind
    if ppid in daemons:
        return "pods"
    if exe == "git" or exe.startswith("git-"):
        return "git"
    return f"autre ({exe})"


class PeakMemory:
    """Samples the summed RSS and PSS of a process tree; keeps each sum's peak and the breakdown at the RSS peak."""

    def __init__(self, pid: int, homes: Path, interval: float = 0.5):
        self.pid, self.homes, self.interval = pid, str(homes), interval
        self.peak_rss = self.peak_pss = 0
        self.breakdown: dict[str, list[int]] = {}   # kind -> [count, rss, pss] at the RSS peak
        self.kind_peak: dict[str, int] = defaultdict(int)  # kind -> its own peak summed RSS
        self.strays_seen: dict[int, str] = {}  # pid -> kind
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _strays(self, tree: set[int]) -> list[psutil.Process]:
        """Lab processes of the benchmark's homes that are not (or no longer) descendants of the command."""
        found = []
        for p in psutil.process_iter():
            if p.pid in tree or p.pid == os.getpid():
                continue
            try:
                if p.environ().get("GITOPSLAB_HOME", "").startswith(self.homes):
                    found.append(p)
            except psutil.Error:
                pass
        return found

    def _processes(self) -> list[psutil.Process]:
        root = psutil.Process(self.pid)
        procs = [root, *root.children(recursive=True)]
        tree = {p.pid for p in procs}
        for stray in self._strays(tree):
            self.strays_seen[stray.pid] = process_kind(stray, set())
            for p in [stray, *stray.children(recursive=True)]:
                if p.pid not in tree:
                    tree.add(p.pid)
                    procs.append(p)
        return procs

    def sample(self) -> None:
        procs = self._processes()
        daemons = set()
        for p in procs:
            try:
                if "gitopslab.cluster.daemon" in " ".join(p.cmdline()):
                    daemons.add(p.pid)
            except psutil.Error:
                pass
        by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for p in procs:
            try:
                mem = p.memory_full_info()
            except psutil.Error:
                continue
            row = by_kind[process_kind(p, daemons)]
            row[0] += 1
            row[1] += mem.rss
            row[2] += mem.pss
        rss = sum(r[1] for r in by_kind.values())
        pss = sum(r[2] for r in by_kind.values())
        for kind, row in by_kind.items():
            self.kind_peak[kind] = max(self.kind_peak[kind], row[1])
        self.peak_pss = max(self.peak_pss, pss)
        if rss > self.peak_rss:
            self.peak_rss, self.breakdown = rss, dict(by_kind)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.sample()
            except psutil.Error:
                pass
            time.sleep(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()

    def report(self) -> str:
        lines = [f"  au pic de RSS : {'processus':<34} {'nb':>3} {'RSS Mo':>7} {'PSS Mo':>7} {'pic propre Mo':>14}"]
        for kind, (count, rss, pss) in sorted(self.breakdown.items(), key=lambda kv: -kv[1][1]):
            lines.append(f"  {'':<15}{kind:<34} {count:>3} {rss / MB:>7.0f} {pss / MB:>7.0f} "
                         f"{self.kind_peak[kind] / MB:>14.0f}")
        total_count = sum(r[0] for r in self.breakdown.values())
        total_pss = sum(r[2] for r in self.breakdown.values())
        lines.append(f"  {'':<15}{'total':<34} {total_count:>3} {self.peak_rss / MB:>7.0f} {total_pss / MB:>7.0f}")
        if self.strays_seen:
            kinds = ", ".join(sorted(set(self.strays_seen.values())))
            lines.append(f"  {len(self.strays_seen)} processus de labo détachés de l'arbre (démons lancés par "
                         f"« gitopslab lab up »), comptés : {kinds}")
        return "\n".join(lines)


def course(tmp: Path, students: list[str]) -> Path:
    root = tmp / "course"
    root.mkdir(parents=True)
    shutil.copy2(ROOT / "grader" / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "grader" / "source", root / "source")
    for s in students:
        dest = root / "submitted" / s / "examen"
        dest.mkdir(parents=True)
        shutil.copy2(ROOT / "grader" / "source" / "examen" / "examen.ipynb", dest / "examen.ipynb")
    subprocess.run([str(Path(sys.executable).with_name("nbgrader")), "generate_assignment", "examen", "--force"],
                   cwd=root, env=child_env(), check=True, capture_output=True)
    return root


def timed(cmd: list[str], cwd: Path, cache: Path, interval: float) -> tuple[float, PeakMemory, int]:
    """Run ``cmd`` with its lab homes under ``cache``; its duration, memory and exit code."""
    user_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    pip_cache = os.environ.get("PIP_CACHE_DIR") or os.path.join(user_cache, "pip")  # image builds keep theirs
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=child_env({"XDG_CACHE_HOME": str(cache), "PIP_CACHE_DIR": pip_cache}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with PeakMemory(proc.pid, cache, interval) as memory:
        proc.wait()
    return time.monotonic() - start, memory, proc.returncode


def memory_line(memory: PeakMemory) -> str:
    return (f"RSS additionnée max {memory.peak_rss / MB:.0f} Mo (objectif <= 1024 Mo), "
            f"PSS additionnée max {memory.peak_pss / MB:.0f} Mo")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--workers", type=int, default=None,
                        help="gitopslab grade -j (default: gitopslab grade's own default)")
    parser.add_argument("--skip-one", action="store_true", help="skip the single nbgrader autograde run")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between memory samples")
    args = parser.parse_args()
    nbgrader = str(Path(sys.executable).with_name("nbgrader"))
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        tmp = Path(tmp)
        if not args.skip_one:
            one = course(tmp / "one", ["eleve-00"])
            seconds, memory, rc = timed([nbgrader, "autograde", "examen", "--student", "eleve-00"], one,
                                        tmp / "one-cache", args.interval)
            print(f"autograde, 1 copie : {seconds:.1f} s (objectif <= 60 s), {memory_line(memory)}, code {rc}")
            print(memory.report())
        cls = course(tmp / "class", [f"eleve-{i:02d}" for i in range(args.class_size)])
        workers = [] if args.workers is None else ["-j", str(args.workers)]
        seconds, memory, rc = timed([sys.executable, "-m", "gitopslab.cli", "grade", "examen", "--course-dir",
                                     str(cls), *workers, "--no-progress", "--report", str(cls / "rapport.csv")],
                                    cls, tmp / "class-cache", args.interval)
        label = "défaut" if args.workers is None else str(args.workers)
        print(f"gitopslab grade, {args.class_size} copies, correcteurs : {label} : {seconds:.0f} s "
              f"(objectif <= 600 s pour 30), {memory_line(memory)}, code {rc}")
        print(memory.report())
        report = (cls / "rapport.csv").read_text().splitlines()
        full = sum(1 for line in report[1:] if ",10.0,10.0," in line)
        print(f"copies à 10/10 : {full}/{args.class_size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
