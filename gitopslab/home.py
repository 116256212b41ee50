"""GITOPSLAB_HOME layout, ports and the lab clock.

Everything a lab owns lives under one home folder (default ``~/.gitopslab``);
two homes share nothing, so two labs can run side by side.

Layout::

    $GITOPSLAB_HOME/
      kubeconfig                 one context per cluster (mode 0600)
      clusters/<name>/           one folder per cluster daemon
        store.db                 SQLite object store (WAL)
        daemon.pid daemon.port daemon.token daemon.log  time-scale
        pods/<ns>_<pod>/         per-pod runtime files (volumes, logs)
      git/                       lab Git server (bare repos, token, pid, port)
      registry/                  lab image registry
      gitconfig                  Git config for the lab's processes and notebooks
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

DEFAULT_CLUSTER = "prod"
DEFAULT_NODE_IP = "127.0.0.1"


def home_dir() -> Path:
    return Path(os.environ.get("GITOPSLAB_HOME") or Path.home() / ".gitopslab").expanduser()


@dataclass(frozen=True)
class ClusterPaths:
    """Files of one cluster daemon inside a home."""

    root: Path

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def store(self) -> Path:
        return self.root / "store.db"

    @property
    def pid_file(self) -> Path:
        return self.root / "daemon.pid"

    @property
    def port_file(self) -> Path:
        return self.root / "daemon.port"

    @property
    def token_file(self) -> Path:
        return self.root / "daemon.token"

    @property
    def log_file(self) -> Path:
        return self.root / "daemon.log"

    @property
    def time_scale_file(self) -> Path:
        return self.root / "time-scale"

    @property
    def pods_dir(self) -> Path:
        return self.root / "pods"

    @property
    def node_ip_file(self) -> Path:
        return self.root / "node-ip"

    def node_ip(self) -> str:
        """The node's InternalIP: where its NodePorts listen (127.0.0.1 unless assigned otherwise)."""
        try:
            return self.node_ip_file.read_text().strip() or DEFAULT_NODE_IP
        except OSError:
            return DEFAULT_NODE_IP

    def read_port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def read_token(self) -> str | None:
        try:
            return self.token_file.read_text().strip() or None
        except OSError:
            return None

    def read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def current(cls) -> "Home":
        return cls(home_dir())

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def clusters_dir(self) -> Path:
        return self.root / "clusters"

    def cluster(self, name: str = DEFAULT_CLUSTER) -> ClusterPaths:
        return ClusterPaths(self.clusters_dir / name)

    def cluster_names(self) -> list[str]:
        if not self.clusters_dir.is_dir():
            return []
        return sorted(p.name for p in self.clusters_dir.iterdir() if p.is_dir())

    @property
    def git_dir(self) -> Path:
        return self.root / "git"

    @property
    def registry_dir(self) -> Path:
        return self.root / "registry"

    @property
    def gitconfig(self) -> Path:
        return self.root / "gitconfig"

    def assign_node_ip(self, name: str, in_use: Callable[[str], bool] = lambda ip: False) -> str:
        """Give cluster ``name`` a loopback address of its own for its node, and keep it.

        Each cluster is a separate "machine": two clusters (prod and staging, two
        graded submissions, or the labs of two homes) must not both listen on the
        same NodePort. The first cluster gets GITOPSLAB_NODE_IP (default 127.0.0.1),
        the next ones the following addresses of 127/8. ``in_use(ip)`` tells
        whether another running lab serves on an address; the cluster then moves
        to the next free one (as a laptop gets a new address on another network).
        """
        paths = self.cluster(name)
        if paths.node_ip_file.exists() and not in_use(paths.node_ip()):
            return paths.node_ip()
        taken = {self.cluster(other).node_ip() for other in self.cluster_names()
                 if other != name and self.cluster(other).node_ip_file.exists()}
        ip = ipaddress.IPv4Address(os.environ.get("GITOPSLAB_NODE_IP") or DEFAULT_NODE_IP)
        while str(ip) in taken or in_use(str(ip)):
            ip += 1
        paths.root.mkdir(parents=True, exist_ok=True)
        paths.node_ip_file.write_text(str(ip) + "\n")
        return str(ip)

    def ensure(self) -> "Home":
        self.root.mkdir(parents=True, exist_ok=True)
        return self


class LabClock:
    """The lab clock: real time, with every controller delay divided by ``scale``.

    Messages keep real values (a probe period of 10 s is reported as 10 s);
    only the waiting is shortened. ``delay(seconds)`` converts a real-world
    delay into how long the lab actually sleeps.
    """

    def __init__(self, scale: float = 1.0):
        if scale <= 0:
            raise ValueError("time scale must be > 0")
        self.scale = float(scale)

    def delay(self, seconds: float) -> float:
        return seconds / self.scale

    async def sleep(self, seconds: float) -> None:
        import asyncio

        await asyncio.sleep(self.delay(seconds))
