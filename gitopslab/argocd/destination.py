"""The API client argocd-server reads an Application's live objects with: its destination cluster's.

In-cluster (``https://kubernetes.default.svc``) is the caller's own client;
another cluster gets an official ``kubernetes`` ``ApiClient`` built from its
cluster Secret (``server``, ``config.bearerToken``,
``config.tlsClientConfig.caData``/``insecure``), as ``cluster.RESTConfig()``
does. An unknown destination raises ``DestinationError`` with
``GetDestinationCluster``'s text (see ``clusters.resolve_destination``).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from kubernetes import client

from gitopslab.argocd.clusters import (IN_CLUSTER_SERVER, Cluster, DestinationError, clusters_from_secrets,
                                       resolve_destination)

ARGOCD_NAMESPACE = "argocd"
CLUSTER_SECRETS = "argocd.argoproj.io/secret-type=cluster"

__all__ = ["DestinationError", "cluster_secrets", "destination_cluster", "remote_api_client", "destination_api"]


def cluster_secrets(api: client.ApiClient, namespace: str = ARGOCD_NAMESPACE) -> list[dict]:
    """The cluster Secrets of Argo CD's namespace, as dicts (``data`` base64-encoded)."""
    items = client.CoreV1Api(api).list_namespaced_secret(namespace, label_selector=CLUSTER_SECRETS).items
    return [api.sanitize_for_serialization(s) for s in items]


def destination_cluster(app: dict, api: client.ApiClient) -> Cluster:
    """The cluster ``app`` deploys to; the Secrets are read only for a destination other than in-cluster's server."""
    destination = (app.get("spec") or {}).get("destination") or {}
    if (destination.get("server") or "").rstrip("/") == IN_CLUSTER_SERVER and not destination.get("name"):
        return clusters_from_secrets([])[0]
    return resolve_destination(destination, clusters_from_secrets(cluster_secrets(api)))


def remote_api_client(cluster: Cluster) -> client.ApiClient:
    """An ``ApiClient`` for a registered cluster, with its bearer token and CA (or ``insecure``)."""
    configuration = client.Configuration(host=cluster.server)
    if cluster.bearer_token:
        configuration.api_key = {"authorization": f"Bearer {cluster.bearer_token}"}
    configuration.verify_ssl = not cluster.insecure
    if cluster.ca_pem and not cluster.insecure:
        configuration.ca_cert_data = cluster.ca_pem
    return client.ApiClient(configuration)


@contextmanager
def destination_api(app: dict, api: client.ApiClient) -> Iterator[client.ApiClient]:
    """``api`` itself for an in-cluster app, else a client of the destination cluster (closed on exit)."""
    cluster = destination_cluster(app, api)
    if cluster.in_cluster:
        yield api
        return
    remote = remote_api_client(cluster)
    try:
        yield remote
    finally:
        remote.close()
