"""Install: what `argocd install` creates, and a second install changing nothing.

Matrix: objects and labels of the chart; NodePort 30080/30443 on request; the
initial admin password; CRD printer columns; idempotence through the API
(a recording fake of the kubernetes ApiClient).
"""
import base64
import re

from kubernetes import client

from gitopslab.argocd import install as inst


def _by(objects, kind, name):
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def test_components_and_chart_labels():
    objects = inst.install_manifests()
    workloads = {(o["kind"], o["metadata"]["name"]) for o in objects if o["kind"] in ("Deployment", "StatefulSet")}
    assert workloads == {
        ("StatefulSet", "argocd-application-controller"), ("Deployment", "argocd-server"),
        ("Deployment", "argocd-repo-server"), ("Deployment", "argocd-applicationset-controller"),
        ("Deployment", "argocd-notifications-controller"), ("Deployment", "argocd-redis"),
        ("Deployment", "argocd-dex-server")}
    server = _by(objects, "Deployment", "argocd-server")
    labels = server["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "argocd-server"
    assert labels["app.kubernetes.io/part-of"] == "argocd"
    assert labels["app.kubernetes.io/component"] == "server"
    assert objects[0] == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}}


def test_configmaps_follow_the_chart_defaults():
    objects = inst.install_manifests()
    cm = _by(objects, "ConfigMap", "argocd-cm")["data"]
    assert cm["timeout.reconciliation"] == "120s"
    assert cm["timeout.reconciliation.jitter"] == "60s"
    notif = _by(objects, "ConfigMap", "argocd-notifications-cm")["data"]
    assert notif["context"].strip() == "argocdUrl: https://argocd.example.com"
    for name in ("argocd-rbac-cm", "argocd-cmd-params-cm"):
        _by(objects, "ConfigMap", name)


def test_server_service_node_ports_only_when_asked():
    default = _by(inst.install_manifests(), "Service", "argocd-server")["spec"]
    assert default["type"] == "ClusterIP"
    assert all("nodePort" not in p for p in default["ports"])
    spec = _by(inst.install_manifests("NodePort"), "Service", "argocd-server")["spec"]
    assert spec["type"] == "NodePort"
    assert {(p["port"], p["nodePort"]) for p in spec["ports"]} == {(80, 30080), (443, 30443)}


def test_initial_admin_password_is_16_chars():
    secret = _by(inst.install_manifests(), "Secret", "argocd-initial-admin-secret")
    password = base64.b64decode(secret["data"]["password"]).decode()
    assert re.fullmatch(r"[0-9A-Za-z-]{16}", password)
    assert password != base64.b64decode(
        _by(inst.install_manifests(), "Secret", "argocd-initial-admin-secret")["data"]["password"]).decode()


def test_crds_have_upstream_names_and_columns():
    crds = {o["metadata"]["name"]: o for o in inst.install_manifests() if o["kind"] == "CustomResourceDefinition"}
    assert set(crds) == {"applications.argoproj.io", "appprojects.argoproj.io", "applicationsets.argoproj.io"}
    app = crds["applications.argoproj.io"]["spec"]
    assert app["names"]["shortNames"] == ["app", "apps"]
    version = app["versions"][0]
    assert [c["name"] for c in version["additionalPrinterColumns"]][:2] == ["Sync Status", "Health Status"]
    assert version["subresources"] == {}
    schema = version["schema"]["openAPIV3Schema"]
    assert set(schema["required"]) == {"metadata", "spec"}
    assert schema["properties"]["spec"]["properties"]["source"]["properties"]["helm"]["properties"][
        "valuesObject"]["x-kubernetes-preserve-unknown-fields"] is True


def test_default_project_allows_everything():
    project = _by(inst.install_manifests(), "AppProject", "default")
    assert project["spec"]["sourceRepos"] == ["*"]
    assert project["spec"]["destinations"] == [{"server": "*", "namespace": "*"}]


class _Response:
    def __init__(self, status, body):
        import json
        self.status, self.reason = status, "OK" if status < 300 else "Error"
        self.data = json.dumps(body).encode()
        self.headers = {"content-type": "application/json"}

    def read(self):
        return self.data

    def getheaders(self):
        return self.headers


class FakeApi(client.ApiClient):
    """Records POSTs at the transport level; GET answers from what was posted."""

    def __init__(self):
        super().__init__(client.Configuration(host="https://lab.invalid"))
        self.objects = {}

    def call_api(self, method, url, header_params=None, body=None, post_params=None, _request_timeout=None):
        path = url.removeprefix(self.configuration.host)
        if method == "POST":
            key = path + "/" + body["metadata"]["name"]
            if key in self.objects:
                return _Response(409, {"kind": "Status", "code": 409, "reason": "AlreadyExists"})
            self.objects[key] = body
            return _Response(201, body)
        if path in self.objects:
            return _Response(200, self.objects[path])
        return _Response(404, {"kind": "Status", "code": 404, "reason": "NotFound"})


def test_install_twice_is_a_no_op():
    api = FakeApi()
    first = inst.install(api)
    assert not first.already_installed
    assert "customresourcedefinition/applications.argoproj.io" in first.created
    assert "/apis/argoproj.io/v1alpha1/namespaces/argocd/appprojects/default" in api.objects
    count = len(api.objects)
    second = inst.install(api)
    assert second.already_installed
    assert len(api.objects) == count
    assert "déjà installé" in second.lines()[0]
