"""Container log files: where the kubelet writes them and how they are read back.

One file per container run: ``pods/<ns>_<pod>_<uid>/logs/<container>/<restartCount>.log``.
Each line is ``"<RFC3339Nano UTC timestamp> <stream> <text>"`` (stream is
``stdout`` or ``stderr``), so ``--timestamps`` and ``--since`` can be served
exactly. The kubelet writes with ``append_log``; the API server's
``pods/log`` handler and ``Client.read_log`` read with ``read_log`` /
``follow_log``.
"""
from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

from gitopslab.home import ClusterPaths


def pod_dir(paths: ClusterPaths, namespace: str, pod_name: str, pod_uid: str) -> Path:
    return paths.pods_dir / f"{namespace}_{pod_name}_{pod_uid}"


def log_path(paths: ClusterPaths, namespace: str, pod_name: str, pod_uid: str, container: str,
             restart_count: int) -> Path:
    return pod_dir(paths, namespace, pod_name, pod_uid) / "logs" / container / f"{restart_count}.log"


def rfc3339nano(ns: int | None = None) -> str:
    """Go's RFC3339Nano in UTC, e.g. ``2026-11-28T13:54:18.123456789Z`` (trailing zeros trimmed)."""
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    digits = f"{frac:09d}".rstrip("0")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


def format_lines(stream: str, text: str, *, now_ns: int | None = None) -> str:
    """The file lines for ``text`` (one per line of text) written on ``stream``."""
    if stream not in ("stdout", "stderr"):
        raise ValueError(f"unknown stream {stream!r}")
    ts = rfc3339nano(now_ns)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return "".join(f"{ts} {stream} {line}\n" for line in lines)


def append_log(path: Path, stream: str, text: str, *, now_ns: int | None = None) -> None:
    """Append ``text`` (one or more lines) to a container log file."""
    data = format_lines(stream, text, now_ns=now_ns)
    if not data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(data)


def parse_line(line: str) -> tuple[str, str, str]:
    """``(timestamp, stream, text)`` of one file line (without its newline)."""
    ts, _, rest = line.partition(" ")
    stream, _, text = rest.partition(" ")
    return ts, stream, text


def parse_timestamp(ts: str) -> datetime | None:
    try:
        head, _, frac = ts.rstrip("Z").partition(".")
        dt = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
        if frac:
            dt = dt.replace(microsecond=int(frac[:6].ljust(6, "0")))
        return dt
    except ValueError:
        return None


def _render(line: str, timestamps: bool) -> str:
    ts, _, text = parse_line(line)
    return f"{ts} {text}\n" if timestamps else f"{text}\n"


def _keep(line: str, since: datetime | None) -> bool:
    if since is None:
        return True
    dt = parse_timestamp(parse_line(line)[0])
    return dt is None or dt >= since


def read_log(path: Path, *, tail_lines: int | None = None, timestamps: bool = False,
             since: datetime | None = None, limit_bytes: int | None = None) -> str:
    """The log as ``kubectl logs`` prints it (missing file: empty)."""
    text, _ = read_log_with_offset(path, tail_lines=tail_lines, timestamps=timestamps, since=since,
                                   limit_bytes=limit_bytes)
    return text


def read_log_with_offset(path: Path, *, tail_lines: int | None = None, timestamps: bool = False,
                         since: datetime | None = None, limit_bytes: int | None = None) -> tuple[str, int]:
    """The rendered log and the file offset it stops at (to follow from there)."""
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            data = f.read()
    except FileNotFoundError:
        return "", 0
    offset = len(data.encode("utf-8"))
    complete, _, partial = data.rpartition("\n")
    if partial:  # a line being written: leave it for the follower
        offset -= len(partial.encode("utf-8"))
    lines = [ln for ln in complete.split("\n") if ln] if complete else []
    lines = [ln for ln in lines if _keep(ln, since)]
    if tail_lines is not None:
        lines = lines[-tail_lines:] if tail_lines > 0 else []
    out = "".join(_render(ln, timestamps) for ln in lines)
    if limit_bytes is not None:
        out = out.encode("utf-8")[:limit_bytes].decode("utf-8", errors="ignore")
    return out, offset


async def follow_log(path: Path, offset: int, *, timestamps: bool = False,
                     still_running: Callable[[], Awaitable[bool]], poll: float = 0.1,
                     limit_bytes: int | None = None) -> AsyncIterator[str]:
    """New lines written after ``offset`` until the container stops running."""
    sent = 0
    buf = b""
    while True:
        chunk = b""
        try:
            size = os.path.getsize(path)
            if size > offset:
                with open(path, "rb") as f:
                    f.seek(offset)
                    chunk = f.read(size - offset)
                offset = size
        except FileNotFoundError:
            pass
        if chunk:
            buf += chunk
            complete, _, buf = buf.rpartition(b"\n")
            if complete:
                text = "".join(_render(ln, timestamps) for ln in complete.decode("utf-8", "replace").split("\n") if ln)
                if limit_bytes is not None:
                    text = text.encode()[: max(0, limit_bytes - sent)].decode("utf-8", "ignore")
                if text:
                    sent += len(text.encode())
                    yield text
                if limit_bytes is not None and sent >= limit_bytes:
                    return
            continue
        if not await still_running():
            # drain what was written just before the container stopped
            try:
                size = os.path.getsize(path)
            except FileNotFoundError:
                size = offset
            if size > offset:
                continue
            return
        await asyncio.sleep(poll)
