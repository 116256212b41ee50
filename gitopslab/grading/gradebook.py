"""Reading scores from an nbgrader gradebook, and copying one submission's grades into another gradebook.

Parallel graders each write their own gradebook (SQLite is not safe for
concurrent writers); each finished submission is copied into the course's
gradebook by one worker at a time (under a lock), so ``nbgrader generate_feedback``,
``export`` and formgrader see every student as if graded in one run.

nbgrader is imported by the functions that use it, not with this module:
importing it weighs about 100 MB, which the batch coordinator never pays
(it only handles ``Scores``; see worker.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Scores:
    student: str
    by_cell: dict[str, float | None] = field(default_factory=dict)   # grade_id -> auto score (None = manual)
    max_by_cell: dict[str, float] = field(default_factory=dict)
    needs_manual: list[str] = field(default_factory=list)
    found: bool = True

    @property
    def auto_total(self) -> float:
        return sum(v for v in self.by_cell.values() if v is not None)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Scores":
        return cls(**data)


def db_url(course_root) -> str:
    return f"sqlite:///{course_root}/gradebook.db"


def grade_cells(url: str, assignment: str, notebook: str) -> list[tuple[str, float]]:
    """(grade_id, max points) of the notebook's grade cells, in notebook order."""
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        order = {c.name: i for i, c in enumerate(nb.source_cells)}
        cells = sorted(nb.grade_cells, key=lambda c: order.get(c.name, 1 << 30))
        return [(c.name, c.max_score) for c in cells]


def has_assignment(url: str, assignment: str) -> bool:
    from nbgrader.api import Gradebook, MissingEntry

    try:
        with Gradebook(url) as gb:
            gb.find_assignment(assignment)
            return True
    except (MissingEntry, Exception):  # noqa: BLE001 - a missing or empty database means "no"
        return False


def read_scores(url: str, assignment: str, notebook: str, student: str) -> Scores:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(url) as gb:
        try:
            sub = gb.find_submission_notebook(notebook, assignment, student)
        except MissingEntry:
            return Scores(student, found=False)
        scores = Scores(student)
        for g in sub.grades:
            scores.by_cell[g.name] = g.auto_score
            scores.max_by_cell[g.name] = g.max_score
            if g.needs_manual_grade:
                scores.needs_manual.append(g.name)
        return scores


def copy_submission(src_url: str, dst_url: str, assignment: str, notebook: str, student: str) -> bool:
    """Copy one student's autograde results (scores, comments, timestamp) from ``src_url`` into ``dst_url``."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(src_url) as src:
        try:
            s_assign = src.find_submission(assignment, student)
            s_nb = src.find_submission_notebook(notebook, assignment, student)
        except MissingEntry:
            return False
        grades = {g.name: (g.auto_score, g.needs_manual_grade) for g in s_nb.grades}
        comments = {c.name: c.auto_comment for c in s_nb.comments}
        timestamp = s_assign.timestamp
    with Gradebook(dst_url) as dst:
        dst.update_or_create_student(student)
        kwargs = {"timestamp": timestamp} if timestamp else {}
        dst.update_or_create_submission(assignment, student, **kwargs)
        for name, (auto, manual) in grades.items():
            g = dst.find_grade(name, notebook, assignment, student)
            g.auto_score, g.needs_manual_grade = auto, manual
        for name, text in comments.items():
            try:
                dst.find_comment(name, notebook, assignment, student).auto_comment = text
            except MissingEntry:
                pass
        dst.db.commit()
    return True
