"""Modelled containers: an image's behaviour as an asyncio task, not a process.

A ``Model`` subclass says what its image does: which ports it listens on
(on the pod IP, low ports mapped by ``target_port``), how long it takes to
start (lab clock), what it logs and serves, how it answers exec probes and
how it reacts to SIGTERM, and how much memory it holds (``memory_bytes``,
figures in ``footprints``). ``ModelContainer`` runs one model as a
container; under a memory limit below that footprint, the container is
OOMKilled ``OOM_KILL_AFTER_SECONDS`` after its start.
"""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Awaitable, Callable

from gitopslab.cluster.runtime.container import OOM_EXIT_CODE, OOM_KILLED, Container, ContainerConfig, Exit
from gitopslab.cluster.runtime.models import footprints
from gitopslab.cluster.runtime.models.http import Handler, Observer, serve_http
from gitopslab.cluster.runtime.network import target_port

log = logging.getLogger(__name__)

OOM_KILL_AFTER_SECONDS = 0.5   # lab seconds from the start to the kill of a program over its limit


class Model:
    """Base behaviour: subclasses implement ``run`` (the container's main)."""

    #: exit code when SIGTERM is handled (nginx, postgres and redis exit 0)
    term_exit_code = 0
    #: PID 1 without a SIGTERM handler (sh, sleep): only SIGKILL stops it
    ignores_sigterm = False
    #: resident memory once started, in bytes (see ``footprints``)
    memory_bytes = footprints.GENERIC

    def __init__(self, config: ContainerConfig, argv: list[str]):
        self.config = config
        self.argv = argv
        self.env = config.env
        self.servers: list[asyncio.AbstractServer] = []
        self.terminating = False

    # --- helpers for subclasses -------------------------------------------
    def log(self, text: str, stream: str = "stdout") -> None:
        self.config.log(stream, text)

    async def sleep(self, seconds: float) -> None:
        await self.config.clock.sleep(seconds)

    async def listen_http(self, port: int, handler: Handler, *, server_header: str = "",
                          observe: Observer | None = None) -> None:
        server = await serve_http(self.config.pod_ip, target_port(port), handler,
                                  server_header=server_header, observe=observe)
        self.servers.append(server)

    async def listen_tcp(self, port: int, on_client: Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                                                Awaitable[None]]) -> None:
        server = await asyncio.start_server(on_client, self.config.pod_ip, target_port(port), reuse_address=True)
        self.servers.append(server)

    def path(self, container_path: str) -> Path | None:
        """The host path behind a container path: a volume, or the image's files."""
        for m in sorted(self.config.mounts, key=lambda m: -len(m.mount_path)):
            prefix = m.mount_path.rstrip("/")
            if container_path == prefix or container_path.startswith(prefix + "/"):
                return Path(m.host_path) / container_path[len(prefix):].lstrip("/")
        rootfs = getattr(self.config.image, "rootfs", None)
        if rootfs:
            candidate = Path(rootfs) / container_path.lstrip("/")
            if candidate.exists():
                return candidate
        return None

    async def forever(self) -> int:
        while True:
            await asyncio.sleep(3600)

    def close_servers(self) -> None:
        for s in self.servers:
            s.close()
        self.servers.clear()

    # --- behaviour ----------------------------------------------------------
    async def run(self) -> int:
        raise NotImplementedError

    async def on_term(self) -> int:
        """SIGTERM received: log what the program logs, return its exit code."""
        return self.term_exit_code

    async def exec(self, argv: list[str], timeout: float) -> tuple[int, str]:
        from gitopslab.cluster.runtime.models.shell import Shell

        return await Shell(self).run_argv(argv)


class ModelContainer(Container):
    def __init__(self, config: ContainerConfig, model_factory: Callable[[ContainerConfig, list[str]], Model]):
        super().__init__(config)
        self.model = model_factory(config, config.argv)
        self.task: asyncio.Task | None = None
        self._exit: Exit | None = None
        self.started_at = 0.0

    async def start(self) -> None:
        self.started_at = time.time()
        self.task = asyncio.create_task(self._main(), name=f"container {self.config.pod_name}/{self.config.name}")

    async def _main(self) -> Exit:
        try:
            if self.over_memory_limit():
                return await self._run_until_oom_killed()
            result = await self.model.run()
            return result if isinstance(result, Exit) else Exit(int(result or 0))
        except OSError as e:
            # e.g. the port is taken on the pod IP: the program would die with a bind error
            self.model.log(f"bind() failed: {e.strerror or e}", "stderr")
            return Exit(1)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a model bug is the container crashing, not the kubelet
            log.exception("model %s crashed", type(self.model).__name__)
            return Exit(2)
        finally:
            self.model.close_servers()

    def over_memory_limit(self) -> bool:
        limit = self.config.memory_limit
        return limit is not None and self.model.memory_bytes > limit

    async def _run_until_oom_killed(self) -> Exit:
        """The program starts, grows towards its footprint and the cgroup's OOM killer SIGKILLs it."""
        program = asyncio.create_task(self.model.run())
        done, _ = await asyncio.wait({program}, timeout=self.config.clock.delay(OOM_KILL_AFTER_SECONDS))
        if program in done:  # a short command can end before it holds that much
            result = program.result()
            return result if isinstance(result, Exit) else Exit(int(result or 0))
        program.cancel()
        return Exit(OOM_EXIT_CODE, OOM_KILLED)

    async def wait(self) -> Exit:
        if self._exit is None:
            assert self.task is not None
            try:
                result = await asyncio.shield(self.task)
            except asyncio.CancelledError:
                if not self.task.cancelled():
                    raise  # our waiter was cancelled, not the container
                result = Exit(137)
            # stop() may have recorded the exit the program reports for its stop signal
            self._exit = self._exit or result
        return self._exit

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def stop(self, grace_seconds: float) -> Exit:
        if self.task is None:
            return Exit(0)
        if self.task.done():
            return await self.wait()
        self.model.terminating = True
        if self.model.ignores_sigterm:
            done, _ = await asyncio.wait({self.task}, timeout=self.config.clock.delay(grace_seconds))
            if done:
                return await self.wait()
            self.task.cancel()
            self.model.close_servers()
            self._exit = Exit(137)
            return self._exit
        code = await self.model.on_term()
        self.task.cancel()
        self.model.close_servers()
        self._exit = Exit(code)
        return self._exit

    def kill_now(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.model.close_servers()

    async def exec(self, argv: list[str], timeout: float | None) -> tuple[int, str]:
        return await asyncio.wait_for(self.model.exec(argv, timeout), timeout)
