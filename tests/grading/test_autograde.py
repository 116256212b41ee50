"""The nbgrader round trip: generate_assignment, autograde of fixture submissions (one per bad input), feedback.

Slow: every submission that gets as far as the setup cell runs in its own lab
(accelerated clock). All are graded in one ``gitopslab grade`` batch with two
workers; each student's score per criterion is asserted from the gradebook.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import psutil
import pytest

from gitopslab.grading import gradebook, report
from gitopslab.grading.batch import Batch, BatchConfig, child_env
from . import submissions as subs

pytestmark = pytest.mark.timeout(900)
CELL_TIMEOUT = 40
LABS = Path(__file__).resolve().parents[2] / "labs"


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    exe = str(Path(sys.executable).with_name("nbgrader"))
    return subprocess.run([exe, *args], cwd=course, env=child_env(), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    shutil.copy2(subs.GRADER / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(subs.GRADER / "source", root / "source")
    done = nbgrader(root, "generate_assignment", "examen", "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    return root


@pytest.fixture(scope="module")
def graded(course):
    for student, (make, _) in subs.CASES.items():
        subs.write_submission(course, student, make())
    extra = [f"--IsolatedLabExecute.timeout={CELL_TIMEOUT}", f"--Execute.timeout={CELL_TIMEOUT}"]
    before = {p.pid for p in psutil.process_iter()}
    outcomes = Batch(BatchConfig(course, "examen", workers=2, time_limit=300, extra_args=extra)).run()
    leftovers = [p for p in psutil.process_iter(["pid", "cmdline"])
                 if p.pid not in before and any("grading/batch-" in a for a in (p.info["cmdline"] or []))]
    return {o.student: o for o in outcomes}, leftovers


def test_release_is_the_labs_notebook(course):
    released = nbformat.read(course / "release" / "examen" / "examen.ipynb", as_version=4)
    committed = nbformat.read(LABS / "08-examen.ipynb", as_version=4)
    assert released == committed, "labs/08-examen.ipynb differs: run python -m gitopslab.grading.release"


def test_released_notebook_has_no_solutions_nor_hidden_tests(course):
    text = (course / "release" / "examen" / "examen.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "run_fresh(\"" not in text
    assert "VOTRE CODE ICI" in text


@pytest.mark.parametrize("student", list(subs.CASES))
def test_each_submission_scores_as_expected(graded, course, student):
    outcomes, _ = graded
    scores = gradebook.read_scores(gradebook.db_url(course), "examen", "examen", student)
    assert scores.found, f"{student}: not in the course gradebook ({outcomes[student].error})"
    expected = subs.CASES[student][1]
    got = {k: scores.by_cell.get(k) for k in expected}
    wanted = {k: v for k, v in expected.items() if v is not None}
    assert {k: got[k] for k in wanted} == wanted, f"{student}: {got}"
    assert "cause" in scores.needs_manual or student == "empty"


def test_no_process_left_behind(graded):
    _, leftovers = graded
    assert leftovers == []


def test_feedback_hides_hidden_tests_and_export_works(graded, course):
    done = nbgrader(course, "generate_feedback", "examen", "--student", "correct", "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    html = (course / "feedback" / "correct" / "examen" / "examen.html").read_text()
    assert "HIDDEN TESTS" not in html and "live_image" not in html and "indépendante" not in html
    assert "vérifications cachées" in html
    assert re.search(r"\(Note : \d+\.\d+ / 12\.0\)", html), "French score heading"
    assert "Cellule notée : <code>" in html and "Réponse de l'étudiant" in html
    assert "Score:" not in html and "Student's answer" not in html
    done = nbgrader(course, "export")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "correct" in (course / "grades.csv").read_text()


def test_report_rows_per_criterion(graded, course, tmp_path):
    outcomes, _ = graded
    cells = gradebook.grade_cells(gradebook.db_url(course), "examen", "examen")
    rows = report.rows(list(outcomes.values()), cells)
    paths = report.write(rows, tmp_path / "rapport")
    assert [p.suffix for p in paths] == [".csv", ".json"]
    correct = next(r for r in rows if r["student"] == "correct")
    assert correct["total"] == 10 and correct["test_citation"] == 2 and correct["cause"] is None
