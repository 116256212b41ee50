"""What ``gitopslab grade`` runs in a child process: everything that needs nbgrader.

    python -m gitopslab.grading.worker prepare COURSE ASSIGNMENT
    python -m gitopslab.grading.worker grade COURSE WORKDIR ASSIGNMENT NOTEBOOK STUDENT RESULT LOCK -- ARGS…

Importing nbgrader costs about 100 MB (it loads Jupyter's server, nbconvert
and SQLAlchemy). The batch coordinator lives as long as the whole class
and runs next to every submission's lab, so it never imports nbgrader: it
only starts these processes and reads their verdicts.

``prepare`` makes sure the course gradebook knows the assignment
(``nbgrader generate_assignment`` once). ``grade`` runs ``nbgrader autograde
ARGS…`` in this very process (the same application as the ``nbgrader``
command), reads the student's scores in the worker's own gradebook and,
when the submission was graded, copies it into the course (gradebook and
``autograded/`` folder) while holding ``LOCK``, so workers merge one at a
time. It writes the scores as JSON to ``RESULT`` and exits with nbgrader's
status.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from gitopslab.grading import gradebook
from gitopslab.locks import file_lock


def run_nbgrader(argv: list[str]) -> int:
    """``nbgrader ARGV…`` in this process; its exit status."""
    from nbgrader.apps.nbgraderapp import NbGraderApp

    try:
        NbGraderApp.launch_instance(argv=argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


def prepare(course: Path, assignment: str) -> int:
    if gradebook.has_assignment(gradebook.db_url(course), assignment):
        return 0
    return run_nbgrader(["generate_assignment", assignment, "--force"])


def merge(workdir: Path, course: Path, assignment: str, notebook: str, student: str) -> None:
    """Copy one graded submission from a worker's course directory into the course (caller holds the lock)."""
    src = workdir / "autograded" / student / assignment
    dst = course / "autograded" / student / assignment
    if src.is_dir():
        if dst.exists():
            for p in dst.rglob("*"):
                p.chmod(0o755 if p.is_dir() else 0o644)
            shutil.rmtree(dst)
        shutil.copytree(src, dst, symlinks=False)
    gradebook.copy_submission(gradebook.db_url(workdir), gradebook.db_url(course), assignment, notebook, student)


def grade(course: Path, workdir: Path, assignment: str, notebook: str, student: str, result: Path, lock: Path,
          nbgrader_args: list[str]) -> int:
    code = run_nbgrader(["autograde", *nbgrader_args])
    scores = gradebook.read_scores(gradebook.db_url(workdir), assignment, notebook, student)
    if scores.found:
        with file_lock(lock):
            merge(workdir, course, assignment, notebook, student)
    tmp = result.with_name(result.name + ".tmp")
    tmp.write_text(json.dumps(scores.to_json(), ensure_ascii=False))
    os.replace(tmp, result)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gitopslab.grading.worker")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("course", type=Path)
    p.add_argument("assignment")
    g = sub.add_parser("grade")
    for name in ("course", "workdir"):
        g.add_argument(name, type=Path)
    for name in ("assignment", "notebook", "student"):
        g.add_argument(name)
    for name in ("result", "lock"):
        g.add_argument(name, type=Path)
    g.add_argument("nbgrader_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        return prepare(args.course, args.assignment)
    extra = args.nbgrader_args[1:] if args.nbgrader_args[:1] == ["--"] else args.nbgrader_args
    return grade(args.course, args.workdir, args.assignment, args.notebook, args.student, args.result, args.lock,
                 extra)


if __name__ == "__main__":
    sys.exit(main())
