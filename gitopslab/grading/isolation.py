"""One lab per graded submission: nbgrader's Execute step with its own GITOPSLAB_HOME.

nbgrader runs each submission's kernel with this preprocessor's environment:
a fresh home (so the submission's cluster, Git server and registry share
nothing with another's), an accelerated lab clock, and, once the notebook has
run — or failed, or timed out — every lab process of that home is stopped by
its own pid and the home removed.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from nbgrader.preprocessors import Execute
from traitlets import Float, Unicode

ENV_KEYS = ("GITOPSLAB_HOME", "GITOPSLAB_TIME_SCALE", "KUBECONFIG", "GIT_CONFIG_GLOBAL")


@contextmanager
def isolated_home(time_scale: float, parent: str | None = None):
    """A temporary GITOPSLAB_HOME exported to child processes, torn down on exit."""
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    home = Path(tempfile.mkdtemp(prefix="gitopslab-grade-", dir=parent))
    os.environ["GITOPSLAB_HOME"] = str(home)
    os.environ["GITOPSLAB_TIME_SCALE"] = str(time_scale)
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


def stop_lab(home: Path) -> None:
    """Stop every daemon of ``home`` (clusters, Git server) by its own pid."""
    from gitopslab.cluster import lifecycle
    from gitopslab.home import Home

    h = Home(home)
    for name in h.cluster_names():
        try:
            lifecycle.down(h, name)
        except Exception:  # a half-started lab must not stop the batch
            pass
    try:
        from gitopslab import gitserver

        gitserver.stop(h)
    except Exception:
        pass


class IsolatedLabExecute(Execute):
    """nbgrader's Execute, run inside a fresh lab home per notebook."""

    time_scale = Float(20.0, help="Lab clock acceleration while grading").tag(config=True)
    homes_dir = Unicode("", help="Where to create the per-submission homes (default: system temp)").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        with isolated_home(self.time_scale, self.homes_dir or None):
            return super().preprocess(nb, resources, km=km)
