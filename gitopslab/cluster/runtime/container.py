"""What the kubelet asks of the container runtime, and what a container is.

The kubelet resolves everything Kubernetes decides (env, mounts, command
and args, pod IP) into a ``ContainerConfig``; the runtime turns it into a
``Container``: a modelled image (an asyncio task with sockets on the pod
IP) or a real process (images built from Python Dockerfiles). Both report
exits the same way, so the kubelet does not care which one it runs.
"""
from __future__ import annotations

import abc
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gitopslab.home import LabClock

LogFn = Callable[[str, str], None]  # (stream, text)

#: containerd's exit reason for a container its cgroup's OOM killer ended (exit code 137, SIGKILL)
OOM_KILLED = "OOMKilled"
OOM_EXIT_CODE = 137


class StartError(Exception):
    """The runtime could not start the container (RunContainerError / StartError)."""


@dataclass
class Mount:
    mount_path: str     # path inside the container, e.g. /etc/config
    host_path: Path     # where the files really are
    read_only: bool = False


@dataclass
class ContainerConfig:
    name: str
    pod_name: str
    namespace: str
    pod_uid: str
    pod_ip: str
    image: Any                      # gitopslab.registry.store.Image
    command: list[str] | None       # the pod's command (None: image entrypoint)
    args: list[str] | None          # the pod's args (None: image cmd, unless command is set)
    env: dict[str, str]             # image env + pod env, already merged
    working_dir: str | None
    ports: list[dict]
    mounts: list[Mount]
    pod_dir: Path
    log: LogFn
    clock: LabClock
    services: Any = None            # runtime.services.ServiceDirectory, for in-cluster names
    services_file: Path | None = None
    memory_limit: int | None = None  # resources.limits.memory in bytes (the cgroup's memory.max); None: no limit
    extras: dict = field(default_factory=dict)

    @property
    def argv(self) -> list[str]:
        return container_argv(getattr(self.image, "entrypoint", None) or [],
                              getattr(self.image, "cmd", None) or [], self.command, self.args)


@dataclass
class Exit:
    code: int
    reason: str = ""        # Completed / Error / OOMKilled; derived from code when empty
    message: str = ""

    def __post_init__(self):
        if not self.reason:
            self.reason = "Completed" if self.code == 0 else "Error"


def container_argv(entrypoint: list[str], cmd: list[str], command: list[str] | None,
                   args: list[str] | None) -> list[str]:
    """Kubernetes' rule: command replaces ENTRYPOINT (and drops CMD), args replace CMD."""
    if command:
        return list(command) + list(args or [])
    if args is not None and args != []:
        return list(entrypoint) + list(args)
    return list(entrypoint) + list(cmd)


def new_container_id() -> str:
    return secrets.token_hex(32)


class Container(abc.ABC):
    """One run of a container; a restart is a new ``Container``."""

    def __init__(self, config: ContainerConfig):
        self.config = config
        self.container_id = new_container_id()

    @abc.abstractmethod
    async def start(self) -> None:
        """Start it; raise ``StartError`` if it cannot run at all."""

    @abc.abstractmethod
    async def wait(self) -> Exit:
        """Wait until it exits."""

    @abc.abstractmethod
    async def stop(self, grace_seconds: float) -> Exit:
        """SIGTERM, then SIGKILL after ``grace_seconds`` (lab seconds); the exit."""

    @abc.abstractmethod
    async def exec(self, argv: list[str], timeout: float | None) -> tuple[int, str]:
        """Run a command in the container (exec probes, hooks); exit code and output (None: no timeout)."""

    @property
    @abc.abstractmethod
    def running(self) -> bool: ...
