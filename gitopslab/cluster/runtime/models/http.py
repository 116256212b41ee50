"""A tiny HTTP/1.1 server for modelled containers: one request per connection.

Enough for browsers, curl, the kubelet's probes and the NodePort proxy,
at a few kilobytes per listening pod (aiohttp's server is heavier).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Awaitable, Callable

REASONS = {200: "OK", 204: "No Content", 301: "Moved Permanently", 302: "Found", 304: "Not Modified",
           400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Not Allowed", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes
    peer: str

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""


@dataclass
class Response:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


Handler = Callable[[Request], Awaitable[Response]]
Observer = Callable[[Request, Response, int], None]


def http_date() -> str:
    return format_datetime(datetime.now(timezone.utc), usegmt=True)


async def _read_request(reader: asyncio.StreamReader, peer: str) -> Request | None:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    body = b""
    length = int(headers.get("content-length", "0") or 0)
    if length:
        body = await reader.readexactly(min(length, 10 * 1024 * 1024))
    return Request(parts[0], parts[1], parts[2], headers, body, peer)


async def serve_http(host: str, port: int, handler: Handler, *, server_header: str = "",
                     observe: Observer | None = None) -> asyncio.AbstractServer:
    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = (writer.get_extra_info("peername") or ("-",))[0]
        try:
            req = await asyncio.wait_for(_read_request(reader, peer), timeout=30)
            if req is None:
                resp = Response(400, "<html><body><h1>400 Bad Request</h1></body></html>")
            else:
                resp = await handler(req)
            body = resp.encoded()
            head = [f"HTTP/1.1 {resp.status} {REASONS.get(resp.status, 'OK')}"]
            if server_header:
                head.append(f"Server: {server_header}")
            head += [f"Date: {http_date()}", f"Content-Type: {resp.content_type}",
                     f"Content-Length: {len(body)}", "Connection: close"]
            head += [f"{k}: {v}" for k, v in resp.headers.items()]
            send_body = req is None or req.method != "HEAD"
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body if send_body else b""))
            await writer.drain()
            if observe and req is not None:
                observe(req, resp, len(body))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(on_client, host, port, reuse_address=True)


async def http_get(host: str, port: int, path: str = "/", timeout: float = 2.0,
                   headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """A minimal client (wget in the busybox model)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}Connection: close\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, body
