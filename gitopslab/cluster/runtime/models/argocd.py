"""Argo CD component images (quay.io/argoproj/argocd, ghcr.io/dexidp/dex).

The lab's Argo CD is the embedded controller; these containers only make
the install look and behave like the real one: they start, log their start
lines, listen on their ports and answer health checks. argocd-server's page
says (in French) that the lab's UI is the notebook widgets.
"""
from __future__ import annotations

import os
import re
import time

from gitopslab.cluster.runtime.models import footprints
from gitopslab.cluster.runtime.models.base import Model
from gitopslab.cluster.runtime.models.http import Request, Response

START_SECONDS = 1.0

SERVER_PAGE = """<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><title>Argo CD (laboratoire)</title></head>
<body style="font-family: sans-serif; max-width: 42em; margin: 3em auto;">
<h1>Argo CD {version} — laboratoire</h1>
<p>Ce conteneur tient la place d'<code>argocd-server</code>. Dans le laboratoire, l'interface
d'Argo CD, ce sont les <strong>widgets des notebooks</strong> (tuiles d'applications, bouton
NEW APP, arbre des ressources, diff, journaux) : ouvrez le notebook de l'atelier.</p>
<p>Les objets (Applications, AppProjects, secrets de dépôts et de clusters) sont les vrais,
lus et écrits par l'API Kubernetes du laboratoire.</p>
</body>
</html>
"""

# component -> (ports to listen on from its flags, defaults)
COMPONENT_PORTS = {
    "argocd-server": {"port": 8080, "metrics-port": 8083},
    "argocd-repo-server": {"port": 8081, "metrics-port": 8084},
    "argocd-application-controller": {"metrics-port": 8082},
    "argocd-applicationset-controller": {"metrics-addr": 8080, "probe-addr": 8081, "webhook-addr": 7000},
    "argocd-notifications": {"metrics-port": 9001},
    "argocd-dex": {"http": 5556, "grpc": 5557, "telemetry": 5558},
}

START_MESSAGES = {
    "argocd-server": "ArgoCD API Server is starting",
    "argocd-repo-server": "ArgoCD Repository Server is starting",
    "argocd-application-controller": "ArgoCD Application Controller is starting",
    "argocd-applicationset-controller": "ArgoCD ApplicationSet Controller is starting",
    "argocd-notifications": "ArgoCD Notifications Controller is starting",
    "argocd-dex": "dex config modified. restarting dex",
}


def version_of(image) -> str:
    tag = str(getattr(image, "ref", "")).rpartition(":")[2]
    return tag if re.match(r"^v\d", tag) else "v3.4.4"


def without_init(argv: list[str]) -> list[str]:
    """The command behind the image's init wrapper (``/usr/bin/tini --``)."""
    if argv and os.path.basename(argv[0]) == "tini":
        argv = argv[1:]
        if argv and argv[0] == "--":
            argv = argv[1:]
    return argv


def component_of(argv: list[str]) -> str:
    argv = without_init(argv)
    for word in argv[:2]:
        base = os.path.basename(word)
        if base in COMPONENT_PORTS:
            return base
    return "argocd-server" if not argv else os.path.basename(argv[0])


def flag_ports(argv: list[str], defaults: dict[str, int]) -> list[int]:
    ports = dict(defaults)
    for arg in argv:
        m = re.match(r"^--([a-z-]+)=(?:[\w.]*:)?(\d+)$", arg)
        if m and m.group(1) in ports:
            ports[m.group(1)] = int(m.group(2))
    return sorted(set(ports.values()))


def logfmt_time() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class ArgoCDModel(Model):
    def __init__(self, config, argv):
        super().__init__(config, argv)
        self.component = component_of(argv)
        self.version = version_of(config.image)
        self.memory_bytes = footprints.ARGOCD.get(self.component, footprints.ARGOCD_UTILITY)

    def info(self, msg: str, **fields) -> None:
        extra = "".join(f" {k}={v}" for k, v in fields.items())
        self.log(f'time="{logfmt_time()}" level=info msg="{msg}"{extra}')

    async def run(self) -> int:
        if self.component == "argocd-dex":
            return await self._run_dex()
        if self.component not in COMPONENT_PORTS:
            return 0  # a utility of the image (the charts' `cp -n` init containers): done at once
        await self.sleep(START_SECONDS)
        ports = flag_ports(self.argv, COMPONENT_PORTS.get(self.component, {}))
        for port in ports:
            await self.listen_http(port, self.handle)
        self.info(START_MESSAGES.get(self.component, f"{self.component} is starting"),
                  built="2025-01-01T00:00:00Z", commit="0000000000000000000000000000000000000000",
                  namespace=self.config.namespace, version=f"{self.version}+lab")
        if self.component == "argocd-server":
            self.info("Starting configmap/secret informers")
            self.info("Configmap/secret informer synced")
            self.info(f"argocd {self.version}+lab serving on port {ports[0]} (url: , tls: false, namespace: "
                      f"{self.config.namespace}, sso: false)")
        elif self.component == "argocd-repo-server":
            self.info(f"argocd-repo-server is listening on [::]:{ports[0]}")
        return await self.forever()

    async def _run_dex(self) -> int:
        self.info("dex config unmodified")
        await self.sleep(START_SECONDS)
        for port in flag_ports(self.argv, COMPONENT_PORTS["argocd-dex"]):
            await self.listen_http(port, self.handle)
        self.log(f'time="{logfmt_time()}" level=INFO msg="Dex Version: v2.45.1, Go Version: go1.24.4, '
                 'Go OS/ARCH: linux amd64"')
        self.log(f'time="{logfmt_time()}" level=INFO msg="listening on" server=http address=0.0.0.0:5556')
        return await self.forever()

    async def handle(self, req: Request) -> Response:
        if req.path.startswith("/healthz") or req.path in ("/readyz", "/livez"):
            return Response(200, "ok", "text/plain; charset=utf-8")
        if req.path == "/metrics":
            return Response(200, "# lab stand-in: no metrics\n", "text/plain; version=0.0.4")
        if self.component == "argocd-server":
            return Response(200, SERVER_PAGE.format(version=self.version))
        return Response(404, "404 page not found\n", "text/plain; charset=utf-8")

    async def on_term(self) -> int:
        self.info("received signal terminated, shutting down")
        return 0

    async def shell_command(self, name: str, args: list[str], shell) -> int | None:
        if name.startswith("argocd"):
            return 0
        return None
