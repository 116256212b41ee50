"""Start, find and stop the Git server daemon of a home (one per home).

The daemon writes ``git/server.pid`` and ``git/server.port`` once it serves;
it keeps its previous port when it is free, so URLs written in the
gitconfig and in Argo CD objects stay valid across restarts. ``stop`` ends
it by its own pid, never by name.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from gitopslab.gitserver.layout import GitPaths
from gitopslab.gitserver.server import HEALTH_PATH
from gitopslab.home import Home
from gitopslab import processes
from gitopslab.locks import file_lock

START_TIMEOUT = 120.0  # the first start seeds the course repositories and the webapp image
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_children: dict[int, subprocess.Popen] = {}


class GitServerError(RuntimeError):
    pass


def running_url(home: Home) -> str | None:
    """Base URL of the home's running Git server, or None."""
    paths = GitPaths.of(home)
    pid, port = paths.read_pid(), paths.read_port()
    if not pid or not port or not _is_our_daemon(pid):
        return None
    url = f"http://127.0.0.1:{port}"
    return url if _healthy(url) else None


def ensure_running(home: Home | None = None) -> str:
    """Start the Git server of ``home`` unless it runs; return its base URL."""
    home = (home or Home.current()).ensure()
    paths = GitPaths.of(home)
    paths.root.mkdir(parents=True, exist_ok=True)
    with file_lock(paths.lock_file):
        url = running_url(home)
        if url:
            return url
        _stop_pid(paths)
        return _spawn(home, paths)


def stop(home: Home | None = None) -> bool:
    """Stop the home's Git server by its pid; True if one was running."""
    paths = GitPaths.of(home or Home.current())
    if not paths.root.is_dir():
        return False
    with file_lock(paths.lock_file):
        return _stop_pid(paths)


def _spawn(home: Home, paths: GitPaths) -> str:
    env = dict(os.environ, GITOPSLAB_HOME=str(home.root))
    with open(paths.log_file, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gitopslab.gitserver", "--home", str(home.root)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                start_new_session=True, close_fds=True)
    _children[proc.pid] = proc
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _children.pop(proc.pid, None)
            raise GitServerError(f"le serveur Git du lab n'a pas démarré :\n{_tail(paths.log_file)}")
        if paths.read_pid() == proc.pid:
            url = running_url(home)
            if url:
                return url
        time.sleep(0.02)
    _terminate(proc.pid)
    raise GitServerError(f"le serveur Git du lab ne répond pas après {START_TIMEOUT:.0f} s :\n{_tail(paths.log_file)}")


def _stop_pid(paths: GitPaths) -> bool:
    pid = paths.read_pid()
    stopped = False
    if pid and _is_our_daemon(pid):
        _terminate(pid)
        stopped = True
    paths.pid_file.unlink(missing_ok=True)
    return stopped


def _terminate(pid: int, grace: float = 5.0) -> None:
    processes.terminate(pid, lambda: _alive(pid), grace, wait_after_kill=True)


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        _children.pop(pid, None)
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _is_our_daemon(pid: int) -> bool:
    if not _alive(pid):
        return False
    try:
        return b"gitopslab.gitserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _healthy(url: str) -> bool:
    try:
        with _opener.open(url + HEALTH_PATH, timeout=2) as response:
            return json.loads(response.read()).get("ok") is True
    except Exception:
        return False




def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
