"""Where graded labs live, and how a graded lab is stopped (no nbgrader needed).

Both the batch coordinator (which never imports nbgrader: see worker.py)
and nbgrader's execute step (isolation.py) use these.
"""
from __future__ import annotations

import os
from pathlib import Path


def default_homes_dir() -> Path:
    """Where graded labs live unless configured: the user's cache folder."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "gitopslab" / "grading"


def stop_lab(home: Path) -> None:
    """Stop every daemon of ``home`` (clusters, Git server) by its own pid."""
    from gitopslab.cluster import lifecycle
    from gitopslab.home import Home

    h = Home(Path(home))
    for name in h.cluster_names():
        try:
            lifecycle.down(h, name)
        except Exception:  # noqa: BLE001 - a half-started lab must not stop the batch
            pass
    try:
        from gitopslab import gitserver

        gitserver.stop(h)
    except Exception:  # noqa: BLE001
        pass
