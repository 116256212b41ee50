"""The batch never aborts: a grader over its time limit is killed with its labs, and the others are graded."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from gitopslab.grading import gradebook
from gitopslab.grading.batch import Batch, BatchConfig, child_env

from . import submissions as subs

pytestmark = pytest.mark.timeout(300)


def test_overtime_submission_is_stopped_and_reported(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(subs.GRADER / "nbgrader_config.py", course)
    shutil.copytree(subs.GRADER / "source", course / "source")
    subs.write_submission(course, "lent", subs.correct())
    subs.write_submission(course, "vide", subs.empty())
    before = {p.pid for p in psutil.process_iter()}
    outcomes = {o.student: o for o in Batch(BatchConfig(course, workers=1, time_limit=15, grace=0)).run()}
    assert "temps limite dépassé" in outcomes["lent"].error
    assert not outcomes["lent"].scores.found
    assert outcomes["vide"].scores.found and outcomes["vide"].scores.auto_total == 0
    new = [p for p in psutil.process_iter(["cmdline"]) if p.pid not in before
           and any("gitopslab" in a or "ipykernel" in a for a in (p.info["cmdline"] or []))]
    assert new == []
    exe = str(Path(sys.executable).with_name("nbgrader"))
    done = subprocess.run([exe, "export"], cwd=course, env=child_env(), capture_output=True, text=True)
    assert done.returncode == 0 and "vide" in (course / "grades.csv").read_text()
    assert gradebook.read_scores(gradebook.db_url(course), "examen", "examen", "vide").found
