"""Probe execution: httpGet, tcpSocket and exec, with the prober's result texts, and when probes run.

The kubelet's prober reports a failure's output verbatim in the Unhealthy
event (``Liveness probe failed: <output>``); these functions produce that
output as Go's net/http and net would word it. Connections go to the pod IP
on the mapped port (``target_port``) while messages show the container port.

When (``pkg/kubelet/prober/worker.go``, ``prober_manager.go``): a pod's
probe workers start with its first sync, before the image pull, and probe on
a ticker of ``periodSeconds`` started then. They can only probe a container
the kubelet has seen running, which its PLEG learns on its next relist (every
second: k3s 1.32 runs the generic PLEG, EventedPLEG is off), and the sync
that follows triggers the readiness probe at once. So the lab runs a
container's first probe at the first relist after its start (not before
initialDelaySeconds), the next ones on the pod's ticker. Simplifications:
initialDelaySeconds counts from the start exactly (the kubelet waits for the
first tick after it), and liveness and startup probes also run at the relist
(the kubelet waits for their next tick).
"""
from __future__ import annotations

import asyncio
import errno
import math
from dataclasses import dataclass

from gitopslab.cluster.runtime.network import target_port

USER_AGENT = "kube-probe/1.32"
DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1,
            "failureThreshold": 3}


@dataclass
class ProbeResult:
    success: bool
    output: str = ""
    errored: bool = False
    status: int | None = None   # httpGet: the response's status code, None when no response came


RELIST_PERIOD_SECONDS = 1.0  # genericPlegRelistPeriod


def next_tick(anchor: float, period: float, after: float) -> float:
    """The first tick strictly after ``after`` of a ticker started at ``anchor`` (every ``period``)."""
    if period <= 0:
        return after
    return anchor + max(math.floor((after - anchor) / period) + 1, 1) * period


def probe_settings(probe: dict) -> dict:
    return {k: int(probe.get(k) or v) if k != "initialDelaySeconds" else int(probe.get(k) or 0)
            for k, v in DEFAULTS.items()}


def resolve_port(port, container: dict) -> int | None:
    """A probe port: a number, or the name of one of the container's ports."""
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    return None


def _dial_error(err: Exception, host: str, port: int) -> str:
    if isinstance(err, asyncio.TimeoutError):
        return f"dial tcp {host}:{port}: i/o timeout"
    if isinstance(err, ConnectionRefusedError) or getattr(err, "errno", None) == errno.ECONNREFUSED:
        return f"dial tcp {host}:{port}: connect: connection refused"
    return f"dial tcp {host}:{port}: connect: {getattr(err, 'strerror', None) or err}"


async def tcp_probe(host: str, port: int, timeout: float) -> ProbeResult:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, target_port(port)), timeout)
    except (OSError, asyncio.TimeoutError) as e:
        return ProbeResult(False, _dial_error(e, host, port))
    writer.close()
    return ProbeResult(True)


def _url(scheme: str, host: str, port: int, path: str) -> str:
    if path and not path.startswith("/"):
        path = "/" + path
    return f"{scheme.lower()}://{host}:{port}{path}"


async def http_probe(host: str, port: int, path: str, timeout: float | None, scheme: str = "HTTP",
                     headers: list[dict] | None = None, user_agent: str = USER_AGENT) -> ProbeResult:
    url = _url(scheme, host, port, path)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, target_port(port)), timeout)
    except asyncio.TimeoutError:
        return ProbeResult(False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)')
    except OSError as e:
        return ProbeResult(False, f'Get "{url}": {_dial_error(e, host, port)}')
    try:
        hdrs = {"Host": f"{host}:{port}", "User-Agent": user_agent, "Accept": "*/*", "Connection": "close"}
        for h in headers or []:
            hdrs[h.get("name", "")] = h.get("value", "")
        request = f"GET {path or '/'} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        writer.write(request.encode("latin-1"))
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
    except asyncio.TimeoutError:
        return ProbeResult(False, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)')
    except OSError:
        return ProbeResult(False, f'Get "{url}": EOF')
    finally:
        writer.close()
    parts = status_line.decode("latin-1").split(" ")
    if len(parts) < 2 or not parts[1].isdigit():
        return ProbeResult(False, f'Get "{url}": EOF' if not status_line else
                           f'Get "{url}": net/http: HTTP/1.x transport connection broken: malformed HTTP response')
    code = int(parts[1])
    if 200 <= code < 400:
        return ProbeResult(True, status=code)
    return ProbeResult(False, f"HTTP probe failed with statuscode: {code}", status=code)


async def exec_probe(container, command: list[str], timeout: float, shown_timeout: float) -> ProbeResult:
    try:
        code, output = await container.exec(command, timeout)
    except asyncio.TimeoutError:
        return ProbeResult(False, f'command "{" ".join(command)}" timed out')
    if code == 0:
        return ProbeResult(True)
    return ProbeResult(False, output.rstrip("\n") if output else "")


async def run_probe(probe: dict, container_spec: dict, running, pod_ip: str, timeout: float) -> ProbeResult:
    """One probe attempt against a running container (``running``: runtime Container)."""
    if probe.get("httpGet"):
        hg = probe["httpGet"]
        port = resolve_port(hg.get("port"), container_spec)
        if port is None:
            return ProbeResult(False, f"unknown port: {hg.get('port')}", errored=True)
        return await http_probe(hg.get("host") or pod_ip, port, hg.get("path") or "", timeout,
                                hg.get("scheme") or "HTTP", hg.get("httpHeaders"))
    if probe.get("tcpSocket"):
        ts = probe["tcpSocket"]
        port = resolve_port(ts.get("port"), container_spec)
        if port is None:
            return ProbeResult(False, f"unknown port: {ts.get('port')}", errored=True)
        return await tcp_probe(ts.get("host") or pod_ip, port, timeout)
    if probe.get("exec"):
        return await exec_probe(running, list(probe["exec"].get("command") or []), timeout, timeout)
    if probe.get("grpc"):
        port = int(probe["grpc"].get("port", 0))
        return await tcp_probe(pod_ip, port, timeout)
    return ProbeResult(False, "missing probe handler", errored=True)
