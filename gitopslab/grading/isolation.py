"""One lab per graded submission: nbgrader's Execute step with its own GITOPSLAB_HOME.

nbgrader runs each submission's kernel with this preprocessor's environment:
a fresh home (so the submission's cluster, Git server and registry share
nothing with another's), the student id as the learner's name, an
accelerated lab clock, and a time budget for the whole notebook. Once the
notebook has run — or failed, or timed out — every lab process of that home
is stopped by its own pid and the home removed.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from nbgrader.preprocessors import Execute
from traitlets import Float, Unicode

from gitopslab.grading.labhomes import default_homes_dir, stop_lab

ENV_KEYS = ("GITOPSLAB_HOME", "GITOPSLAB_TIME_SCALE", "GITOPSLAB_USER", "GITOPSLAB_WORKDIR", "KUBECONFIG",
            "GIT_CONFIG_GLOBAL")
MIN_CELL_TIMEOUT = 1


@contextmanager
def isolated_home(time_scale: float, parent: str | Path | None = None, user: str | None = None):
    """A temporary GITOPSLAB_HOME exported to child processes, torn down on exit."""
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    parent = Path(parent) if parent else default_homes_dir()
    parent.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="home-", dir=parent))
    os.environ["GITOPSLAB_HOME"] = str(home)
    os.environ["GITOPSLAB_TIME_SCALE"] = str(time_scale)
    os.environ["GITOPSLAB_WORKDIR"] = str(home / "work")
    if user:
        os.environ["GITOPSLAB_USER"] = user
    else:
        os.environ.pop("GITOPSLAB_USER", None)
    os.environ.pop("KUBECONFIG", None)
    os.environ.pop("GIT_CONFIG_GLOBAL", None)
    try:
        yield home
    finally:
        stop_lab(home)
        shutil.rmtree(home, ignore_errors=True)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def budget_timeout(deadline: float, cell_timeout: float | None, now: float | None = None) -> int:
    """A cell's timeout: its own limit, cut to what is left of the notebook's budget (pure)."""
    left = deadline - (time.monotonic() if now is None else now)
    limit = left if cell_timeout is None or cell_timeout <= 0 else min(cell_timeout, left)
    return max(MIN_CELL_TIMEOUT, int(limit))


class IsolatedLabExecute(Execute):
    """nbgrader's Execute, run inside a fresh lab home per notebook, within a time budget."""

    time_scale = Float(20.0, help="Lab clock acceleration while grading").tag(config=True)
    homes_dir = Unicode("", help="Where to create the per-submission homes (default: ~/.cache/gitopslab/grading)"
                        ).tag(config=True)
    notebook_timeout = Float(600.0, help="Time budget (s) for the whole notebook; 0 = none").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        student = ((resources or {}).get("nbgrader") or {}).get("student")
        if self.notebook_timeout and self.notebook_timeout > 0:
            deadline = time.monotonic() + self.notebook_timeout
            self.timeout_func = lambda cell: budget_timeout(deadline, self.timeout)
        with isolated_home(self.time_scale, self.homes_dir or None, user=student):
            return super().preprocess(nb, resources, km=km)
