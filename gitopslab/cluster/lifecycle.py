"""Starting, stopping and inspecting the lab's cluster daemons (used by the
CLI, the notebooks and the tests).

``up`` is idempotent and returns once the API answers; it also writes
``$GITOPSLAB_HOME/kubeconfig`` (mode 0600), one context per running
cluster, named after it. ``down`` stops a daemon by its own pid (SIGTERM,
wait, SIGKILL); the daemon takes its workload processes with it.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from gitopslab.cluster import nodeclaims, tls
from gitopslab.home import DEFAULT_CLUSTER, ClusterPaths, Home
from gitopslab.locks import file_lock

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


class LabError(RuntimeError):
    """A lab operation failed; the message is meant for the learner (French)."""


@dataclass
class ClusterInfo:
    name: str
    running: bool
    server: str | None = None
    port: int | None = None
    pid: int | None = None
    token: str | None = None
    time_scale: float | None = None
    kubeconfig: Path | None = None
    ca_pem: str = ""

    @property
    def context(self) -> str:
        return self.name


def _home(home: Home | Path | str | None) -> Home:
    if home is None:
        return Home.current()
    if isinstance(home, Home):
        return home
    return Home(Path(home).expanduser())


# --- process inspection ---------------------------------------------------------

def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = open(f"/proc/{pid}/stat", encoding="utf-8").read()
        if stat[stat.rindex(")") + 2:].split()[0] == "Z":
            return False
    except OSError:
        pass
    return True


def _is_our_daemon(pid: int, paths: ClusterPaths) -> bool:
    try:
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        return _pid_alive(pid)
    args = [a.decode(errors="replace") for a in cmdline]
    if "gitopslab.cluster.daemon" not in args:
        return False
    home_ok = "--home" in args and Path(args[args.index("--home") + 1]).resolve() == paths.root.parent.parent.resolve()
    cluster_ok = "--cluster" in args and args[args.index("--cluster") + 1] == paths.name
    return home_ok and cluster_ok


def daemon_pid(paths: ClusterPaths) -> int | None:
    pid = paths.read_pid()
    if pid and _pid_alive(pid) and _is_our_daemon(pid, paths):
        return pid
    return None


def server_url(paths: ClusterPaths, port: int | None = None) -> str | None:
    port = port or paths.read_port()
    if not port:
        return None
    scheme = "https" if tls.cert_path(paths).exists() else "http"
    return f"{scheme}://127.0.0.1:{port}"


def _ssl_for(paths: ClusterPaths) -> ssl.SSLContext | None:
    pem = tls.ca_pem(paths)
    return tls.client_context(pem) if pem else None


def api_answers(paths: ClusterPaths, timeout: float = 1.0) -> bool:
    url = server_url(paths)
    if not url:
        return False
    req = urllib.request.Request(url + "/readyz", headers={"Authorization": f"Bearer {paths.read_token() or ''}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=_ssl_for(paths)) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _read_scale(paths: ClusterPaths) -> float | None:
    try:
        return float(paths.time_scale_file.read_text().strip())
    except (OSError, ValueError):
        return None


def info(home: Home | Path | str | None, cluster: str = DEFAULT_CLUSTER) -> ClusterInfo:
    h = _home(home)
    paths = h.cluster(cluster)
    pid = daemon_pid(paths)
    running = pid is not None
    port = paths.read_port() if running else None
    return ClusterInfo(name=cluster, running=running, server=server_url(paths, port) if running else None,
                       port=port, pid=pid, token=paths.read_token(), time_scale=_read_scale(paths),
                       kubeconfig=h.kubeconfig, ca_pem=tls.ca_pem(paths))


# --- kubeconfig ------------------------------------------------------------------------

def kubeconfig_document(clusters: list[ClusterInfo]) -> dict:
    names = [c.name for c in clusters]
    current = DEFAULT_CLUSTER if DEFAULT_CLUSTER in names else (names[0] if names else "")
    doc_clusters, users, contexts = [], [], []
    for c in clusters:
        entry: dict = {"server": c.server}
        if c.ca_pem and c.server and c.server.startswith("https"):
            entry["certificate-authority-data"] = base64.b64encode(c.ca_pem.encode()).decode()
        doc_clusters.append({"name": c.name, "cluster": entry})
        users.append({"name": c.name, "user": {"token": c.token}})
        contexts.append({"name": c.name, "context": {"cluster": c.name, "user": c.name}})
    return {"apiVersion": "v1", "kind": "Config", "clusters": doc_clusters, "contexts": contexts,
            "current-context": current, "preferences": {}, "users": users}


def write_kubeconfig(home: Home | Path | str | None = None) -> Path:
    """Rewrite the kubeconfig with one context per running cluster (mode 0600)."""
    h = _home(home)
    running = [i for i in (info(h, name) for name in h.cluster_names()) if i.running and i.server]
    running.sort(key=lambda i: (i.name != DEFAULT_CLUSTER, i.name))
    doc = kubeconfig_document(running)
    path = h.kubeconfig
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".kubeconfig.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


# --- up / down ------------------------------------------------------------------------------

def _locked(paths: ClusterPaths):
    return file_lock(paths.root / "lifecycle.lock")


def _ensure_token(paths: ClusterPaths) -> str:
    token = paths.read_token()
    if token:
        return token
    token = f"K10{secrets.token_hex(24)}::server:{secrets.token_hex(16)}"
    fd = os.open(paths.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def _log_tail(paths: ClusterPaths, lines: int = 15) -> str:
    try:
        return "\n".join(paths.log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _spawn(h: Home, paths: ClusterPaths, cluster: str, scale: float) -> int:
    try:
        paths.port_file.unlink()
    except FileNotFoundError:
        pass
    env = dict(os.environ, GITOPSLAB_HOME=str(h.root))
    log = open(paths.root / "daemon.out", "ab")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gitopslab.cluster.daemon", "--home", str(h.root), "--cluster", cluster,
             "--time-scale", repr(scale)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
            cwd=str(paths.root), env=env)
    finally:
        log.close()
    paths.pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def _wait_ready(paths: ClusterPaths, pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.005
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            raise LabError(f"le démon du cluster {paths.name} s'est arrêté au démarrage.\n"
                           f"Dernières lignes de {paths.log_file} :\n{_log_tail(paths)}")
        if paths.port_file.exists() and api_answers(paths):
            return
        time.sleep(delay)
        delay = min(delay * 1.5, 0.05)
    raise LabError(f"le cluster {paths.name} ne répond pas après {timeout:.0f} s.\n"
                   f"Dernières lignes de {paths.log_file} :\n{_log_tail(paths)}")


def up(home: Home | Path | str | None = None, cluster: str = DEFAULT_CLUSTER,
       time_scale: float | None = None, *, timeout: float = START_TIMEOUT, with_gitserver: bool = True) -> ClusterInfo:
    """Start (or reuse) ``cluster`` and return once its API answers.

    An explicit ``time_scale`` different from the running daemon's restarts it
    (state is kept); ``None`` keeps the current one (1 for a new cluster).
    """
    h = _home(home).ensure()
    if time_scale is not None and time_scale <= 0:
        raise LabError("le facteur de temps (--time-scale) doit être strictement positif")
    paths = h.cluster(cluster)
    with _locked(paths):
        pid = daemon_pid(paths)
        current_scale = _read_scale(paths)
        if pid and time_scale is not None and current_scale is not None and current_scale != time_scale:
            _stop_pid(paths, pid)
            pid = None
        if pid and not api_answers(paths, timeout=3.0):
            _wait_ready(paths, pid, timeout)
        if not pid:
            scale = time_scale if time_scale is not None else (current_scale or 1.0)
            paths.pods_dir.mkdir(parents=True, exist_ok=True)
            _ensure_token(paths)
            tls.ensure_certificate(paths)
            paths.time_scale_file.write_text(f"{scale}\n")
            h.assign_node_ip(cluster, in_use=nodeclaims.is_claimed)
            pid = _spawn(h, paths, cluster, scale)
            _wait_ready(paths, pid, timeout)
        write_kubeconfig(h)
    if with_gitserver:
        _call_gitserver("ensure_running", h)
    return info(h, cluster)


def _stop_pid(paths: ClusterPaths, pid: int, timeout: float = STOP_TIMEOUT) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            break
        time.sleep(0.02)
    else:
        try:
            os.kill(pid, signal.SIGKILL)
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        for _ in range(100):
            if not _pid_alive(pid):
                break
            time.sleep(0.02)
    _reap(pid)
    for f in (paths.pid_file, paths.port_file):
        try:
            f.unlink()
        except FileNotFoundError:
            pass


def _reap(pid: int) -> None:
    """Collect the exit status when the daemon was started by this very process."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    except OSError:
        pass


def down(home: Home | Path | str | None = None, cluster: str | None = DEFAULT_CLUSTER, *,
         all: bool = False) -> list[str]:
    """Stop one cluster (or all, with the lab Git server); returns the names stopped."""
    h = _home(home)
    names = h.cluster_names() if all else [cluster or DEFAULT_CLUSTER]
    stopped = []
    for name in names:
        paths = h.cluster(name)
        if not paths.root.exists():
            continue
        with _locked(paths):
            pid = daemon_pid(paths)
            if pid:
                _stop_pid(paths, pid)
                stopped.append(name)
            else:
                for f in (paths.pid_file, paths.port_file):
                    try:
                        f.unlink()
                    except FileNotFoundError:
                        pass
    if h.root.exists():
        write_kubeconfig(h)
    if all:
        _call_gitserver("stop", h)
    return stopped


def kill(home: Home | Path | str | None = None, cluster: str = DEFAULT_CLUSTER) -> None:
    """``kill -9`` the daemon (crash tests): no clean shutdown at all."""
    paths = _home(home).cluster(cluster)
    pid = daemon_pid(paths)
    if pid:
        os.kill(pid, signal.SIGKILL)
        for _ in range(200):
            _reap(pid)
            if not _pid_alive(pid):
                break
            time.sleep(0.01)


def status(home: Home | Path | str | None = None) -> list[ClusterInfo]:
    h = _home(home)
    return [info(h, name) for name in h.cluster_names()]


def _call_gitserver(func: str, home: Home) -> None:
    try:
        from gitopslab import gitserver
    except ImportError:
        return
    fn = getattr(gitserver, func, None)
    if fn is None:
        return
    try:
        fn(home)
    except Exception as e:  # noqa: BLE001 - the cluster works without the Git server
        print(f"Attention : serveur Git du labo indisponible ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})",
              file=sys.stderr)


def connection(home: Home | Path | str | None = None, cluster: str = DEFAULT_CLUSTER) -> dict:
    """What an API client needs: ``{"server", "token", "ca_pem"}`` (for HttpClient, cluster Secrets…)."""
    i = info(home, cluster)
    if not i.running:
        raise LabError(f"le cluster {cluster} n'est pas démarré (gitopslab lab up --cluster {cluster})")
    return {"server": i.server, "token": i.token, "ca_pem": i.ca_pem}


def as_json(infos: list[ClusterInfo]) -> str:
    return json.dumps([{"name": i.name, "running": i.running, "server": i.server, "pid": i.pid,
                        "timeScale": i.time_scale} for i in infos], indent=2)
