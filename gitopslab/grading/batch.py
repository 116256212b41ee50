"""Autograde a whole class: nbgrader's autograde per student, N workers in parallel, one report.

Each worker grades with ``nbgrader autograde`` in a course
directory copy (gradebook, submissions linked), its own lab homes and its own
node address (``GITOPSLAB_NODE_IP``), so two labs never share a gradebook
writer or a NodePort. The autograde runs in a child process
(``gitopslab.grading.worker``) which, once the submission is graded, copies
it into the course's gradebook and ``autograded/`` folder under a lock
shared by the workers, and hands back the scores as JSON: this coordinator
never imports nbgrader (about 100 MB), only schedules. Every student is
judged from the gradebook, never from nbgrader's exit code; a submission
over its time limit is stopped (its whole process tree and its labs) and
reported with an error, and the batch goes on.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gitopslab.grading import gradebook
from gitopslab.grading.labhomes import default_homes_dir, stop_lab

GRACE_SECONDS = 60
NODE_IP_BASE = "127.1.{worker}.1"


@dataclass
class Outcome:
    student: str
    scores: gradebook.Scores
    seconds: float
    error: str = ""


@dataclass
class BatchConfig:
    course_dir: Path
    assignment: str = "examen"
    notebook: str | None = None
    workers: int = 2
    time_limit: float = 600.0
    time_scale: float | None = None
    students: list[str] | None = None
    extra_args: list[str] = field(default_factory=list)
    grace: float = GRACE_SECONDS     # beyond the notebook's own budget, before the grader is killed


def nbgrader_command() -> list[str]:
    exe = Path(sys.executable).with_name("nbgrader")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "nbgrader"]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This interpreter's environment, with its bin folder first on PATH (nbgrader runs ``alembic``)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra or {})
    return env


def submitted_students(course_dir: Path, assignment: str) -> list[str]:
    root = course_dir / "submitted"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / assignment).is_dir())


def notebook_name(course_dir: Path, assignment: str) -> str:
    found = sorted((course_dir / "source" / assignment).glob("*.ipynb"))
    if not found:
        raise FileNotFoundError(f"aucun notebook dans {course_dir / 'source' / assignment}")
    return found[0].stem


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "gitopslab.grading.worker", *args]


def ensure_assignment(course_dir: Path, assignment: str) -> None:
    """``nbgrader generate_assignment`` once, so the gradebook knows the assignment's cells."""
    done = subprocess.run(worker_command("prepare", str(course_dir), assignment), cwd=course_dir,
                          env=child_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} a échoué :\n{done.stdout}{done.stderr}")


def prepare_worker(course_dir: Path, work_root: Path, worker: int, assignment: str, students: list[str]) -> Path:
    """A course directory of its own for one worker: gradebook copy, source and submissions linked."""
    wdir = work_root / f"worker-{worker}"
    (wdir / "submitted").mkdir(parents=True)
    (wdir / "homes").mkdir()
    shutil.copy2(course_dir / "gradebook.db", wdir / "gradebook.db")
    (wdir / "source").symlink_to(course_dir / "source")
    for student in students:
        (wdir / "submitted" / student).mkdir()
        (wdir / "submitted" / student / assignment).symlink_to(course_dir / "submitted" / student / assignment)
    return wdir


def kill_tree(pid: int) -> None:
    """Stop a process and every descendant (kernel, lab daemons, workloads), by pid."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = root.children(recursive=True) + [root]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.send_signal(signal.SIGTERM)
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=5)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)


def clean_homes(homes: Path) -> None:
    """Stop the labs a killed grader left in ``homes`` and remove them."""
    if not homes.is_dir():
        return
    for home in homes.iterdir():
        if home.is_dir():
            stop_lab(home)
            shutil.rmtree(home, ignore_errors=True)


def _error_lines(log_text: str, limit: int = 5) -> str:
    lines = [ln for ln in log_text.splitlines() if "| ERROR]" in ln or "Error:" in ln or "Timeout" in ln]
    return " / ".join(ln.strip() for ln in lines[-limit:])


class Batch:
    def __init__(self, config: BatchConfig, progress=None):
        self.config = config
        self.course = Path(config.course_dir).resolve()
        self.progress = progress

    def run(self) -> list[Outcome]:
        cfg = self.config
        ensure_assignment(self.course, cfg.assignment)
        notebook = cfg.notebook or notebook_name(self.course, cfg.assignment)
        students = cfg.students or submitted_students(self.course, cfg.assignment)
        if not students:
            return []
        workers = max(1, min(cfg.workers, len(students)))
        parent = default_homes_dir()
        parent.mkdir(parents=True, exist_ok=True)
        work_root = Path(tempfile.mkdtemp(prefix="batch-", dir=parent))
        slots: queue.Queue = queue.Queue()
        for w in range(workers):
            slots.put((w, prepare_worker(self.course, work_root, w, cfg.assignment, students)))
        if self.progress:
            self.progress.start(len(students))
        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                outcomes = list(pool.map(lambda s: self._grade_on_slot(s, notebook, slots), students))
        finally:
            shutil.rmtree(work_root, ignore_errors=True)
            if self.progress:
                self.progress.finish()
        return outcomes

    def _grade_on_slot(self, student: str, notebook: str, slots: queue.Queue) -> Outcome:
        worker, wdir = slots.get()
        try:
            outcome = self._grade(student, notebook, worker, wdir)
        finally:
            slots.put((worker, wdir))
        if self.progress:
            self.progress.advance(outcome)
        return outcome

    def _grade(self, student: str, notebook: str, worker: int, wdir: Path) -> Outcome:
        cfg = self.config
        start = time.monotonic()
        result = wdir / f"{student}.json"
        result.unlink(missing_ok=True)
        autograde = [cfg.assignment, "--student", student, "--force",
                     f"--CourseDirectory.root={wdir}", f"--IsolatedLabExecute.homes_dir={wdir / 'homes'}",
                     f"--IsolatedLabExecute.notebook_timeout={cfg.time_limit}"]
        if cfg.time_scale:
            autograde.append(f"--IsolatedLabExecute.time_scale={cfg.time_scale}")
        autograde += cfg.extra_args
        args = worker_command("grade", str(self.course), str(wdir), cfg.assignment, notebook, student, str(result),
                              str(wdir.parent / "merge.lock"), "--", *autograde)
        env = child_env({"GITOPSLAB_NODE_IP": NODE_IP_BASE.format(worker=worker + 1)})
        log_path = wdir / f"{student}.log"
        error = ""
        with open(log_path, "w") as log:
            proc = subprocess.Popen(args, cwd=self.course, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                proc.wait(timeout=cfg.time_limit + cfg.grace)
            except subprocess.TimeoutExpired:
                kill_tree(proc.pid)
                proc.wait()
                error = f"temps limite dépassé ({cfg.time_limit:.0f} s) : notation interrompue"
            finally:
                clean_homes(wdir / "homes")
        if error:  # killed mid-way: whatever the worker's gradebook holds is partial
            return Outcome(student, gradebook.Scores(student, found=False), time.monotonic() - start, error)
        scores = _read_result(result, student)
        if not scores.found:
            error = error or _error_lines(log_path.read_text(errors="replace")) or "copie non notée"
        elif proc.returncode not in (0, None) and not error:
            error = _error_lines(log_path.read_text(errors="replace"))
        return Outcome(student, scores, time.monotonic() - start, error)


def _read_result(path: Path, student: str) -> gradebook.Scores:
    """The scores a worker wrote (already merged into the course when found); not found if it wrote none."""
    try:
        return gradebook.Scores.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return gradebook.Scores(student, found=False)
