"""The class report: one row per student, a column per criterion, as CSV and JSON, plus a progress bar."""
from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

from gitopslab.grading.batch import Outcome


def rows(outcomes: list[Outcome], cells: list[tuple[str, float]]) -> list[dict]:
    """Report rows (pure): student, score per grade cell, automatic total and maximum, manual, error."""
    out = []
    for o in outcomes:
        row: dict = {"student": o.student}
        auto_max = 0.0
        for name, max_score in cells:
            score = o.scores.by_cell.get(name)
            manual = name in o.scores.needs_manual or (score is None and o.scores.found)
            row[name] = None if manual and score is None else (score or 0.0)
            if not (manual and score is None):
                auto_max += max_score
        row["total"] = o.scores.auto_total if o.scores.found else 0.0
        row["max"] = auto_max
        row["needs_manual_grade"] = ",".join(o.scores.needs_manual)
        row["seconds"] = round(o.seconds, 1)
        row["error"] = o.error
        out.append(row)
    return out


def write(report_rows: list[dict], path: Path) -> list[Path]:
    """Write ``path`` as CSV or JSON by its suffix; with no known suffix, write both ``.csv`` and ``.json``."""
    path = Path(path)
    targets = [path] if path.suffix in (".csv", ".json") else [path.with_suffix(".csv"), path.with_suffix(".json")]
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix == ".json":
            target.write_text(json.dumps(report_rows, ensure_ascii=False, indent=2) + "\n")
        else:
            fields = list(report_rows[0].keys()) if report_rows else ["student"]
            with open(target, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=fields)
                writer.writeheader()
                for row in report_rows:
                    writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return targets


class ProgressBar:
    """``[#######·······] 7/30  alice 10/10 (24 s)`` on stderr, one line updated in place."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.total = 0
        self.done = 0
        self.started = time.monotonic()

    def start(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, time.monotonic()
        self._draw("")

    def advance(self, outcome: Outcome) -> None:
        self.done += 1
        verdict = "erreur" if outcome.error and not outcome.scores.found else f"{outcome.scores.auto_total:g} pts"
        self._draw(f"{outcome.student} {verdict} ({outcome.seconds:.0f} s)")

    def finish(self) -> None:
        self.stream.write(f"\nTerminé en {time.monotonic() - self.started:.0f} s.\n")
        self.stream.flush()

    def _draw(self, last: str) -> None:
        filled = int(self.width * self.done / self.total) if self.total else self.width
        bar = "#" * filled + "·" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total}  {last:<40}")
        self.stream.flush()
