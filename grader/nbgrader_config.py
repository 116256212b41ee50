"""nbgrader course for the gitopslab exam: run the usual nbgrader commands from this folder.

    nbgrader generate_assignment examen
    nbgrader autograde examen
    nbgrader generate_feedback examen
    nbgrader export

Each submission is executed in its own lab (own GITOPSLAB_HOME, accelerated
clock, the student id as the learner's name), torn down afterwards; see
gitopslab/grading/isolation.py. ``gitopslab grade`` runs the same autograde
over a whole class with parallel workers.
"""
import secrets
from pathlib import Path

import nbgrader
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds,
                                    GetGrades, IgnorePattern, LimitOutput, OverwriteKernelspec, SaveAutoGrades)

import gitopslab.grading
from gitopslab.grading.feedback import StripHiddenTests
from gitopslab.grading.isolation import IsolatedLabExecute
from gitopslab.grading.missing import RestoreMissingCells

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "gitopslab-argocd"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "quote-app"]

# Sanitizing: locked cells restored from the gradebook; a deleted test cell comes back failing (0 point).
c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoreMissingCells, CheckCellMetadata,
]
# Execution: one isolated lab per submission, a time limit per cell and per notebook.
c.Autograde.autograde_preprocessors = [
    IsolatedLabExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
c.Execute.timeout = 240
c.IsolatedLabExecute.timeout = 240
c.IsolatedLabExecute.notebook_timeout = 600
c.IsolatedLabExecute.time_scale = 20.0
# A student-settable tag (e.g. "skip-execution") must never skip a locked test cell:
# nbclient skips cells carrying this tag, so make it one nobody can guess.
c.Execute.skip_cells_with_tag = "gitopslab-never-skip-" + secrets.token_hex(16)
c.IsolatedLabExecute.skip_cells_with_tag = c.Execute.skip_cells_with_tag

# Feedback: the hidden tests stay hidden, and the page speaks French (nbgrader's template, translated).
c.GenerateFeedback.preprocessors = [GetGrades, StripHiddenTests, CSSHTMLHeaderPreprocessor]
c.HTMLExporter.template_name = "feedback_fr"
c.HTMLExporter.template_file = "feedback_fr.html.j2"
c.HTMLExporter.extra_template_basedirs = [str(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"),
                                          str(Path(gitopslab.grading.__file__).parent / "templates")]

# French stubs in the released notebook.
c.ClearSolutions.code_stub = {"python": "# VOTRE CODE ICI\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "VOTRE RÉPONSE ICI"

# A submission whose kernel dies is left "needs manual grade" by nbgrader; the batch
# judge (gitopslab grade) reads the gradebook, never the exit code.
