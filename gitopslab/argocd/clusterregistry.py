"""Registering clusters with Argo CD and listing them: what ``argocd cluster add`` and ``list`` do, through the API.

``install_manager_rbac`` is ``clusterauth.InstallClusterManagerRBAC`` on the
target cluster (namespace ``kube-system``): ServiceAccount ``argocd-manager``,
ClusterRole ``argocd-manager-role`` (all verbs on all resources, and
non-resource URLs) and ClusterRoleBinding ``argocd-manager-role-binding``
(both created, or updated when they exist), a
``kubernetes.io/service-account-token`` Secret
``argocd-manager-long-lived-token`` whose token the token controller fills;
each step logs the line clusterauth logs. ``register_cluster`` is
argocd-server's ``ClusterService.Create``: the cluster Secret in Argo CD's
namespace (``cluster-<host>-<fnv32a(server)>``, label
``argocd.argoproj.io/secret-type: cluster``, annotation ``managed-by``, keys
``name``, ``server``, ``config``), idempotent for the same spec, refused for a
different one unless ``upsert`` (AC ``util/db/cluster.go``,
``server/cluster/cluster.go``). ``cluster_rows`` is ``ClusterService.List``
with the controller's cluster info (``controller/clusterinfoupdater.go``).
"""
from __future__ import annotations

import base64
import json
import re
import time
from typing import Callable
from urllib.parse import urlsplit

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from gitopslab.argocd import kubeapi
from gitopslab.argocd.clusters import DestinationError, clusters_from_secrets, resolve_destination
from gitopslab.argocd.destination import cluster_secrets, remote_api_client
from gitopslab.argocd.serveraddress import DialError, dial
from gitopslab.cluster.controllers.hashing import fnv32a

ARGOCD_NAMESPACE = "argocd"
SYSTEM_NAMESPACE = "kube-system"
MANAGER = "argocd-manager"
MANAGER_ROLE = "argocd-manager-role"
MANAGER_BINDING = "argocd-manager-role-binding"
MANAGER_TOKEN = "argocd-manager-long-lived-token"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
NOT_MONITORED = "Cluster has no applications and is not being monitored."


class ClusterSpecDiffers(Exception):
    """``ClusterService.Create`` of an existing server with another spec, without ``upsert``."""


def cluster_secret_name(server: str) -> str:
    """``URIToSecretName("cluster", server)``: ``cluster-<host>-<fnv32a(server)>``."""
    host = (urlsplit(server).netloc.split(":")[0]).lower()
    return f"cluster-{host}-{fnv32a(server.encode())}"


def manager_objects() -> list[dict]:
    """What ``argocd cluster add`` creates on the target cluster (pure)."""
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": MANAGER, "namespace": SYSTEM_NAMESPACE}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": MANAGER_ROLE},
         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                   {"nonResourceURLs": ["*"], "verbs": ["*"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": MANAGER_BINDING},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": MANAGER_ROLE},
         "subjects": [{"kind": "ServiceAccount", "name": MANAGER, "namespace": SYSTEM_NAMESPACE}]},
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
         "metadata": {"name": MANAGER_TOKEN, "namespace": SYSTEM_NAMESPACE,
                      "annotations": {"kubernetes.io/service-account.name": MANAGER}}},
    ]


def cluster_secret(name: str, server: str, bearer_token: str, ca_data: str) -> dict:
    """The cluster Secret Argo CD stores for a registered cluster (pure)."""
    config = {"bearerToken": bearer_token, "tlsClientConfig": {"insecure": False, "caData": ca_data}}
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": cluster_secret_name(server), "namespace": ARGOCD_NAMESPACE,
                         "labels": {SECRET_TYPE_LABEL: "cluster"},
                         "annotations": {"managed-by": "argocd.argoproj.io"}},
            "stringData": {"name": name, "server": server.rstrip("/"), "config": json.dumps(config)}}


# --- on the target cluster ------------------------------------------------------------

def _path(obj: dict) -> str:
    plural = {"ServiceAccount": "serviceaccounts", "ClusterRole": "clusterroles",
              "ClusterRoleBinding": "clusterrolebindings", "Secret": "secrets"}[obj["kind"]]
    return kubeapi.path_for(obj["apiVersion"], plural, namespace=obj["metadata"].get("namespace"))


def _create(api, obj: dict) -> bool:
    """Create ``obj``; False when it already exists."""
    try:
        kubeapi.request(api, "POST", _path(obj), obj)
        return True
    except ApiException as e:
        if e.status != 409:
            raise
        return False


def _update(api, obj: dict) -> None:
    path = f"{_path(obj)}/{obj['metadata']['name']}"
    current = kubeapi.request(api, "GET", path)
    body = dict(obj, metadata=dict(obj["metadata"], resourceVersion=current["metadata"]["resourceVersion"]))
    kubeapi.request(api, "PUT", path, body)


def install_manager_rbac(api, log: Callable[[str], None], *, timeout: float = 60.0) -> str:
    """``InstallClusterManagerRBAC`` with ``api`` (the target cluster): the argocd-manager bearer token."""
    service_account, role, binding, token_secret = manager_objects()
    if _create(api, service_account):
        log(f'ServiceAccount "{MANAGER}" created in namespace "{SYSTEM_NAMESPACE}"')
    else:
        log(f'ServiceAccount "{MANAGER}" already exists in namespace "{SYSTEM_NAMESPACE}"')
    for obj in (role, binding):  # upsert: create, else update
        if _create(api, obj):
            log(f'{obj["kind"]} "{obj["metadata"]["name"]}" created')
        else:
            _update(api, obj)
            log(f'{obj["kind"]} "{obj["metadata"]["name"]}" updated')
    if _create(api, token_secret):
        log(f'Created bearer token secret "{MANAGER_TOKEN}" for ServiceAccount "{MANAGER}"')
    else:
        log(f'Using existing bearer token secret "{MANAGER_TOKEN}" for ServiceAccount "{MANAGER}"')
    return _wait_token(api, timeout)


def _wait_token(api, timeout: float) -> str:
    core = client.CoreV1Api(api)
    deadline = time.monotonic() + timeout
    while True:
        secret = core.read_namespaced_secret(MANAGER_TOKEN, SYSTEM_NAMESPACE)
        token = (secret.data or {}).get("token")
        if token:
            return base64.b64decode(token).decode()
        if time.monotonic() > deadline:
            raise TimeoutError(f'failed to get token for serviceaccount "{MANAGER}": context deadline exceeded')
        time.sleep(0.2)


# --- in Argo CD's namespace --------------------------------------------------------------

def _decoded(secret, key: str) -> str:
    raw = (secret.data or {}).get(key)
    return base64.b64decode(raw).decode() if raw else ""


def _differing_keys(existing, wanted: dict) -> list[str]:
    """The paths ``GetDifferentPathsBetweenStructs`` lists (``ID`` differs always: the new one has none)."""
    keys = ["ID"]
    if _decoded(existing, "name") != wanted["name"]:
        keys.append("Name")
    try:
        current = json.loads(_decoded(existing, "config") or "{}")
    except ValueError:
        current = {}
    config = json.loads(wanted["config"])
    if current.get("bearerToken", "") != config["bearerToken"]:
        keys += ["Config", "BearerToken"]
    current_tls, tls = current.get("tlsClientConfig") or {}, config["tlsClientConfig"]
    for field, go_name, default in (("insecure", "Insecure", False), ("caData", "CAData", "")):
        if current_tls.get(field, default) != tls[field]:
            keys += ["Config", "TLSClientConfig", go_name]
    return keys


def register_cluster(api, name: str, server: str, bearer_token: str, ca_data: str, *, upsert: bool = False) -> dict:
    """``ClusterService.Create``: write the cluster Secret; the same spec again is a no-op."""
    core = client.CoreV1Api(api)
    body = cluster_secret(name, server, bearer_token, ca_data)
    try:
        core.create_namespaced_secret(ARGOCD_NAMESPACE, body)
        return body
    except ApiException as e:
        if e.status != 409:
            raise
    existing = core.read_namespaced_secret(body["metadata"]["name"], ARGOCD_NAMESPACE)
    differing = _differing_keys(existing, body["stringData"])
    if differing == ["ID"]:
        return body
    if not upsert:
        raise ClusterSpecDiffers(f'existing cluster spec is different; use upsert flag to force update; '
                                 f'difference in keys "{",".join(differing)}"')
    core.replace_namespaced_secret(body["metadata"]["name"], ARGOCD_NAMESPACE, body)
    return body


def _server_version(api) -> str:
    """``GetServerVersion`` (v3.4): ``v<major>.<minor>.<patch>`` of the cluster's gitVersion."""
    git_version = client.VersionApi(api).get_code().git_version
    match = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", git_version)
    return f"v{match.group(1)}.{match.group(2)}.{match.group(3) or 0}" if match else git_version


def cluster_rows(api) -> list[dict]:
    """``ClusterService.List``: the cluster Secrets then the in-cluster entry, with each cluster's info.

    A cluster no Application deploys to is not monitored by the controller
    (status ``Unknown``); one that has applications is ``Successful`` with its
    server version, or ``Failed`` when its API does not answer.
    """
    secrets = sorted(cluster_secrets(api), key=lambda s: s["metadata"]["name"])
    known = clusters_from_secrets(secrets)
    projects = {}
    for secret in secrets:
        data = secret.get("data") or {}
        server = base64.b64decode(data.get("server", "")).decode().rstrip("/")
        projects[server] = base64.b64decode(data.get("project", "")).decode()
    try:
        apps = client.CustomObjectsApi(api).list_namespaced_custom_object(
            "argoproj.io", "v1alpha1", ARGOCD_NAMESPACE, "applications").get("items") or []
    except ApiException:
        apps = []
    app_servers = []
    for app in apps:
        try:
            app_servers.append(resolve_destination((app.get("spec") or {}).get("destination") or {}, known).server)
        except DestinationError:
            continue
    rows = []
    for cluster in known[1:] + known[:1]:  # the in-cluster entry comes after the Secrets' clusters
        row = {"server": cluster.server, "name": cluster.name, "version": "", "status": "Unknown",
               "message": "", "project": projects.get(cluster.server, "")}
        if cluster.server not in app_servers:
            row["message"] = NOT_MONITORED
        else:
            row.update(_connection(api, cluster))
        rows.append(row)
    return rows


def _connection(api, cluster) -> dict:
    target = api if cluster.in_cluster else remote_api_client(cluster)
    try:
        return {"version": _server_version(target), "status": "Successful"}
    except Exception as e:  # noqa: BLE001 — the cluster's API does not answer
        try:
            dial(urlsplit(cluster.server).netloc)
            reason = str(getattr(e, "reason", None) or e)
        except DialError as refused:
            reason = str(refused)
        return {"status": "Failed",
                "message": f'failed to get server version: failed to get server version: Get '
                           f'"{cluster.server}/version?timeout=32s": {reason}'}
    finally:
        if target is not api:
            target.close()
