"""Fixture submissions made from the exam's source notebook by cell edits (one per bad input of the issue)."""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

GRADER = Path(__file__).resolve().parents[2] / "grader"
SOURCE = GRADER / "source" / "examen" / "examen.ipynb"
TESTS = ("test_application_existe", "test_application_source", "test_synced_healthy", "test_commit_correction",
         "test_citation")


def source() -> nbformat.NotebookNode:
    return nbformat.read(SOURCE, as_version=4)


def _cell(nb, grade_id: str):
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(grade_id)


def _set(nb, grade_id: str, text: str):
    _cell(nb, grade_id).source = text.strip("\n")
    return nb


LIVE_PATCH = '''
lab.kubectl("patch", "deployment", "quote-app-deployment", "-n", "default", "--type=json", "-p",
            '[{"op": "replace", "path": "/spec/template/spec/containers/0/ports/0/containerPort", "value": 5000}]')
import time
time.sleep(lab.real_seconds(120))
'''


def correct():
    return source()


def never_fixes():
    return _set(source(), "correction", "pass")


def live_fix_only():
    return _set(source(), "correction", LIVE_PATCH)


def no_self_heal_live_fix():
    nb = source()
    app = _cell(nb, "application")
    app.source = app.source.replace("selfHeal: true", "selfHeal: false")
    return _set(nb, "correction", LIVE_PATCH)


def fix_not_pushed():
    nb = source()
    cell = _cell(nb, "correction")
    cell.source = cell.source.replace("repos.push(depot)\n", "")
    return nb


def skip_execution_tags():
    nb = never_fixes()
    for grade_id in TESTS:
        _cell(nb, grade_id).metadata.setdefault("tags", []).append("skip-execution")
    return nb


def rewritten_history():
    return _set(source(), "correction", '''
deploiement = PROJET / "k8s" / "deployment.yaml"
deploiement.write_text(deploiement.read_text().replace("containerPort: 8080", "containerPort: 5000"))
depot.git.checkout("--orphan", "propre")
repos.commit_all(depot, "Application quote-app")
depot.git.branch("-D", "main")
depot.git.branch("-m", "main")
repos.push(depot, force=True)
wait_for_application(lab, "quote-app", timeout=600)
''')


def wrong_name_and_namespace():
    nb = source()
    app = _cell(nb, "application")
    app.source = app.source.replace("name: quote-app\n", "name: citation\n").replace(
        "  namespace: argocd\n", "  namespace: default\n", 1)
    return nb


def infinite_loop():
    nb = source()
    cell = _cell(nb, "citation")
    cell.source = "while True:\n    pass"
    return nb


def edited_tests():
    nb = never_fixes()
    for grade_id in TESTS:
        _cell(nb, grade_id).source = "print('tout va bien')"
    return nb


def deleted_tests():
    nb = source()
    nb.cells = [c for c in nb.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") not in ("test_synced_healthy",
                                                                                     "test_citation")]
    return nb


def empty():
    nb = copy.deepcopy(source())
    nb.cells = []
    return nb


# expected automatic score per test cell (1, 2, 3, 2, 2 points)
FULL = {"test_application_existe": 1, "test_application_source": 2, "test_synced_healthy": 3,
        "test_commit_correction": 2, "test_citation": 2}
NONE = {k: 0 for k in FULL}
UP_TO_APP = {**NONE, "test_application_existe": 1, "test_application_source": 2}

CASES = {
    "correct": (correct, FULL),
    "never-fixes": (never_fixes, UP_TO_APP),
    # self-heal reverts the live edit; whether the briefly fixed pod keeps serving while the reverted
    # rollout never becomes available depends on timing (as on a real cluster): criterion 5 not asserted
    "live-fix-only": (live_fix_only, {**UP_TO_APP, "test_citation": None}),
    # self-heal off: criterion 2 lost; the live edit makes the app OutOfSync and no commit fixes it
    "no-self-heal-live-fix": (no_self_heal_live_fix,
                              {**NONE, "test_application_existe": 1, "test_citation": 2}),
    "fix-not-pushed": (fix_not_pushed, UP_TO_APP),
    "skip-execution-tags": (skip_execution_tags, UP_TO_APP),
    "rewritten-history": (rewritten_history, {**FULL, "test_commit_correction": 0}),
    "wrong-name": (wrong_name_and_namespace, NONE),
    "infinite-loop": (infinite_loop, FULL),
    "edited-tests": (edited_tests, UP_TO_APP),
    "deleted-tests": (deleted_tests, {**FULL, "test_synced_healthy": 0, "test_citation": 0}),
    "empty": (empty, NONE),
}


def write_submission(course: Path, student: str, nb, assignment: str = "examen") -> Path:
    target = course / "submitted" / student / assignment / "examen.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target
