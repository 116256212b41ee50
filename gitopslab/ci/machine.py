"""A job's runner machine: its folders, its environment and its command shims.

On GitHub each job gets a fresh virtual machine. In the lab a job gets a
folder (``work/<job>/`` of its run) holding the workspace
(``_work/REPO/REPO``), ``_temp``, a ``home`` with its own global Git config
(so ``git config --global`` in a step never touches the learner's), a Docker
client config, and a loopback address of its own (127.44.0.0/16) where its
containers publish ports. Shims placed first on ``PATH``:

- ``docker``: the Docker CLI against the lab registry (``gitopslab.ci.docker_cli``);
- ``curl``: the real curl, with ``localhost`` meaning the job's own address
  (``--connect-to``), so ``curl http://localhost:8080`` reaches the container
  published on 8080 of this job and never another job's;
- ``sleep``: divided by the lab's time scale (``GITOPSLAB_TIME_SCALE``).
"""
from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from gitopslab.home import Home

RUNNER_NETWORK = ipaddress.ip_network("127.44.0.0/16")
CONTAINER_NETWORK = ipaddress.ip_network("127.43.0.0/16")
RUNNER_VERSION = "2.328.0"
IMAGE_OS = "ubuntu24"
IMAGE_VERSION = "20250907.1.0"


def allocate_address(home: Home, network: ipaddress.IPv4Network) -> str:
    """The next free-looking address of ``network`` (round robin, shared by every run of the home)."""
    state = home.root / "ci" / "addresses.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    with open(state.with_suffix(".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            data = json.loads(state.read_text())
        except (OSError, ValueError):
            data = {}
        size = network.num_addresses - 3
        last = int(data.get(str(network), 0))
        nxt = last % size + 1
        data[str(network)] = nxt
        state.write_text(json.dumps(data))
        fcntl.flock(handle, fcntl.LOCK_UN)
    return str(network.network_address + 1 + nxt)


def time_scale() -> float:
    try:
        scale = float(os.environ.get("GITOPSLAB_TIME_SCALE") or 1)
    except ValueError:
        return 1.0
    return scale if scale > 0 else 1.0


@dataclass
class Machine:
    root: Path
    repository: str
    runner_ip: str

    @property
    def workspace(self) -> Path:
        name = self.repository.split("/")[-1]
        return self.root / "_work" / name / name

    @property
    def temp(self) -> Path:
        return self.root / "_work" / "_temp"

    @property
    def home_dir(self) -> Path:
        return self.root / "home"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def docker_config(self) -> Path:
        return self.root / "docker"

    @property
    def containers(self) -> Path:
        return self.root / "docker" / "containers"

    @property
    def gitconfig(self) -> Path:
        # Not ~/.gitconfig: the lab config it includes itself includes ~/.gitconfig.
        return self.root / "gitconfig"

    def provision(self, home: Home) -> None:
        for d in (self.workspace, self.temp, self.home_dir, self.bin, self.containers):
            d.mkdir(parents=True, exist_ok=True)
        lab_config = home.gitconfig
        self.gitconfig.write_text(f"[include]\n\tpath = {lab_config}\n" if lab_config.exists() else "")
        self._shim("docker", f'exec "{sys.executable}" -m gitopslab.ci.docker_cli "$@"\n')
        curl = _real("curl")
        if curl:
            self._shim("curl", f'exec "{curl}" --connect-to "localhost::{self.runner_ip}:" '
                               f'--connect-to "127.0.0.1::{self.runner_ip}:" "$@"\n')
        sleep = _real("sleep")
        if sleep and time_scale() != 1:
            self._shim("sleep", 'args=""\nfor a in "$@"; do\n'
                                '  case "$a" in\n'
                                f'    *[!0-9.]*) args="$args $a" ;;\n'
                                f'    *) args="$args $(awk "BEGIN {{print $a / {time_scale()}}}")" ;;\n'
                                '  esac\ndone\n'
                                f'exec "{sleep}" $args\n')

    def _shim(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text("#!/bin/sh\n# gitopslab: commande du runner du labo\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def environment(self, home: Home) -> dict[str, str]:
        """The process environment every step starts from (before ``env:`` and ``GITHUB_ENV``)."""
        keep = {k: v for k, v in os.environ.items()
                if k in ("PATH", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "SHELL", "TERM", "VIRTUAL_ENV")
                or k.startswith("GITOPSLAB_")}
        keep.update({
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.home_dir),
            "GIT_CONFIG_GLOBAL": str(self.gitconfig),
            "GIT_TERMINAL_PROMPT": "0",
            "DOCKER_CONFIG": str(self.docker_config),
            "GITOPSLAB_HOME": str(home.root),
            "GITOPSLAB_CI_MACHINE": str(self.root),
            "GITOPSLAB_CI_RUNNER_IP": self.runner_ip,
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_NAME": "GitHub Actions 1000000001",
            "RUNNER_ENVIRONMENT": "github-hosted",
            "RUNNER_TEMP": str(self.temp),
            "RUNNER_TOOL_CACHE": str(self.root / "hostedtoolcache"),
            "RUNNER_WORKSPACE": str(self.workspace.parent),
            "ImageOS": IMAGE_OS,
            "ImageVersion": IMAGE_VERSION,
            "CI": "true",
            "GITHUB_ACTIONS": "true",
        })
        return keep


def _real(name: str) -> str | None:
    for candidate in (f"/usr/bin/{name}", f"/bin/{name}"):
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)
