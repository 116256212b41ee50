"""nginx (docker library image): entrypoint lines, the welcome page or the image's files, access log."""
from __future__ import annotations

import asyncio
import mimetypes
import re
import time
from pathlib import Path

from gitopslab.cluster.runtime.models import footprints
from gitopslab.cluster.runtime.models.base import Model
from gitopslab.cluster.runtime.models.http import Request, Response

DEFAULT_VERSION = "1.27.3"
HTML_ROOT = "/usr/share/nginx/html"

WELCOME = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

ENTRYPOINT_LINES = (
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
    "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
)

def error_page(status: int, title: str, version: str) -> str:
    return (f"<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {title}</h1></center>\r\n<hr><center>nginx/{version}</center>\r\n"
            "</body>\r\n</html>\r\n")


def version_of(image) -> str:
    """nginx's own version: an ``nginx:1.25.3`` tag, else the NGINX_VERSION the base image sets.

    An image built FROM nginx keeps its base's NGINX_VERSION, whatever its own tag
    (``datascientestuser/webapp:1.0.0`` still runs nginx 1.27.3).
    """
    ref = str(getattr(image, "ref", ""))
    name, _, tag = ref.rpartition(":")
    m = re.match(r"^(\d+\.\d+\.\d+)", tag)
    if m and name.rpartition("/")[2] == "nginx":
        return m.group(1)
    return (getattr(image, "env", None) or {}).get("NGINX_VERSION") or DEFAULT_VERSION


# `nginx -s ACTION`: the signal the master receives and what it logs doing
SIGNALS = {
    "quit": (3, "SIGQUIT", "shutting down"),
    "stop": (15, "SIGTERM", "exiting"),
    "reload": (1, "SIGHUP", "reconfiguring"),
    "reopen": (10, "SIGUSR1", "reopening"),
}


def nginx_time() -> str:
    return time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime())


def access_time() -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())


class NginxModel(Model):
    memory_bytes = footprints.NGINX

    def __init__(self, config, argv):
        super().__init__(config, argv)
        self.version = version_of(config.image)
        self.worker_pid = 29
        self.next_pid = 36   # pids of the `nginx -s …` processes an exec starts
        self.stopped: asyncio.Event | None = None

    def notice(self, text: str, pid: int = 1) -> None:
        self.log(f"{nginx_time()} [notice] {pid}#{pid}: {text}", "stderr")

    def listen_ports(self) -> list[int]:
        ports = []
        conf_dir = self.path("/etc/nginx/conf.d")
        candidates = sorted(conf_dir.glob("*.conf")) if conf_dir and conf_dir.is_dir() else []
        main = self.path("/etc/nginx/nginx.conf")
        if main and main.is_file():
            candidates.append(main)
        for conf in candidates:
            for m in re.finditer(r"^\s*listen\s+(?:[\d.]+:)?(\d+)", conf.read_text(errors="replace"), re.M):
                ports.append(int(m.group(1)))
        return sorted(set(ports)) or [80]

    async def run(self) -> int:
        # nginx listens a few milliseconds after its start: no delay worth modelling, and none
        # that a client reaching a Ready pod without a readiness probe could fall into
        for line in ENTRYPOINT_LINES:
            self.log(line)
        for port in self.listen_ports():
            await self.listen_http(port, self.handle, server_header=f"nginx/{self.version}", observe=self.access_log)
        self.notice('using the "epoll" event method')
        self.notice(f"nginx/{self.version}")
        self.notice("built by gcc 12.2.0 (Debian 12.2.0-14) ")
        self.notice("OS: Linux 6.8.0-1015")
        self.notice("getrlimit(RLIMIT_NOFILE): 1048576:1048576")
        self.notice("start worker processes")
        self.notice(f"start worker process {self.worker_pid}")
        self.stopped = asyncio.Event()
        await self.stopped.wait()  # until `nginx -s quit|stop` (SIGTERM cancels the wait)
        return 0

    async def shell_command(self, name: str, args: list[str], shell) -> int | None:
        """``nginx -s quit|stop|reload|reopen``, ``nginx -t``, ``nginx -v`` run in the container (probes, hooks)."""
        if name != "nginx":
            return None
        if args[:1] == ["-v"]:
            shell.write(f"nginx version: nginx/{self.version}", "stderr")
            return 0
        if args[:1] == ["-t"]:
            shell.write("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok", "stderr")
            shell.write("nginx: configuration file /etc/nginx/nginx.conf test is successful", "stderr")
            return 0
        if len(args) == 2 and args[0] == "-s" and args[1] in SIGNALS:
            return self.signal_master(args[1], shell)
        shell.write(f'nginx: invalid option: "{" ".join(args)}"', "stderr")
        return 1

    def signal_master(self, action: str, shell) -> int:
        """What ``nginx -s ACTION`` does: the new process signals the master, which logs and acts."""
        sender = self.next_pid
        self.next_pid += 1
        shell.write(f"{nginx_time()} [notice] {sender}#{sender}: signal process started", "stderr")
        number, name, what = SIGNALS[action]
        self.notice(f"signal {number} ({name}) received from {sender}, {what}")
        if action in ("quit", "stop"):
            self.close_servers()
            if action == "quit":
                self.notice("gracefully shutting down", self.worker_pid)
            self.notice("exiting", self.worker_pid)
            self.notice("exit", self.worker_pid)
            self.notice(f"signal 17 (SIGCHLD) received from {self.worker_pid}")
            self.notice(f"worker process {self.worker_pid} exited with code 0")
            self.notice("exit")
            if self.stopped is not None:
                self.stopped.set()
        return 0

    def access_log(self, req: Request, resp: Response, size: int) -> None:
        agent = req.headers.get("user-agent", "-")
        referer = req.headers.get("referer", "-")
        forwarded = req.headers.get("x-forwarded-for", "-")
        self.log(f'{req.peer} - - [{access_time()}] "{req.method} {req.target} {req.version}" {resp.status} {size} '
                 f'"{referer}" "{agent}" "{forwarded}"')

    def _file_for(self, path: str) -> Path | None:
        rel = path.split("?", 1)[0]
        if ".." in rel.split("/"):
            return None
        target = self.path(HTML_ROOT + rel)
        if target is not None and target.is_dir():
            target = target / "index.html"
        if target is not None and target.is_file():
            return target
        return None

    async def handle(self, req: Request) -> Response:
        if req.method not in ("GET", "HEAD"):
            return Response(405, error_page(405, "Not Allowed", self.version))
        found = self._file_for(req.path)
        if found is not None:
            ctype = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
            return Response(200, found.read_bytes(), ctype)
        if req.path in ("/", "/index.html") and self.path(HTML_ROOT + "/index.html") is None:
            return Response(200, WELCOME)
        if req.path == "/50x.html":
            return Response(200, error_page(500, "Internal Server Error", self.version))
        return Response(404, error_page(404, "Not Found", self.version))

    async def on_term(self) -> int:
        # the image's STOPSIGNAL is SIGQUIT: graceful shutdown
        self.notice("signal 3 (SIGQUIT) received, shutting down")
        self.notice("gracefully shutting down", self.worker_pid)
        self.notice("exiting", self.worker_pid)
        self.notice("exit", self.worker_pid)
        self.notice(f"signal 17 (SIGCHLD) received from {self.worker_pid}")
        self.notice(f"worker process {self.worker_pid} exited with code 0")
        self.notice("exit")
        return 0
