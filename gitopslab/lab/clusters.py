"""Registering a second cluster with Argo CD, as ``argocd cluster add CONTEXT`` does, through the API.

The work is ``gitopslab.argocd.clusterregistry``'s, shared with the lab's
``argocd cluster add|list`` commands: on the target cluster the argocd-manager
ServiceAccount, ClusterRole, ClusterRoleBinding and long-lived token Secret
(AC ``util/clusterauth``), then, in Argo CD's namespace, the cluster Secret
(AC ``util/db``). These helpers print what the CLI prints.
"""
from __future__ import annotations

import sys
import time

import yaml

from gitopslab.argocd import clusterregistry
from gitopslab.argocd.cliformat import cluster_list_table
from gitopslab.lab.session import Lab


def _kubeconfig_cluster(lab: Lab) -> dict:
    doc = yaml.safe_load(lab.kubeconfig.read_text())
    context = next(c["context"] for c in doc.get("contexts", []) if c["name"] == lab.context)
    return next(c["cluster"] for c in doc.get("clusters", []) if c["name"] == context["cluster"])


def add_cluster(argocd: Lab, target: Lab, *, name: str | None = None, timeout: float = 60) -> dict:
    """``argocd cluster add <target context> [--name NAME]``: returns the cluster Secret written in ``argocd``.

    An existing registration of the same server is replaced (``--upsert``).
    """
    kube_cluster = _kubeconfig_cluster(target)
    server = kube_cluster["server"]
    print(f"WARNING: This will create a service account `{clusterregistry.MANAGER}` on the cluster referenced by "
          f"context `{target.context}` with full cluster level privileges.")
    start = time.monotonic()

    def log(line: str) -> None:
        print(f"INFO[{int(time.monotonic() - start):04d}] {line}")

    token = clusterregistry.install_manager_rbac(target.api, log, timeout=timeout)
    body = clusterregistry.register_cluster(argocd.api, name or target.context, server, token,
                                            kube_cluster.get("certificate-authority-data", ""), upsert=True)
    print(f"Cluster '{server}' added")
    return body


def list_clusters(argocd: Lab) -> list[dict]:
    """``argocd cluster list``: the registered clusters, then the in-cluster destination."""
    rows = clusterregistry.cluster_rows(argocd.api)
    sys.stdout.write(cluster_list_table(rows))
    return rows
