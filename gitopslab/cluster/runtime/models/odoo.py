"""odoo (docker library image): waits for PostgreSQL, then serves a French stand-in page on 8069."""
from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timezone

from gitopslab.cluster.runtime.models import footprints
from gitopslab.cluster.runtime.models.base import Model
from gitopslab.cluster.runtime.models.http import Request, Response

WAIT_TIMEOUT = 30  # wait-for-psql.py --timeout=30
START_SECONDS = 2.0

PAGE = """<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><title>Odoo (laboratoire)</title></head>
<body style="font-family: sans-serif; max-width: 42em; margin: 3em auto;">
<h1>Odoo {version} — bouchon du laboratoire</h1>
<p>Cette page n'est <strong>pas</strong> Odoo : c'est le remplaçant que le laboratoire GitOps
fait tourner à la place de l'image <code>{image}</code>, pour que le déploiement se comporte comme le vrai
(port 8069, connexion à PostgreSQL, sondes, journaux) sans installer l'ERP.</p>
<p>Base de données : <code>{user}@{host}:{port}</code> — joignable.</p>
<p>Pod : <code>{pod}</code></p>
</body>
</html>
"""


def odoo_time() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%d %H:%M:%S,") + f"{now.microsecond // 1000:03d}"


def version_of(image) -> str:
    tag = str(getattr(image, "ref", "")).rpartition(":")[2]
    m = re.match(r"^(\d+\.\d+)", tag)
    return m.group(1) if m else "18.0"


class OdooModel(Model):
    memory_bytes = footprints.ODOO

    def __init__(self, config, argv):
        super().__init__(config, argv)
        self.version = version_of(config.image)
        self.host = self.env.get("HOST") or "db"
        self.port = int(self.env.get("PORT") or 5432)
        self.user = self.env.get("USER") or "odoo"

    def olog(self, text: str, logger: str = "odoo", level: str = "INFO") -> None:
        self.log(f"{odoo_time()} 1 {level} ? {logger}: {text} ", "stderr")

    async def _reach_db(self) -> str:
        """'' when PostgreSQL answers, else psycopg2's error text."""
        services = self.config.services
        if services is None:
            return f'could not translate host name "{self.host}" to address: Name or service not known\n'
        ip, real_port = services.route(self.host, self.port, self.config.namespace, self.config.pod_ip)
        if ip is None:
            return f'could not translate host name "{self.host}" to address: Name or service not known\n'
        shown = services.resolve(self.host, self.config.namespace) or ip
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(ip, real_port), 2)
            writer.close()
            return ""
        except (OSError, asyncio.TimeoutError):
            return (f'connection to server at "{self.host}" ({shown}), port {self.port} failed: Connection refused\n'
                    "\tIs the server running on that host and accepting TCP/IP connections?\n")

    async def run(self) -> int:
        start = time.monotonic()
        error = ""
        while self.config.clock.delay(WAIT_TIMEOUT) > time.monotonic() - start:
            error = await self._reach_db()
            if not error:
                break
            await self.sleep(1)
        if error:
            for i, line in enumerate(f"Database connection failure: {error}".rstrip("\n").split("\n")):
                self.log(line, "stderr")
            return 1
        await self.sleep(START_SECONDS)
        self.olog(f"Odoo version {self.version}-20250101")
        self.olog("Using configuration file at /etc/odoo/odoo.conf")
        self.olog("addons paths: ['/usr/lib/python3/dist-packages/odoo/addons', '/root/.local/share/Odoo/addons/"
                  f"{self.version}', '/mnt/extra-addons']")
        self.olog(f"database: {self.user}@{self.host}:{self.port}")
        await self.listen_http(8069, self.handle, server_header="Werkzeug/2.0.2 Python/3.12.3", observe=self.access)
        self.olog(f"HTTP service (werkzeug) running on {self.config.pod_name}:8069", "odoo.service.server")
        return await self.forever()

    def access(self, req: Request, resp: Response, size: int) -> None:
        self.olog(f'{req.peer} - - [{odoo_time()}] "{req.method} {req.target} {req.version}" {resp.status} - 1 0.001 0.002',
                  "werkzeug")

    async def handle(self, req: Request) -> Response:
        if req.path == "/web/health":
            return Response(200, '{"status": "pass"}', "application/json")
        if req.path == "/":
            return Response(303, "", headers={"Location": "/odoo"})
        return Response(200, PAGE.format(version=self.version, image=getattr(self.config.image, "ref", "odoo"),
                                         user=self.user, host=self.host, port=self.port, pod=self.config.pod_name))

    async def on_term(self) -> int:
        self.olog("Initiating shutdown", "odoo.service.server")
        self.olog("Hit CTRL-C again or send a second signal to force the shutdown.", "odoo.service.server")
        return 0
