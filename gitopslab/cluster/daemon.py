"""The cluster daemon: ``python -m gitopslab.cluster.daemon --home H --cluster NAME --time-scale X``.

One process per cluster, started by ``lifecycle.up`` in its own session (so
it leads a process group holding every workload process). It opens the
store, seeds what k3s seeds, serves the API on 127.0.0.1 (TLS when the
cluster has a certificate), writes its port, then runs the components of
``components.COMPONENTS``. On SIGTERM it cancels them, closes the store,
and terminates whatever is left in its process group.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path

from aiohttp import web

from gitopslab.cluster import bootstrap, nodeclaims, tls
from gitopslab.cluster.apiserver.app import create_app
from gitopslab.cluster.context import DaemonContext
from gitopslab.cluster.inprocess import InProcessClient
from gitopslab.cluster.kinds import KindRegistry
from gitopslab.cluster.registry import Registry
from gitopslab.cluster.store import Store
from gitopslab.cluster.webhooks import WebhookHub
from gitopslab.home import ClusterPaths, Home, LabClock

log = logging.getLogger("gitopslab.daemon")

RESTART_DELAY = 2.0
MAX_RESTART_DELAY = 30.0


def node_name_for(cluster: str) -> str:
    return f"{cluster}-control-plane"


def _bind(preferred: int | None) -> socket.socket:
    """A listening socket on 127.0.0.1, on the previous port when it is free."""
    for port in ([preferred] if preferred else []) + [0]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        sock.listen(128)
        sock.setblocking(False)
        return sock
    raise RuntimeError("no free port on 127.0.0.1")


def _write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    os.replace(tmp, path)


async def run_component(spec: str, ctx: DaemonContext) -> None:
    """Run one component forever: skip it if its module is missing, restart it when it crashes."""
    module_name, _, func_name = spec.partition(":")
    delay = RESTART_DELAY
    while True:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name and (module_name == e.name or module_name.startswith(e.name + ".")):
                log.info("component %s not available (%s): skipped", spec, e)
                return
            log.exception("component %s cannot be imported", spec)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RESTART_DELAY)
            continue
        except Exception:  # noqa: BLE001
            log.exception("component %s cannot be imported", spec)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RESTART_DELAY)
            continue
        run = getattr(module, func_name or "run", None)
        if run is None:
            log.error("component %s: no function %s", spec, func_name)
            return
        started = time.monotonic()
        try:
            log.info("component %s starting", spec)
            await run(ctx)
            log.info("component %s returned", spec)
            return
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a component never takes the daemon down
            log.exception("component %s crashed; restarting in %.0f s", spec, delay)
        if time.monotonic() - started > 60:
            delay = RESTART_DELAY
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_RESTART_DELAY)


def _component_specs() -> list[str]:
    override = os.environ.get("GITOPSLAB_COMPONENTS")
    if override is not None:
        return [s for s in override.split(",") if s.strip()]
    from gitopslab.cluster.components import COMPONENTS
    return list(COMPONENTS)


class Daemon:
    def __init__(self, home: Home, cluster: str, time_scale: float):
        self.home = home
        self.cluster = cluster
        self.paths: ClusterPaths = home.cluster(cluster)
        self.clock = LabClock(time_scale)
        self.store: Store | None = None
        self.runner: web.AppRunner | None = None
        self.tasks: list[asyncio.Task] = []
        self.stopping = asyncio.Event()
        self.node_claim: int | None = None

    async def start(self) -> None:
        paths = self.paths
        paths.root.mkdir(parents=True, exist_ok=True)
        paths.pods_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(paths.store)
        registry = Registry(self.store, KindRegistry())
        self.node_claim = nodeclaims.claim(paths.node_ip())  # held (kept open) until the daemon exits
        if self.node_claim is None:
            log.warning("could not claim node address %s: another lab may serve NodePorts there", paths.node_ip())
        last_port = paths.root / "last-port"
        try:
            preferred = int(last_port.read_text().strip())
        except (OSError, ValueError):
            preferred = None
        sock = _bind(preferred)
        port = sock.getsockname()[1]
        node = node_name_for(self.cluster)
        bootstrap.bootstrap(registry, node_name=node, api_port=port, ca_pem=tls.ca_pem(paths),
                            data_dir=str(paths.root))
        hub = WebhookHub()
        extras: dict = {"git_webhooks": hub}
        token = paths.read_token()
        app = create_app(registry, token=token, address=f"127.0.0.1:{port}", extras=extras, paths=paths)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self.runner.setup()
        site = web.SockSite(self.runner, sock, ssl_context=tls.server_context(paths), shutdown_timeout=1.0)
        await site.start()
        _write_atomic(paths.pid_file, f"{os.getpid()}\n")
        _write_atomic(paths.port_file, f"{port}\n")
        _write_atomic(last_port, f"{port}\n")
        log.info("cluster %s serving on 127.0.0.1:%d (pid %d, time scale %s)", self.cluster, port, os.getpid(),
                 self.clock.scale)
        client = InProcessClient(registry, paths)
        ctx = DaemonContext(home=self.home, cluster=self.cluster, paths=paths, client=client, clock=self.clock,
                            node_name=node, api_port=port, extras=extras)
        for spec in _component_specs():
            self.tasks.append(asyncio.create_task(run_component(spec, ctx), name=spec))

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        if self.tasks:
            done, pending = await asyncio.wait(self.tasks, timeout=10)
            if pending:
                log.warning("components still stopping after 10 s: %s", [t.get_name() for t in pending])
        if self.store is not None:
            self.store.close()  # ends every open watch
        if self.runner is not None:
            try:
                await asyncio.wait_for(self.runner.cleanup(), 3)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001
                pass
        try:
            self.paths.port_file.unlink()
        except OSError:
            pass


def kill_process_group(grace: float = 2.0) -> None:
    """Terminate every other process of our group (the workloads), then kill stragglers."""
    pgid = os.getpgrp()
    if pgid != os.getpid():
        return  # not a session leader (run by hand): leave the caller's group alone
    members = _group_members(pgid)
    for pid in members:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + grace
    while members and time.monotonic() < deadline:
        time.sleep(0.05)
        members = _group_members(pgid)
    for pid in members:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _group_members(pgid: int) -> list[int]:
    me = os.getpid()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            stat = open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace").read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(entry))
    return out


def _setup_logging(paths: ClusterPaths) -> None:
    paths.root.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(paths.log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


async def amain(home: Home, cluster: str, time_scale: float) -> int:
    daemon = Daemon(home, cluster, time_scale)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.stopping.set)
    try:
        await daemon.start()
    except Exception:  # noqa: BLE001
        log.exception("cluster %s failed to start", cluster)
        await daemon.stop()
        return 1
    await daemon.stopping.wait()
    log.info("cluster %s stopping", cluster)
    await daemon.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gitopslab.cluster.daemon")
    parser.add_argument("--home", required=True)
    parser.add_argument("--cluster", default="prod")
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    home = Home(Path(args.home))
    paths = home.cluster(args.cluster)
    _setup_logging(paths)
    code = 1
    try:
        code = asyncio.run(amain(home, args.cluster, args.time_scale))
    finally:
        kill_process_group()
        log.info("cluster %s stopped", args.cluster)
        logging.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
