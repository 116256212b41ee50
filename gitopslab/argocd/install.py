"""What `argocd install` creates: the objects of the argo-cd Helm chart, through the API.

``install(kube)`` creates, with the official ``kubernetes`` client, what
``helm install argocd argo/argo-cd -n argocd`` creates with the chart's
default values (``manifests/*.yaml``), plus what argocd-server creates at its
first start (``argocd-initial-admin-secret``, AppProject ``default``) and the
``argocd-redis`` Secret the chart's pre-install hook Job writes.  The same
code works against a real cluster (the pods then run real Argo CD images);
``install_with_helm`` is the real-mode path that installs the chart itself.
"""
from __future__ import annotations

import base64
import secrets
import string
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gitopslab.argocd import kubeapi

NAMESPACE = "argocd"
MANIFESTS = Path(__file__).parent / "manifests"
MANIFEST_FILES = ("crds.yaml", "rbac.yaml", "configs.yaml", "services.yaml", "workloads.yaml",
                  "networkpolicies.yaml")
CHART_REPO_URL = "https://argoproj.github.io/argo-helm"
NODE_PORT_HTTP = 30080
NODE_PORT_HTTPS = 30443
PASSWORD_ALPHABET = string.ascii_letters + string.digits + "-"
CHART_LABELS = {
    "helm.sh/chart": "argo-cd-10.1.1",
    "app.kubernetes.io/instance": "argocd",
    "app.kubernetes.io/managed-by": "Helm",
    "app.kubernetes.io/part-of": "argocd",
    "app.kubernetes.io/version": "v3.4.4",
}

# plural and scope of every kind the install writes (no discovery needed)
_RESOURCES = {
    "Namespace": ("namespaces", False),
    "CustomResourceDefinition": ("customresourcedefinitions", False),
    "ClusterRole": ("clusterroles", False),
    "ClusterRoleBinding": ("clusterrolebindings", False),
    "ServiceAccount": ("serviceaccounts", True),
    "Role": ("roles", True),
    "RoleBinding": ("rolebindings", True),
    "ConfigMap": ("configmaps", True),
    "Secret": ("secrets", True),
    "Service": ("services", True),
    "Deployment": ("deployments", True),
    "StatefulSet": ("statefulsets", True),
    "NetworkPolicy": ("networkpolicies", True),
    "AppProject": ("appprojects", True),
}


@dataclass
class InstallReport:
    already_installed: bool = False
    created: list[str] = field(default_factory=list)     # "kind/name"
    existing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)     # kinds the server does not serve
    service_type: str = "ClusterIP"

    def lines(self) -> list[str]:
        """What the CLI prints (French)."""
        if self.already_installed:
            return ["Argo CD est déjà installé dans le namespace argocd (rien à faire)."]
        out = [f"{ref} created" for ref in self.created]
        out += [f"{ref} unchanged" for ref in self.existing]
        out += [f"{ref} ignoré : ce type n'est pas servi par le cluster" for ref in self.skipped]
        out.append(f"Argo CD installé dans le namespace {NAMESPACE} "
                   f"({len(self.created)} objets créés, Service argocd-server de type {self.service_type}).")
        return out


def install_manifests(service_type: str = "ClusterIP") -> list[dict]:
    """Every object of the install, in creation order (pure: reads packaged YAML)."""
    objects: list[dict] = [_namespace()]
    for name in MANIFEST_FILES:
        objects += [d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d]
    objects.append(_redis_secret())
    objects.append(_initial_admin_secret())
    objects.append(default_project())
    if service_type == "NodePort":
        _make_server_node_port(objects)
    return objects


def default_project() -> dict:
    """AppProject ``default`` as argocd-server creates it when missing."""
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
        "metadata": {"name": "default", "namespace": NAMESPACE},
        "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}],
                 "clusterResourceWhitelist": [{"group": "*", "kind": "*"}]},
    }


def random_password(length: int = 16) -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def install(kube, *, service_type: str = "ClusterIP", wait_crds_seconds: float = 30.0) -> InstallReport:
    """Install Argo CD through the Kubernetes API; a second call is a no-op.

    ``kube`` is a ``kubernetes.client.ApiClient`` or a kubeconfig path.
    """
    api = _api_client(kube)
    report = InstallReport(service_type=service_type)
    if _is_installed(api):
        report.already_installed = True
        return report
    for obj in install_manifests(service_type):
        _create(api, obj, report, wait_crds_seconds)
    return report


def install_with_helm(kubeconfig: str | Path | None = None, *, service_type: str = "ClusterIP",
                      kube_context: str | None = None, chart_version: str | None = None):
    """Real-mode path: ``helm install argocd argo/argo-cd -n argocd --create-namespace``.

    Uses helm-python-sdk (no helm binary); returns the Helm release summary.
    """
    import helm_python

    values = {"server": {"service": {"type": service_type}}} if service_type != "ClusterIP" else {}
    with helm_python.Config(kubeconfig_path=kubeconfig, kube_context=kube_context, namespace=NAMESPACE) as config:
        return config.install("argo-cd", "argocd", values, namespace=NAMESPACE, create_namespace=True,
                              chart_repo_url=CHART_REPO_URL, chart_version=chart_version)


# --- helpers ---------------------------------------------------------------

def _namespace() -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}


def _secret(name: str, data: dict[str, str], labels: dict[str, str]) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def _initial_admin_secret() -> dict:
    # argocd-server writes it without labels (util/settings InitializeSettings)
    secret = _secret("argocd-initial-admin-secret", {"password": random_password()}, {})
    del secret["metadata"]["labels"]
    return secret


def _redis_secret() -> dict:
    labels = dict(CHART_LABELS, **{"app.kubernetes.io/name": "argocd-redis",
                                   "app.kubernetes.io/component": "redis"})
    labels.pop("helm.sh/chart")
    labels.pop("app.kubernetes.io/managed-by")
    return _secret("argocd-redis", {"auth": random_password()}, labels)


def _make_server_node_port(objects: list[dict]) -> None:
    for obj in objects:
        if obj["kind"] == "Service" and obj["metadata"]["name"] == "argocd-server":
            obj["spec"]["type"] = "NodePort"
            obj["spec"]["externalTrafficPolicy"] = "Cluster"
            for port in obj["spec"]["ports"]:
                port["nodePort"] = NODE_PORT_HTTP if port["name"] == "http" else NODE_PORT_HTTPS


def _api_client(kube):
    from kubernetes import client, config

    if isinstance(kube, client.ApiClient):
        return kube
    return config.new_client_from_config(config_file=str(kube))


def _path(obj: dict, *, name: str | None = None) -> str:
    plural, namespaced = _RESOURCES[obj["kind"]]
    namespace = obj["metadata"].get("namespace", NAMESPACE) if namespaced else None
    return kubeapi.path_for(obj["apiVersion"], plural, namespace=namespace, name=name)


def _call(api, method: str, path: str, body: dict | None = None):
    return kubeapi.request(api, method, path, body)


def _is_installed(api) -> bool:
    from kubernetes.client.exceptions import ApiException

    probes = (_namespace(), {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition"},
              {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"namespace": NAMESPACE}})
    names = (NAMESPACE, "applications.argoproj.io", "argocd-server")
    try:
        for obj, name in zip(probes, names):
            obj.setdefault("metadata", {})
            _call(api, "GET", _path(obj, name=name))
    except ApiException as e:
        if e.status == 404:
            return False
        raise
    return True


def _create(api, obj: dict, report: InstallReport, wait_seconds: float) -> None:
    from kubernetes.client.exceptions import ApiException

    ref = f"{obj['kind'].lower()}/{obj['metadata']['name']}"
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            _call(api, "POST", _path(obj), obj)
            report.created.append(ref)
            return
        except ApiException as e:
            if e.status == 409:
                report.existing.append(ref)
                return
            # a freshly created CRD takes a moment to be served
            if e.status == 404 and obj["kind"] == "AppProject" and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            if e.status == 404 and obj["kind"] not in ("AppProject",):
                report.skipped.append(ref)
                return
            raise
