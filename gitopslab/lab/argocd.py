"""Installing Argo CD and giving it access to repositories, declaratively through the API.

``install_argocd`` is ``helm install argocd argo/argo-cd --set
server.service.type=NodePort`` (the course's command): on the embedded lab
it creates the chart's objects, on a real cluster it installs the chart.
A repository is connected the way Argo CD stores it: a Secret labelled
``argocd.argoproj.io/secret-type: repository`` in the ``argocd`` namespace.
"""
from __future__ import annotations

import base64
import time

from kubernetes.client.exceptions import ApiException

from gitopslab.lab.apps import ARGOCD_NAMESPACE
from gitopslab.lab.session import Lab

SERVER_NODE_PORT = 30080
REPOSITORY_LABEL = "argocd.argoproj.io/secret-type"


def install_argocd(lab: Lab, *, quiet: bool = False):
    """Install Argo CD with argocd-server on NodePort 30080 (a second call changes nothing)."""
    from gitopslab.argocd import install as argocd_install

    if not lab.embedded:
        return argocd_install.install_with_helm(lab.kubeconfig, service_type="NodePort", kube_context=lab.context)
    report = argocd_install.install(lab.api, service_type="NodePort")
    if not quiet:
        if report.already_installed:
            print("Argo CD est déjà installé dans le namespace argocd.")
        else:
            print(f"Argo CD installé dans le namespace argocd ({len(report.created)} objets créés).")
    return report


def wait_argocd_ready(lab: Lab, *, timeout: float = 120, quiet: bool = False) -> bool:
    """Wait until every Argo CD workload is available (what ``kubectl get pod -n argocd`` shows Running)."""
    start = time.monotonic()
    while True:
        pods = lab.core.list_namespaced_pod(ARGOCD_NAMESPACE).items
        ready = [p for p in pods if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]
        if pods and len(ready) == len(pods):
            if not quiet:
                print(f"✅ Les {len(pods)} pods d'Argo CD sont prêts.")
            return True
        if time.monotonic() - start > timeout:
            if not quiet:
                print(f"❌ {len(ready)}/{len(pods)} pods d'Argo CD prêts après {timeout:.0f} s.")
            return False
        time.sleep(0.5)


def initial_admin_password(lab: Lab) -> str:
    """``kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath="{.data.password}" | base64 -d``."""
    secret = lab.core.read_namespaced_secret("argocd-initial-admin-secret", ARGOCD_NAMESPACE)
    return base64.b64decode(secret.data["password"]).decode()


def server_url(lab: Lab) -> str:
    """The Argo CD UI address: the node's address and argocd-server's NodePort."""
    from gitopslab.lab.network import node_address

    svc = lab.core.read_namespaced_service("argocd-server", ARGOCD_NAMESPACE)
    port = next((p.node_port for p in svc.spec.ports if p.node_port and p.name == "https"), None) \
        or next((p.node_port for p in svc.spec.ports if p.node_port), SERVER_NODE_PORT)
    return f"https://{node_address(lab)}:{port}"


def repository_secret(name: str, url: str, username: str, password: str, *, project: str | None = None) -> dict:
    """The Secret Argo CD writes for ``argocd repo add URL --username U --password P``."""
    data = {"type": "git", "url": url, "username": username, "password": password}
    if project:
        data["project"] = project
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": ARGOCD_NAMESPACE,
                         "labels": {REPOSITORY_LABEL: "repository"}},
            "type": "Opaque", "stringData": data}


def add_repository(lab: Lab, url: str, username: str, password: str, *, name: str | None = None,
                   quiet: bool = False) -> dict:
    """Connect a (private) repository to Argo CD: create or update its repository Secret."""
    name = name or "repo-" + url.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1].lower()
    body = repository_secret(name, url, username, password)
    try:
        lab.core.create_namespaced_secret(ARGOCD_NAMESPACE, body)
        verb = "created"
    except ApiException as e:
        if e.status != 409:
            raise
        lab.core.replace_namespaced_secret(name, ARGOCD_NAMESPACE, body)
        verb = "configured"
    if not quiet:
        print(f"secret/{name} {verb}")
        print(f"Dépôt {url} connecté à Argo CD (Secret {name}, utilisateur {username}).")
    return body
