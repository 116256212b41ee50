"""Destination clusters: the in-cluster client, or remote clients built from cluster Secrets.

``resolve_destination`` follows ``GetDestinationCluster`` (its error texts
become InvalidSpecError conditions); ``ClusterClients`` caches one
``HttpClient`` per remote server.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from gitopslab.argocd.repocreds import secret_type

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
IN_CLUSTER_NAME = "in-cluster"
DESTINATION_MISSING = "Destination server missing from app spec"


class DestinationError(Exception):
    pass


@dataclass(frozen=True)
class Cluster:
    name: str
    server: str
    bearer_token: str = ""
    namespaces: tuple[str, ...] = ()
    insecure: bool = False
    ca_pem: str = ""

    @property
    def in_cluster(self) -> bool:
        return self.server == IN_CLUSTER_SERVER


def _decoded(secret: dict, key: str) -> str:
    if key in (secret.get("stringData") or {}):
        return str(secret["stringData"][key])
    raw = (secret.get("data") or {}).get(key)
    return base64.b64decode(raw).decode() if raw else ""


def clusters_from_secrets(secrets: list[dict]) -> list[Cluster]:
    found = [Cluster(IN_CLUSTER_NAME, IN_CLUSTER_SERVER)]
    for secret in secrets:
        if secret_type(secret) != "cluster":
            continue
        server = _decoded(secret, "server").rstrip("/")
        try:
            config = json.loads(_decoded(secret, "config") or "{}")
        except ValueError:
            config = {}
        namespaces = tuple(n.strip() for n in _decoded(secret, "namespaces").split(",") if n.strip())
        tls = config.get("tlsClientConfig") or {}
        ca_data = tls.get("caData") or ""
        try:
            ca_pem = base64.b64decode(ca_data).decode() if ca_data else ""
        except (ValueError, UnicodeDecodeError):
            ca_pem = ""
        cluster = Cluster(_decoded(secret, "name") or server, server, config.get("bearerToken", ""), namespaces,
                          bool(tls.get("insecure")), ca_pem)
        if server == IN_CLUSTER_SERVER:
            found[0] = cluster
        else:
            found.append(cluster)
    return found


def resolve_destination(destination: dict, clusters: list[Cluster]) -> Cluster:
    name, server = destination.get("name") or "", (destination.get("server") or "").rstrip("/")
    if name and server:
        raise DestinationError(f"application destination can't have both name and server defined: {name} {server}")
    if server:
        for cluster in clusters:
            if cluster.server == server:
                return cluster
        raise DestinationError(f'error getting cluster by server "{destination.get("server")}": '
                               f'rpc error: code = NotFound desc = cluster "{server}" not found')
    if name:
        matches = [c for c in clusters if c.name == name]
        if not matches:
            raise DestinationError(f"there are no clusters with this name: {name}")
        if len(matches) > 1:
            raise DestinationError(f"there are {len(matches)} clusters with the same name: "
                                   f"[{' '.join(c.server for c in matches)}]")
        return matches[0]
    raise DestinationError(DESTINATION_MISSING)


class ClusterClients:
    """API clients per destination: ``local`` for in-cluster, an HttpClient per remote server."""

    def __init__(self, local):
        self.local = local
        self._remote: dict[tuple[str, str], object] = {}

    def client_for(self, cluster: Cluster):
        if cluster.in_cluster:
            return self.local
        key = (cluster.server, cluster.bearer_token, cluster.insecure, cluster.ca_pem)
        if key not in self._remote:
            from gitopslab.cluster.httpclient import HttpClient

            self._remote[key] = HttpClient(cluster.server, cluster.bearer_token, ca_pem=cluster.ca_pem or None,
                                           insecure=cluster.insecure)
        return self._remote[key]

    async def close(self) -> None:
        for client in self._remote.values():
            close = getattr(client, "close", None)
            if close is not None:
                result = close()
                if hasattr(result, "__await__"):
                    await result
        self._remote.clear()
