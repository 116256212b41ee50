"""NodePorts on the host's loopback: 127.0.0.1:<nodePort> forwards to ready endpoints.

For every Service of type NodePort or LoadBalancer, each port with a
``nodePort`` gets a TCP listener on 127.0.0.1 that forwards connections to
the Service's ready endpoints round robin (pod IP, port mapped by
``target_port``). With no ready endpoint the listener is closed, so a
connection is refused, as on a real node. The proxy follows Service and
Endpoints changes through the shared ``ServiceDirectory``.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field

from gitopslab.cluster.runtime.network import target_port
from gitopslab.cluster.runtime.services import ServiceDirectory

log = logging.getLogger(__name__)

NODEPORT_TYPES = ("NodePort", "LoadBalancer")


@dataclass
class Forward:
    namespace: str
    service: str
    port: int
    endpoints: list[list] = field(default_factory=list)   # [ip, containerPort, hostname]


def desired_forwards(table: list[dict]) -> dict[int, Forward]:
    """nodePort -> where it forwards, for ports that have ready endpoints (pure)."""
    out: dict[int, Forward] = {}
    for entry in table:
        if entry.get("type") not in NODEPORT_TYPES:
            continue
        for p in entry.get("ports") or []:
            node_port = p.get("nodePort")
            if node_port and p.get("protocol", "TCP") == "TCP" and p.get("endpoints"):
                out[int(node_port)] = Forward(entry["namespace"], entry["name"], p["port"], list(p["endpoints"]))
    return out


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, RuntimeError):
            pass


class NodePortProxy:
    def __init__(self, services: ServiceDirectory, host: str = "127.0.0.1"):
        self.services = services
        self.host = host
        self.forwards: dict[int, Forward] = {}
        self.servers: dict[int, asyncio.AbstractServer] = {}
        self._rr: dict[int, itertools.count] = {}
        self._changed = asyncio.Event()
        services.on_change(lambda table: self._changed.set())

    async def run(self) -> None:
        try:
            while True:
                await self._changed.wait()
                self._changed.clear()
                await self.sync(desired_forwards(self.services.table))
        finally:
            self.close()

    async def sync(self, desired: dict[int, Forward]) -> None:
        self.forwards = desired
        for port in [p for p in self.servers if p not in desired]:
            self.servers.pop(port).close()
        for port in desired:
            if port in self.servers:
                continue
            try:
                self.servers[port] = await asyncio.start_server(
                    lambda r, w, p=port: self._on_client(p, r, w), self.host, port, reuse_address=True)
            except OSError as e:
                log.warning("nodePort %s: cannot listen on %s:%s: %s", port, self.host, port, e)

    def pick(self, port: int) -> list | None:
        fwd = self.forwards.get(port)
        if fwd is None or not fwd.endpoints:
            return None
        counter = self._rr.setdefault(port, itertools.count())
        return fwd.endpoints[next(counter) % len(fwd.endpoints)]

    async def _on_client(self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        endpoint = self.pick(port)
        if endpoint is None:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(endpoint[0], target_port(endpoint[1])), 5)
        except (OSError, asyncio.TimeoutError):
            writer.transport.abort()  # reset, as kube-proxy's REJECT would
            return
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()
            writer.close()

    def close(self) -> None:
        for server in self.servers.values():
            server.close()
        self.servers.clear()
