"""``gitopslab grade``: autograde a class with nbgrader, in parallel, and write a report."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "grade", help="corriger automatiquement les copies d'une classe (nbgrader autograde en parallèle)",
        description="Lance « nbgrader autograde » pour chaque copie de submitted/<élève>/<devoir>/, chacune dans "
                    "son propre labo, avec N correcteurs en parallèle, puis écrit un rapport CSV/JSON.")
    p.add_argument("assignment", nargs="?", default="examen", help="devoir (défaut : examen)")
    p.add_argument("--course-dir", default=".", help="dossier du cours nbgrader (défaut : dossier courant)")
    p.add_argument("-j", "--workers", type=int, default=2, help="correcteurs en parallèle (défaut : 2)")
    p.add_argument("--time-limit", type=float, default=600, help="temps maximal par copie, en secondes")
    p.add_argument("--time-scale", type=float, default=None, help="accélération de l'horloge des labos")
    p.add_argument("--student", action="append", dest="students", help="ne corriger que cet élève (répétable)")
    p.add_argument("--report", default="rapport-notes", help="fichier du rapport (.csv, .json, ou les deux)")
    p.add_argument("--no-progress", action="store_true", help="sans barre de progression")
    p.set_defaults(func=cmd_grade)
    return p


def cmd_grade(args: argparse.Namespace) -> int:
    from gitopslab.grading import gradebook, report
    from gitopslab.grading.batch import Batch, BatchConfig, notebook_name

    course = Path(args.course_dir).resolve()
    if not (course / "nbgrader_config.py").exists():
        print(f"Erreur : {course} n'est pas un cours nbgrader (nbgrader_config.py absent).", file=sys.stderr)
        return 2
    config = BatchConfig(course, args.assignment, workers=args.workers, time_limit=args.time_limit,
                         time_scale=args.time_scale, students=args.students)
    progress = None if args.no_progress else report.ProgressBar()
    outcomes = Batch(config, progress).run()
    if not outcomes:
        print(f"Aucune copie dans {course / 'submitted'}/*/{args.assignment}.")
        return 0
    # Only now, the labs all stopped, does this process load nbgrader (to read the cells' maximum points).
    cells = gradebook.grade_cells(gradebook.db_url(course), args.assignment, notebook_name(course, args.assignment))
    rows = report.rows(outcomes, cells)
    for path in report.write(rows, Path(args.report)):
        print(f"Rapport : {path}")
    errors = [r for r in rows if r["error"]]
    print(f"{len(rows)} copie(s) corrigée(s), {len(errors)} avec erreur.")
    return 0
