"""Run ``git http-backend`` as a CGI program for one request.

The backend does the whole smart HTTP protocol (ref advertisement,
upload-pack, receive-pack, gzip request bodies, protocol v2). Hooks come
from a shared hooks directory passed through ``GIT_CONFIG_COUNT``, so no
repository carries server state in its config. The post-receive hook appends
``<before> <after> <ref>`` lines to the file named by
``GITOPSLAB_PUSH_RECORD``, which tells the server what a push updated.
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

POST_RECEIVE = """#!/bin/sh
# gitopslab: record the ref updates of this push for the webhook.
if [ -n "$GITOPSLAB_PUSH_RECORD" ]; then cat >> "$GITOPSLAB_PUSH_RECORD"; else cat >/dev/null; fi
exit 0
"""


@dataclass
class CgiResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def install_hooks(hooks_dir: Path) -> None:
    hooks_dir.mkdir(parents=True, exist_ok=True)
    hook = hooks_dir / "post-receive"
    if not hook.exists() or hook.read_text() != POST_RECEIVE:
        tmp = hook.with_suffix(".tmp")
        tmp.write_text(POST_RECEIVE)
        tmp.chmod(0o755)
        tmp.replace(hook)


def run(*, project_root: Path, hooks_dir: Path, method: str, path_info: str, query: str,
        headers: dict[str, str], body: bytes, remote_user: str | None,
        push_record: Path | None = None) -> CgiResponse:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "GIT_PROJECT_ROOT": str(project_root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REQUEST_METHOD": method,
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "core.hooksPath",
        "GIT_CONFIG_VALUE_0": str(hooks_dir),
        "GIT_CONFIG_KEY_1": "uploadpack.allowReachableSHA1InWant",
        "GIT_CONFIG_VALUE_1": "true",
    }
    if headers.get("content-type"):
        env["CONTENT_TYPE"] = headers["content-type"]
    if headers.get("content-encoding"):
        env["HTTP_CONTENT_ENCODING"] = headers["content-encoding"]
    if headers.get("git-protocol"):
        env["GIT_PROTOCOL"] = headers["git-protocol"]
    if remote_user:
        env["REMOTE_USER"] = remote_user
    if push_record is not None:
        env["GITOPSLAB_PUSH_RECORD"] = str(push_record)
    proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
    return parse_cgi_output(proc.stdout)


def parse_cgi_output(raw: bytes) -> CgiResponse:
    """Split a CGI document into status, headers and body (``Status:`` defaults to 200)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    if not sep:
        return CgiResponse(502, "Bad Gateway", [("Content-Type", "text/plain")], b"git http-backend failed\n")
    status, reason, headers = 200, "OK", []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if name.lower() == "status":
            code, _, reason = value.partition(" ")
            status = int(code)
        elif name:
            headers.append((name, value))
    return CgiResponse(status, reason or "OK", headers, body)
