"""The lab Git server: real Git over smart HTTP, one per GITOPSLAB_HOME.

``git http-backend`` serves bare repositories stored under ``home.git_dir``;
this package adds what GitHub adds around it: public and private
repositories, a personal access token, push webhooks, and the
``https://github.com/`` rewrite (Git's own ``url.<base>.insteadOf``) so the
course's URLs work offline.

``ensure_running(home) -> base_url`` and ``stop(home)`` manage the daemon
(``python -m gitopslab.gitserver``), stopped by its own pid.
"""
from gitopslab.gitserver.daemon import ensure_running, running_url, stop

__all__ = ["ensure_running", "running_url", "stop"]
