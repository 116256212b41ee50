"""Registering a second cluster with Argo CD, as ``argocd cluster add CONTEXT`` does, through the API.

On the target cluster (namespace ``kube-system``): ServiceAccount
``argocd-manager``, ClusterRole ``argocd-manager-role`` (all verbs on all
resources, and non-resource URLs), ClusterRoleBinding
``argocd-manager-role-binding`` and a ``kubernetes.io/service-account-token``
Secret ``argocd-manager-long-lived-token`` whose token the token controller
fills (AC ``util/clusterauth``). Then, in Argo CD's namespace, the cluster
Secret the CLI writes: labelled ``argocd.argoproj.io/secret-type: cluster``,
annotated ``managed-by: argocd.argoproj.io``, named
``cluster-<host>-<fnv32a(server)>``, with ``name``, ``server`` and ``config``
(``bearerToken`` and ``tlsClientConfig.caData``) (AC ``util/db``).
"""
from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlsplit

import yaml
from kubernetes.client.exceptions import ApiException

from gitopslab.lab.apps import ARGOCD_NAMESPACE
from gitopslab.lab.session import Lab

SYSTEM_NAMESPACE = "kube-system"
MANAGER = "argocd-manager"
MANAGER_ROLE = "argocd-manager-role"
MANAGER_BINDING = "argocd-manager-role-binding"
MANAGER_TOKEN = "argocd-manager-long-lived-token"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"


def fnv32a(text: str) -> int:
    h = 0x811C9DC5
    for byte in text.encode():
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def cluster_secret_name(server: str) -> str:
    """``URIToSecretName("cluster", server)``: ``cluster-<host>-<fnv32a(server)>``."""
    host = (urlsplit(server).netloc.split(":")[0]).lower()
    return f"cluster-{host}-{fnv32a(server)}"


def _kubeconfig_cluster(lab: Lab) -> dict:
    doc = yaml.safe_load(lab.kubeconfig.read_text())
    context = next(c["context"] for c in doc.get("contexts", []) if c["name"] == lab.context)
    return next(c["cluster"] for c in doc.get("clusters", []) if c["name"] == context["cluster"])


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
            "stringData": {"name": name, "server": server, "config": json.dumps(config)}}


def _create(target: Lab, obj: dict) -> bool:
    """Create one object on the target cluster; False if it already existed."""
    from kubernetes import utils

    try:
        utils.create_from_dict(target.api, obj)
        return True
    except utils.FailToCreateError as e:
        if all(getattr(x, "status", None) == 409 for x in e.api_exceptions):
            return False
        raise


_CLI_LINES = {  # what argocd cluster add logs for each object (created, existing)
    "ServiceAccount": ('ServiceAccount "{n}" created in namespace "kube-system"',
                       'ServiceAccount "{n}" already exists in namespace "kube-system"'),
    "ClusterRole": ('ClusterRole "{n}" created', 'ClusterRole "{n}" updated'),
    "ClusterRoleBinding": ('ClusterRoleBinding "{n}" created', 'ClusterRoleBinding "{n}" updated'),
    "Secret": ('Created bearer token secret for ServiceAccount "argocd-manager"',
               'Using existing bearer token secret for ServiceAccount "argocd-manager"'),
}


def _wait_token(target: Lab, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        secret = target.core.read_namespaced_secret(MANAGER_TOKEN, SYSTEM_NAMESPACE)
        token = (secret.data or {}).get("token")
        if token:
            return base64.b64decode(token).decode()
        if time.monotonic() > deadline:
            raise RuntimeError(f"le jeton du ServiceAccount {MANAGER} n'a pas été créé en {timeout:.0f} s")
        time.sleep(0.2)


def add_cluster(argocd: Lab, target: Lab, *, name: str | None = None, timeout: float = 60) -> dict:
    """``argocd cluster add <target context> [--name NAME]``: returns the cluster Secret written in ``argocd``."""
    name = name or target.context
    kube_cluster = _kubeconfig_cluster(target)
    server = kube_cluster["server"]
    ca_data = kube_cluster.get("certificate-authority-data", "")
    print(f"WARNING: This will create a service account `{MANAGER}` on the cluster referenced by context "
          f"`{target.context}` with full cluster level privileges.")
    start = time.monotonic()
    for obj in manager_objects():
        created = _create(target, obj)
        line = _CLI_LINES[obj["kind"]][0 if created else 1].format(n=obj["metadata"]["name"])
        print(f"INFO[{int(time.monotonic() - start):04d}] {line}")
    token = _wait_token(target, timeout)
    body = cluster_secret(name, server, token, ca_data)
    try:
        argocd.core.create_namespaced_secret(ARGOCD_NAMESPACE, body)
    except ApiException as e:
        if e.status != 409:
            raise
        argocd.core.replace_namespaced_secret(body["metadata"]["name"], ARGOCD_NAMESPACE, body)
    print(f"Cluster '{server}' added")
    return body


def list_clusters(argocd: Lab) -> list[dict]:
    """``argocd cluster list``: the in-cluster destination and every cluster Secret."""
    rows = [{"server": "https://kubernetes.default.svc", "name": "in-cluster"}]
    secrets = argocd.core.list_namespaced_secret(ARGOCD_NAMESPACE, label_selector=f"{SECRET_TYPE_LABEL}=cluster")
    for secret in secrets.items:
        data = {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}
        rows.append({"server": data.get("server", ""), "name": data.get("name", "")})
    print(f"{'SERVER':<40}{'NAME':<14}")
    for row in rows:
        print(f"{row['server']:<40}{row['name']:<14}")
    return rows
