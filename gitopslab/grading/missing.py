"""Deleted test cells score zero: nbgrader's OverwriteCells, restoring missing grade cells as failing cells.

nbgrader leaves a deleted grade cell "needs manual grade", and its own
``add_missing_cells`` crashes when the cell before the missing one in the
source is not a grade or solution cell, and re-runs the restored test (which
may then pass). Here a missing cell is put back after the nearest preceding
cell that the submission still has, as a cell that fails with a French
explanation, so it scores 0 for autograded tests (a missing written answer
comes back empty, for the instructor to grade).
"""
from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import OverwriteCells

MISSING_TEST_SOURCE = (
    "# Cette cellule de test (« {grade_id} ») a été supprimée de la copie rendue : elle vaut 0 point.\n"
    "raise AssertionError(\"Cellule de test « {grade_id} » supprimée de la copie : 0 point.\")"
)
MISSING_ANSWER_SOURCE = "*(Cette réponse « {grade_id} » a été supprimée de la copie rendue.)*"


def _grade_id(cell) -> str | None:
    return ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id")


def restored_cell(source_cell, max_score: float, is_solution: bool) -> NotebookNode:
    """The cell put back for a missing grade cell (pure)."""
    grade_id = source_cell.name
    meta = {"grade": True, "grade_id": grade_id, "locked": not is_solution, "solution": is_solution,
            "points": max_score, "schema_version": 3, "checksum": source_cell.checksum,
            "cell_type": source_cell.cell_type}
    if source_cell.cell_type == "code":
        return NotebookNode({"cell_type": "code", "execution_count": None, "outputs": [],
                             "metadata": {"deletable": False, "editable": False, "nbgrader": meta},
                             "source": MISSING_TEST_SOURCE.format(grade_id=grade_id)})
    return NotebookNode({"cell_type": "markdown", "metadata": {"deletable": False, "nbgrader": meta},
                         "source": MISSING_ANSWER_SOURCE.format(grade_id=grade_id)})


def insert_missing(nb: NotebookNode, source_order: list[str], missing: dict[str, NotebookNode]) -> None:
    """Insert each missing cell after the nearest preceding source cell still present (pure, in place)."""
    for grade_id in source_order:
        if grade_id not in missing:
            continue
        present = {_grade_id(c): i for i, c in enumerate(nb.cells) if _grade_id(c)}
        before = source_order[:source_order.index(grade_id)]
        anchor = next((present[g] for g in reversed(before) if g in present), -1)
        nb.cells.insert(anchor + 1, missing[grade_id])


class RestoreMissingCells(OverwriteCells):
    """OverwriteCells, then every grade cell missing from the submission restored as a zero-score cell."""

    def preprocess(self, nb, resources):
        nb, resources = super().preprocess(nb, resources)
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            source_nb = gb.find_notebook(resources["nbgrader"]["notebook"], resources["nbgrader"]["assignment"])
            order = [c.name for c in source_nb.source_cells]
            solutions = {c.name for c in source_nb.solution_cells}
            present = {_grade_id(c) for c in nb.cells if utils.is_grade(c) or utils.is_solution(c)}
            sources = {c.name: c for c in source_nb.source_cells}
            missing = {}
            for grade_cell in source_nb.grade_cells:
                if grade_cell.name not in present and grade_cell.name in sources:
                    self.log.warning("Cellule de test manquante %s : remise à 0 point", grade_cell.name)
                    missing[grade_cell.name] = restored_cell(sources[grade_cell.name], grade_cell.max_score,
                                                             grade_cell.name in solutions)
        insert_missing(nb, order, missing)
        return nb, resources
