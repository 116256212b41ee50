"""Containers of a job's Docker engine (``docker run/ps/stop/rm/logs``).

A container is a small process (``python -m gitopslab.ci.container DIR``)
that runs the image with the lab's container runtime — the nginx model for
nginx-based images, a real process for images built from Python
Dockerfiles — on a loopback address of its own (127.43.0.0/16), and
forwards each published port (``-p 8080:80``) from the job's address.
Its state lives in ``<machine>/docker/containers/<name>/``: ``config.json``,
``pid``, ``log`` and ``exit`` once it stopped. Docker's messages are kept.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from gitopslab.ci.machine import CONTAINER_NETWORK, allocate_address
from gitopslab.home import Home
from gitopslab import processes

START_TIMEOUT = 20.0
STOP_GRACE = 10.0


class EngineError(Exception):
    pass


@dataclass
class PortBinding:
    host_ip: str
    host_port: int
    container_port: int

    @classmethod
    def parse(cls, spec: str, default_ip: str) -> "PortBinding":
        parts = spec.split("/")[0].split(":")
        try:
            if len(parts) == 1:
                return cls(default_ip, int(parts[0]), int(parts[0]))
            if len(parts) == 2:
                return cls(default_ip, int(parts[0]), int(parts[1]))
            return cls(default_ip, int(parts[1]), int(parts[2]))
        except ValueError:
            raise EngineError(f'docker: invalid containerPort: {parts[-1]}.\nSee \'docker run --help\'.') from None


def containers_dir(machine_root: Path) -> Path:
    return machine_root / "docker" / "containers"


def _records(machine_root: Path) -> list[tuple[Path, dict]]:
    root = containers_dir(machine_root)
    found = []
    if root.is_dir():
        for d in sorted(root.iterdir()):
            try:
                found.append((d, json.loads((d / "config.json").read_text())))
            except (OSError, ValueError):
                continue
    return found


def find(machine_root: Path, ref: str) -> tuple[Path, dict] | None:
    for d, config in _records(machine_root):
        if ref in (config["name"], config["id"]) or (len(ref) >= 3 and config["id"].startswith(ref)):
            return d, config
    return None


def _pid(d: Path) -> int | None:
    try:
        return int((d / "pid").read_text())
    except (OSError, ValueError):
        return None


def running(d: Path) -> bool:
    pid = _pid(d)
    if not pid or (d / "exit").exists():
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def run(home: Home, machine_root: Path, *, image: str, name: str | None, ports: list[str], env: dict[str, str],
        command: list[str], runner_ip: str) -> str:
    """Create and start a container; returns its id once it runs (or raises with Docker's message)."""
    from gitopslab.registry.refs import familiar, normalize_ref
    from gitopslab.registry.store import ImageStore

    store = ImageStore(home)
    try:
        normalized = normalize_ref(image)
    except Exception:  # noqa: BLE001 - Docker's wording for any bad reference
        raise EngineError('docker: invalid reference format.\nSee \'docker run --help\'.') from None
    if store.local_digest(normalized) is None:
        if store.remote_digest(normalized) is None:
            name_only = familiar(normalized).rsplit(":", 1)[0]
            raise EngineError(f"Unable to find image '{familiar(normalized)}' locally\n"
                              f"docker: Error response from daemon: pull access denied for {name_only}, repository "
                              "does not exist or may require 'docker login': denied: requested access to the "
                              "resource is denied.\nSee 'docker run --help'.")
    container_id = secrets.token_hex(32)
    name = name or _random_name()
    existing = find(machine_root, name)
    if existing:
        raise EngineError(f'docker: Error response from daemon: Conflict. The container name "/{name}" is already '
                          f'in use by container "{existing[1]["id"]}". You have to remove (or rename) that '
                          "container to be able to reuse that name.\nSee 'docker run --help'.")
    bindings = [PortBinding.parse(p, runner_ip) for p in ports]
    d = containers_dir(machine_root) / name
    d.mkdir(parents=True)
    config = {"id": container_id, "name": name, "image": normalized, "shown_image": image,
              "ip": allocate_address(home, CONTAINER_NETWORK), "env": env, "command": command,
              "ports": [b.__dict__ for b in bindings], "created": time.time()}
    (d / "config.json").write_text(json.dumps(config, indent=1))
    log = open(d / "daemon.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "gitopslab.ci.container", str(d)], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, env=dict(os.environ, GITOPSLAB_HOME=str(home.root)),
                            close_fds=True)
    log.close()
    (d / "pid").write_text(str(proc.pid))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if (d / "ready").exists():
            return container_id
        if (d / "failed").exists() or proc.poll() is not None:
            time.sleep(0.05)
            message = (d / "failed").read_text() if (d / "failed").exists() else "container exited"
            raise EngineError(message.strip())
        time.sleep(0.02)
    raise EngineError(f"docker: Error response from daemon: le conteneur {name} n'a pas démarré en "
                      f"{START_TIMEOUT:.0f} s.")


def stop(machine_root: Path, ref: str, *, grace: float = STOP_GRACE) -> str:
    found = find(machine_root, ref)
    if not found:
        raise EngineError(f"Error response from daemon: No such container: {ref}")
    d, _ = found
    pid = _pid(d)
    if pid and running(d):
        processes.terminate(pid, lambda: running(d), grace)
        _reap(pid)
    return ref


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


def remove(machine_root: Path, ref: str, *, force: bool = False) -> str:
    found = find(machine_root, ref)
    if not found:
        raise EngineError(f"Error response from daemon: No such container: {ref}")
    d, config = found
    if running(d):
        if not force:
            raise EngineError(f"Error response from daemon: cannot remove container \"/{config['name']}\": "
                              "container is running: stop the container before removing or force remove")
        stop(machine_root, ref, grace=0)
    import shutil

    shutil.rmtree(d, ignore_errors=True)
    return ref


def logs(machine_root: Path, ref: str) -> str:
    found = find(machine_root, ref)
    if not found:
        raise EngineError(f"Error response from daemon: No such container: {ref}")
    try:
        return (found[0] / "log").read_text(errors="replace")
    except OSError:
        return ""


def list_containers(machine_root: Path, *, all: bool = False) -> list[dict]:
    rows = []
    for d, config in _records(machine_root):
        is_running = running(d)
        if not is_running and not all:
            continue
        exit_code = (d / "exit").read_text().strip() if (d / "exit").exists() else "0"
        rows.append({**config, "running": is_running, "exit_code": exit_code})
    return rows


def stop_all(machine) -> list[str]:
    """Stop every running container of a job's machine (the VM is destroyed after the job)."""
    root = Path(getattr(machine, "root", machine))
    stopped = []
    for d, config in _records(root):
        if running(d):
            stop(root, config["name"], grace=2.0)
            stopped.append(config["name"])
    return stopped


_ADJECTIVES = ("admiring", "brave", "eager", "focused", "gallant", "happy", "jolly", "nifty", "quirky", "sharp")
_NAMES = ("babbage", "curie", "euler", "hopper", "lovelace", "noether", "pascal", "ritchie", "turing", "wozniak")


def _random_name() -> str:
    return f"{secrets.choice(_ADJECTIVES)}_{secrets.choice(_NAMES)}"
