"""Pure parts of the grader: restored cells, hidden-test stripping, time budget, report rows, fix detection."""
from __future__ import annotations

from types import SimpleNamespace

import git
import nbformat
import pytest

from gitopslab.grading import checks
from gitopslab.grading.batch import Outcome
from gitopslab.grading.feedback import HIDDEN_PLACEHOLDER, strip_hidden_tests
from gitopslab.grading.gradebook import Scores
from gitopslab.grading.isolation import budget_timeout
from gitopslab.grading.missing import insert_missing, restored_cell
from gitopslab.grading.report import rows
from gitopslab.lab.exam import BROKEN_DEPLOYMENT


def _cell(grade_id):
    return nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade_id": grade_id}})


@pytest.mark.parametrize("present, missing, expected", [
    (["a", "t1", "b"], ["t2"], ["a", "t1", "b", "t2"]),
    (["a", "b", "t2"], ["t1"], ["a", "t1", "b", "t2"]),
    (["b", "t2"], ["a", "t1"], ["a", "t1", "b", "t2"]),      # the answer before a test is gone too
    ([], ["t1", "t2"], ["t1", "t2"]),
])
def test_missing_cells_go_after_the_nearest_present_cell(present, missing, expected):
    nb = nbformat.v4.new_notebook(cells=[_cell(g) for g in present])
    insert_missing(nb, ["a", "t1", "b", "t2"], {g: _cell(g) for g in missing})
    assert [c.metadata["nbgrader"]["grade_id"] for c in nb.cells] == expected


def test_restored_test_cell_fails_and_restored_answer_is_empty():
    test = restored_cell(SimpleNamespace(name="t1", checksum="c", cell_type="code"), 3, False)
    assert "raise AssertionError" in test.source and test.metadata["nbgrader"]["points"] == 3
    answer = restored_cell(SimpleNamespace(name="cause", checksum="c", cell_type="markdown"), 2, True)
    assert answer.cell_type == "markdown" and answer.metadata["nbgrader"]["solution"] is True


def test_strip_hidden_tests_keeps_visible_lines():
    src = "a()\n    ### BEGIN HIDDEN TESTS\n    b()\n    ### END HIDDEN TESTS\nc()"
    assert strip_hidden_tests(src) == f"a()\n    {HIDDEN_PLACEHOLDER}\nc()"


@pytest.mark.parametrize("now, cell_timeout, expected", [
    (0, 240, 240), (500, 240, 100), (599.5, 240, 1), (700, 240, 1), (0, None, 600), (0, 0, 600),
])
def test_cell_timeout_is_cut_to_the_notebook_budget(now, cell_timeout, expected):
    assert budget_timeout(600, cell_timeout, now=now) == expected


def test_report_rows():
    cells = [("t1", 1), ("cause", 2), ("t2", 3)]
    ok = Outcome("alice", Scores("alice", {"t1": 1.0, "cause": None, "t2": 3.0}, needs_manual=["cause"]), 12.3)
    lost = Outcome("bob", Scores("bob", found=False), 1.0, "copie non notée")
    assert rows([ok, lost], cells) == [
        {"student": "alice", "t1": 1.0, "cause": None, "t2": 3.0, "total": 4.0, "max": 4.0,
         "needs_manual_grade": "cause", "seconds": 12.3, "error": ""},
        {"student": "bob", "t1": 0.0, "cause": 0.0, "t2": 0.0, "total": 0.0, "max": 6.0,
         "needs_manual_grade": "", "seconds": 1.0, "error": "copie non notée"},
    ]


def _commit(repo, text, message):
    path = repo.working_tree_dir + "/k8s/deployment.yaml"
    import os
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(text)
    repo.git.add(A=True)
    repo.git.commit("-m", message)
    return repo.head.commit.hexsha


@pytest.fixture
def repo(tmp_path):
    r = git.Repo.init(tmp_path / "r", initial_branch="main")
    r.git.config("user.name", "t")
    r.git.config("user.email", "t@example.com")
    return r


def test_fix_commit_found_only_when_a_commit_moves_8080_to_5000(repo):
    _commit(repo, BROKEN_DEPLOYMENT, "broken")
    assert checks.find_fix_commit(repo) is None
    fix = _commit(repo, BROKEN_DEPLOYMENT.replace("containerPort: 8080", "containerPort: 5000"), "fix")
    _commit(repo, BROKEN_DEPLOYMENT.replace("containerPort: 8080", "containerPort: 5000") + "# x\n", "later")
    assert checks.find_fix_commit(repo) == fix


def test_history_rewritten_with_5000_from_the_start_has_no_fix(repo):
    _commit(repo, BROKEN_DEPLOYMENT.replace("containerPort: 8080", "containerPort: 5000"), "all in one")
    assert checks.find_fix_commit(repo) is None


@pytest.mark.parametrize("body, ok", [
    ("<h1>Quote of the Day</h1><p>Stay hungry, stay foolish. - Steve Jobs</p>", True),
    ("<h1>Quote of the Day</h1><p>Your time is limited, don&#39;t waste it living someone else&#39;s life."
     " - Steve Jobs</p>", True),
    ("<h1>Quote of the Day</h1><p>Hello</p>", False),
    ("Welcome to nginx!", False), (None, False),
])
def test_serves_a_quote(body, ok):
    assert checks.serves_a_quote(body) is ok


def test_deployed_revision_is_the_last_history_entry():
    app = {"status": {"sync": {"revision": "new"}, "history": [{"revision": "a"}, {"revision": "b"}]}}
    assert checks.deployed_revision(app) == "b"
    assert checks.deployed_revision({"status": {}}) == ""
