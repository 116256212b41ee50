"""nbgrader course for the gitopslab exam (run the usual nbgrader commands from this folder).

    nbgrader generate_assignment examen
    nbgrader autograde examen
    nbgrader generate_feedback examen
    nbgrader export

Each submission is executed in its own lab (own GITOPSLAB_HOME, accelerated
clock), torn down afterwards; see gitopslab/grading/isolation.py.
"""
import secrets
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern,
                                    LimitOutput, SaveAutoGrades)

from gitopslab.grading.isolation import IsolatedLabExecute

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "gitopslab-argocd"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)

# Execution: one isolated lab per submission, a time limit per cell.
c.Autograde.autograde_preprocessors = [
    IsolatedLabExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
c.Execute.timeout = 240
c.IsolatedLabExecute.timeout = 240
c.IsolatedLabExecute.time_scale = 20.0
# A student-settable tag (e.g. "skip-execution") must never skip a locked test cell:
# nbclient skips cells carrying this tag, so make it one nobody can guess.
c.Execute.skip_cells_with_tag = "gitopslab-never-skip-" + secrets.token_hex(16)
c.IsolatedLabExecute.skip_cells_with_tag = c.Execute.skip_cells_with_tag

# French stubs in the released notebook.
c.ClearSolutions.code_stub = {"python": "# VOTRE CODE ICI\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "VOTRE RÉPONSE ICI"

# A submission whose kernel dies is left "needs manual grade" by nbgrader; the batch
# judge (gitopslab grade) reads the gradebook, never the exit code.
