"""Real processes for images built from Python Dockerfiles.

The container's command runs under the image's Python (``Image.python``)
with cwd in the image's files, the container env, and the
``hook/sitecustomize.py`` injected so its sockets live on the pod IP and its
absolute paths see the volumes and image files (see that module).

A process never outlives the daemon: it is asked to die with its parent
(``PR_SET_PDEATHSIG``, also set in every Python child by the hook), and
stopping a container signals the whole process tree.

``resources.limits.memory`` is enforced as the memory cgroup would: the
resident memory of the process tree is sampled every
``MEMORY_CHECK_SECONDS`` (real time: memory grows at the program's pace,
not the lab clock's) and a tree above the limit is SIGKILLed and reported
as ``Exit(137, "OOMKilled")``.
"""
from __future__ import annotations

import asyncio
import ctypes
import json
import os
import shutil
import signal
from pathlib import Path

from gitopslab.cluster.runtime.container import (OOM_EXIT_CODE, OOM_KILLED, Container, ContainerConfig, Exit,
                                                 StartError)
from gitopslab.cluster.runtime.network import LOW_PORT_OFFSET

HOOK_DIR = Path(__file__).parent / "hook"
PR_SET_PDEATHSIG = 1
PYTHON_NAMES = {"python", "python3"}
MEMORY_CHECK_SECONDS = 0.05


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def exit_code_of(returncode: int) -> int:
    """A shell-style exit code: killed by signal N -> 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def is_python_name(name: str) -> bool:
    base = os.path.basename(name)
    return base in PYTHON_NAMES or (base.startswith("python3.") and base[8:].replace(".", "").isdigit())


class PathView:
    """How container paths map to host paths for one container (mounts, image files, /tmp)."""

    def __init__(self, rootfs: Path | None, mounts: list[tuple[str, Path]]):
        self.rootfs = Path(rootfs) if rootfs else None
        self.mounts = sorted(((m.rstrip("/") or "/", Path(h)) for m, h in mounts), key=lambda x: -len(x[0]))

    def host(self, path: str, *, must_exist: bool = True) -> Path | None:
        for prefix, host in self.mounts:
            if path == prefix or path.startswith(prefix + "/"):
                return host / path[len(prefix):].lstrip("/")
        if self.rootfs is not None:
            candidate = self.rootfs / path.lstrip("/")
            if not must_exist or candidate.exists():
                return candidate
        return None

    def as_env(self) -> str:
        return json.dumps([[m, str(h)] for m, h in self.mounts])


def resolve_executable(argv0: str, python: Path | None, view: PathView, cwd: Path, path_env: str) -> str:
    if is_python_name(argv0) and python:
        return str(python)
    if "/" not in argv0:
        if python:
            sibling = Path(python).parent / argv0
            if sibling.exists():
                return str(sibling)
        found = shutil.which(argv0, path=path_env)
        if found:
            return found
    elif argv0.startswith("/"):
        mapped = view.host(argv0)
        if mapped is not None and mapped.exists():
            return str(mapped)
        if python and is_python_name(argv0):
            return str(python)
        if os.path.exists(argv0):
            return argv0
    else:
        local = cwd / argv0
        if local.exists():
            return str(local)
    raise StartError(
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
        "runc create failed: unable to start container process: error during container init: "
        f'exec: "{argv0}": executable file not found in $PATH: unknown')


class ProcessContainer(Container):
    def __init__(self, config: ContainerConfig):
        super().__init__(config)
        self.proc: asyncio.subprocess.Process | None = None
        self._readers: list[asyncio.Task] = []
        self._memory_watch: asyncio.Task | None = None
        self.oom_killed = False
        self._exit: Exit | None = None
        image = config.image
        self.python = Path(image.python) if getattr(image, "python", None) else None
        rootfs = getattr(image, "rootfs", None)
        tmp = config.pod_dir / "containers" / config.name / "tmp"
        mounts = [(m.mount_path, m.host_path) for m in config.mounts] + [("/tmp", tmp)]
        self.view = PathView(rootfs, mounts)
        self.tmp = tmp

    # --- environment ------------------------------------------------------
    def _workdir(self) -> Path:
        wd = self.config.working_dir or getattr(self.config.image, "workdir", None) or "/"
        host = self.view.host(wd, must_exist=False) or self.config.pod_dir
        host.mkdir(parents=True, exist_ok=True)
        return host

    def _env(self) -> dict[str, str]:
        cfg = self.config
        env = dict(cfg.env)
        home = cfg.pod_dir / "containers" / cfg.name / "home"
        home.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        host_path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
        venv_bin = str(self.python.parent) if self.python else ""
        env["PATH"] = os.pathsep.join(p for p in (venv_bin, host_path) if p)
        env.setdefault("HOSTNAME", cfg.pod_name)
        env["HOME"] = str(home)
        env["TMPDIR"] = str(self.tmp)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        image_pp = [str(self.view.host(p, must_exist=False) or p) for p in env.get("PYTHONPATH", "").split(":") if p]
        env["PYTHONPATH"] = os.pathsep.join([str(HOOK_DIR)] + image_pp)
        env.update({
            "GITOPSLAB_POD_IP": cfg.pod_ip,
            "GITOPSLAB_PORT_OFFSET": str(LOW_PORT_OFFSET),
            "GITOPSLAB_NAMESPACE": cfg.namespace,
            "GITOPSLAB_HOSTNAME": cfg.env.get("HOSTNAME") or cfg.pod_name,
            "GITOPSLAB_ROOTFS": str(self.view.rootfs or ""),
            "GITOPSLAB_PATH_MAP": self.view.as_env(),
            # host paths the process already uses as they are (its interpreter's environment,
            # the image files, the pod's folder): never mapped again, even when the lab lives under /tmp
            "GITOPSLAB_HOST_PATHS": json.dumps([p for p in (
                str(self.python.parent.parent) if self.python else "", str(self.view.rootfs or ""),
                str(cfg.pod_dir)) if p]),
            "GITOPSLAB_SERVICES": str(cfg.services_file or ""),
            "GITOPSLAB_PDEATHSIG": "1",
        })
        return env

    def _argv(self, argv: list[str], env: dict[str, str], cwd: Path) -> list[str]:
        if not argv:
            raise StartError("failed to create containerd task: failed to create shim task: OCI runtime create "
                             "failed: runc create failed: unable to start container process: error during "
                             "container init: no command specified: unknown")
        exe = resolve_executable(argv[0], self.python, self.view, cwd, env["PATH"])
        rest = []
        for arg in argv[1:]:
            mapped = self.view.host(arg) if arg.startswith("/") else None
            rest.append(str(mapped) if mapped is not None else arg)
        return [exe] + rest

    # --- lifecycle --------------------------------------------------------
    async def start(self) -> None:
        env = self._env()
        cwd = self._workdir()
        argv = self._argv(self.config.argv, env, cwd)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *argv, env=env, cwd=str(cwd), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                preexec_fn=_die_with_parent)
        except OSError as e:
            raise StartError(f"failed to create containerd task: failed to create shim task: OCI runtime create "
                             f"failed: runc create failed: unable to start container process: error during "
                             f"container init: exec: \"{self.config.argv[0]}\": {e.strerror}: unknown") from e
        self._readers = [asyncio.create_task(self._pump(self.proc.stdout, "stdout")),
                         asyncio.create_task(self._pump(self.proc.stderr, "stderr"))]
        if self.config.memory_limit is not None:
            self._memory_watch = asyncio.create_task(self._enforce_memory_limit(self.config.memory_limit))

    def tree_rss(self) -> int:
        """Resident bytes of the container's processes (0 once they are gone)."""
        import psutil

        total = 0
        try:
            root = psutil.Process(self.proc.pid)
            members = [root] + root.children(recursive=True)
        except psutil.Error:
            return 0
        for member in members:
            try:
                total += member.memory_info().rss
            except psutil.Error:
                pass
        return total

    async def _enforce_memory_limit(self, limit: int) -> None:
        while self.running:
            if self.tree_rss() > limit:
                self.oom_killed = True
                self._signal(signal.SIGKILL, self._tree())
                return
            await asyncio.sleep(MEMORY_CHECK_SECONDS)

    async def _pump(self, stream: asyncio.StreamReader, name: str) -> None:
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # a line longer than the buffer: take what is there
                line = await stream.read(65536)
            if not line:
                return
            self.config.log(name, line.decode("utf-8", "replace").rstrip("\n"))

    async def wait(self) -> Exit:
        if self._exit is not None:
            return self._exit
        assert self.proc is not None
        code = await self.proc.wait()
        if self._memory_watch is not None:
            self._memory_watch.cancel()
        if self._readers:
            await asyncio.wait(self._readers, timeout=2)
        if self._exit is None:
            self._exit = Exit(OOM_EXIT_CODE, OOM_KILLED) if self.oom_killed else Exit(exit_code_of(code))
        return self._exit

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def _tree(self) -> list[int]:
        try:
            import psutil
            return [c.pid for c in psutil.Process(self.proc.pid).children(recursive=True)]
        except Exception:  # noqa: BLE001 - gone already, or psutil missing
            return []

    def _signal(self, sig: int, pids: list[int]) -> None:
        for pid in [self.proc.pid] + pids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    async def stop(self, grace_seconds: float) -> Exit:
        if self.proc is None:
            return Exit(0)
        if self.running:
            self._signal(signal.SIGTERM, [])
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=self.config.clock.delay(grace_seconds))
            except asyncio.TimeoutError:
                pass
        # the direct child may be gone while its children still run
        tree = self._tree()
        if self.running or tree:
            self._signal(signal.SIGKILL, tree)
        return await self.wait()

    def kill_now(self) -> None:
        """Synchronous last resort (daemon shutting down)."""
        if self.proc is not None:
            self._signal(signal.SIGKILL, self._tree())

    async def exec(self, argv: list[str], timeout: float | None) -> tuple[int, str]:
        env = self._env()
        cwd = self._workdir()
        try:
            full = self._argv(argv, env, cwd)
        except StartError as e:
            return 126, str(e)
        proc = await asyncio.create_subprocess_exec(
            *full, env=env, cwd=str(cwd), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, preexec_fn=_die_with_parent)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=timeout)
        except (asyncio.TimeoutError, asyncio.CancelledError):  # timed out, or a hook abandoned with its container
            proc.kill()
            await proc.wait()
            raise
        return exit_code_of(proc.returncode), out.decode("utf-8", "replace")
