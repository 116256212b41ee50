"""The lab Git server: HTTP front of ``git http-backend`` with GitHub's rules.

``GitServer(home).start()`` serves in a background thread of the current
process (tests, benchmarks); the daemon (``python -m gitopslab.gitserver``)
runs the same server in its own process.
"""
from __future__ import annotations

import json
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from gitopslab.gitserver import auth, backend, names, webhook
from gitopslab.gitserver.layout import GitPaths
from gitopslab.gitserver.repos import RepoStore
from gitopslab.home import Home

HEALTH_PATH = "/gitopslab/v1/health"
LEARNER = "learner"


class GitServer:
    def __init__(self, home: Home, *, port: int = 0):
        self.home = home
        self.paths = GitPaths.of(home)
        self.repos = RepoStore(home)
        self.paths.root.mkdir(parents=True, exist_ok=True)
        (self.paths.root / "tmp").mkdir(exist_ok=True)
        self.token = auth.ensure_token(self.paths.token_file)
        backend.install_hooks(self.paths.hooks)
        self.httpd = _Httpd(("127.0.0.1", port), _Handler)
        self.httpd.git = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "GitServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="gitserver", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(5)

    def push_events(self, full_name: str, record: str) -> list[webhook.PushEvent]:
        return [webhook.PushEvent(repository=full_name, url=names.lab_url(self.base_url, full_name),
                                  github_url=names.github_url(full_name), ref=ref, before=before, after=after)
                for before, after, ref in webhook.parse_push_record(record)]


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    git: GitServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GitHub-Babel/3.0"
    sys_version = ""
    server: _Httpd

    def log_message(self, format: str, *args) -> None:  # access log stays quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        git = self.server.git
        url = urlsplit(self.path)
        if url.path == HEALTH_PATH:
            self._discard_body()
            return self._reply(200, json.dumps({"ok": True, "url": git.base_url}).encode(), "application/json")
        target = names.split_request_path(url.path)
        if target is None:
            self._discard_body()
            return self._reply(404, b"Not Found\n")
        full_name, suffix = target
        write = suffix == "/git-receive-pack" or "service=git-receive-pack" in url.query
        credentials = auth.check_authorization(self.headers.get("Authorization"), git.token)
        decision = auth.decide(write=write, exists=git.repos.exists(full_name),
                               private=git.repos.exists(full_name) and git.repos.is_private(full_name),
                               credentials=credentials)
        if not decision.allowed:
            self._discard_body()
            extra = [("WWW-Authenticate", f'Basic realm="{auth.REALM}"')] if decision.status == 401 else []
            body = (decision.message + "\n").encode() if decision.message else b""
            return self._reply(decision.status, body, extra_headers=extra)
        body = self._read_body()
        user = LEARNER if credentials is auth.Credentials.VALID else None
        self._run_backend(method, full_name, suffix, url.query, body, user, push=(method == "POST" and write))

    def _run_backend(self, method: str, full_name: str, suffix: str, query: str, body: bytes,
                     user: str | None, push: bool) -> None:
        git = self.server.git
        record = Path(tempfile.mkstemp(prefix="push-", dir=git.paths.root / "tmp")[1]) if push else None
        try:
            result = backend.run(project_root=git.paths.repos, hooks_dir=git.paths.hooks, method=method,
                                 path_info=f"/{full_name}.git{suffix}", query=query,
                                 headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                                 remote_user=user, push_record=record)
            if record is not None:
                webhook.deliver(git.home, git.push_events(full_name, record.read_text()))
        finally:
            if record is not None:
                record.unlink(missing_ok=True)
        self.send_response(result.status, result.reason)
        for name, value in result.headers:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(result.body)))
        self.end_headers()
        self.wfile.write(result.body)

    def _reply(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8",
               extra_headers: list[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in extra_headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _discard_body(self) -> None:
        # The connection is kept alive: an unread body would be parsed as the next request.
        if self.command == "POST":
            self._read_body()
