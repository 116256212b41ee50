"""Discovery documents, checked against the official Python client's models
and against what kubectl 1.32 relies on."""
from __future__ import annotations

import json

import pytest
from kubernetes.client import ApiClient

from gitopslab.cluster.apiserver import discovery
from gitopslab.cluster.kinds import KindRegistry

ARGO_CRD = {
    "metadata": {"name": "applications.argoproj.io"},
    "spec": {
        "group": "argoproj.io",
        "scope": "Namespaced",
        "names": {"kind": "Application", "plural": "applications", "singular": "application",
                  "shortNames": ["app", "apps"]},
        "versions": [{"name": "v1alpha1", "served": True, "storage": True, "subresources": {}}],
    },
}


def deserialize(doc: dict, model: str):
    return ApiClient().deserialize(json.dumps(doc), model, "application/json")


@pytest.fixture
def kinds() -> KindRegistry:
    return KindRegistry()


def test_version_info_has_the_nine_fields_of_a_k3s_132():
    info = discovery.version_info()
    model = deserialize(info, "VersionInfo")
    assert model.major == "1" and model.minor == "32"
    assert info["gitVersion"].startswith("v1.32.") and info["gitVersion"].endswith("+k3s1")
    assert info["platform"].startswith("linux/")
    assert set(info) == {"major", "minor", "gitVersion", "gitCommit", "gitTreeState", "buildDate",
                         "goVersion", "compiler", "platform"}


def test_api_versions_carries_server_address():
    doc = discovery.api_versions("127.0.0.1:6443")
    model = deserialize(doc, "V1APIVersions")
    assert model.versions == ["v1"]
    assert model.server_address_by_client_cidrs[0].server_address == "127.0.0.1:6443"


def test_group_list_preferred_version_is_one_of_the_versions(kinds):
    doc = discovery.api_group_list(kinds)
    model = deserialize(doc, "V1APIGroupList")
    names = [g.name for g in model.groups]
    assert "" not in names and names[0] == "apps"
    for group in doc["groups"]:
        assert group["preferredVersion"] in group["versions"]


def test_group_versions_sorted_kube_aware():
    assert discovery.sorted_versions(["v1alpha1", "v1beta1", "v2", "v1", "v2beta2", "foo"]) == \
        ["v2", "v1", "v2beta2", "v1beta1", "v1alpha1", "foo"]


def test_api_group_unknown_is_none(kinds):
    assert discovery.api_group(kinds, "nope.example.com") is None
    assert discovery.api_group(kinds, "") is None
    assert deserialize(discovery.api_group(kinds, "apps"), "V1APIGroup").name == "apps"


def test_core_resource_list(kinds):
    doc = discovery.api_resource_list(kinds, "", "v1")
    model = deserialize(doc, "V1APIResourceList")
    assert model.group_version == "v1"
    by_name = {r["name"]: r for r in doc["resources"]}
    pods = by_name["pods"]
    assert pods["singularName"] == "pod" and pods["shortNames"] == ["po"] and pods["categories"] == ["all"]
    assert pods["storageVersionHash"] == "xPOwRZ+Yhw8="  # what a real 1.32 server publishes
    assert by_name["pods/log"] == {"name": "pods/log", "singularName": "", "namespaced": True,
                                   "kind": "Pod", "verbs": ["get"]}
    assert by_name["pods/eviction"]["group"] == "policy"
    assert by_name["namespaces/finalize"]["verbs"] == ["update"]
    assert "deletecollection" not in by_name["namespaces"]["verbs"]
    assert [r["name"] for r in doc["resources"]] == sorted(by_name)


def test_scale_subresource_points_at_autoscaling_v1(kinds):
    doc = discovery.api_resource_list(kinds, "apps", "v1")
    scale = next(r for r in doc["resources"] if r["name"] == "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    assert scale["verbs"] == ["get", "patch", "update"]
    status = next(r for r in doc["resources"] if r["name"] == "deployments/status")
    assert "group" not in status and status["kind"] == "Deployment"


def test_unknown_group_version_is_none(kinds):
    assert discovery.api_resource_list(kinds, "apps", "v1beta1") is None


def test_crd_appears_in_discovery(kinds):
    kinds.add_crd(ARGO_CRD)
    groups = {g["name"]: g for g in discovery.api_group_list(kinds)["groups"]}
    assert groups["argoproj.io"]["preferredVersion"] == {"groupVersion": "argoproj.io/v1alpha1", "version": "v1alpha1"}
    doc = discovery.api_resource_list(kinds, "argoproj.io", "v1alpha1")
    assert doc["resources"][0]["shortNames"] == ["app", "apps"]


def test_aggregated_discovery_validates_against_v2_models(kinds):
    kinds.add_crd(ARGO_CRD)
    apis = discovery.aggregated_discovery(kinds, legacy=False)
    model = deserialize(apis, "V2APIGroupDiscoveryList")
    apps = next(g for g in model.items if g.metadata.name == "apps")
    deploy = next(r for r in apps.versions[0].resources if r.resource == "deployments")
    scale = next(s for s in deploy.subresources if s.subresource == "scale")
    assert (scale.response_kind.group, scale.response_kind.kind) == ("autoscaling", "Scale")
    assert deploy.scope == "Namespaced" and deploy.short_names == ["deploy"]
    assert any(g.metadata.name == "argoproj.io" for g in model.items)

    core = discovery.aggregated_discovery(kinds, legacy=True)
    model = deserialize(core, "V2APIGroupDiscoveryList")
    assert len(model.items) == 1 and model.items[0].versions[0].version == "v1"
    nodes = next(r for r in core["items"][0]["versions"][0]["resources"] if r["resource"] == "nodes")
    assert nodes["scope"] == "Cluster" and nodes["responseKind"] == {"group": "", "version": "v1", "kind": "Node"}


def test_every_listed_group_version_answers(kinds):
    """kubectl prints `couldn't get resource list` for any listed gv that fails."""
    for group in discovery.api_group_list(kinds)["groups"]:
        for v in group["versions"]:
            assert discovery.api_resource_list(kinds, group["name"], v["version"]) is not None


# --- the real kubectl 1.32 against the documents ---------------------------------------

import asyncio  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402
import threading  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

from aiohttp import web  # noqa: E402

from gitopslab.cluster.apiserver import openapi, tables  # noqa: E402

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
APP_CRD = {
    "metadata": {"name": "applications.argoproj.io"},
    "spec": {
        "group": "argoproj.io", "scope": "Namespaced",
        "names": {"kind": "Application", "plural": "applications", "shortNames": ["app"]},
        "versions": [{"name": "v1alpha1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
            "type": "object", "description": "Application is a definition of Application resource.",
            "properties": {"spec": {"type": "object", "description": "ApplicationSpec represents desired application state.",
                                    "required": ["destination"],
                                    "properties": {"destination": {"type": "object", "description": "Destination is a reference to the target Kubernetes server and namespace"}}}}}}}],
    },
}
POD = {"metadata": {"name": "web-1", "namespace": "default", "creationTimestamp": "2025-06-01T11:00:00Z"},
       "spec": {"containers": [{"name": "web", "image": "nginx"}], "nodeName": "prod-control-plane"},
       "status": {"phase": "Running", "podIPs": [{"ip": "127.42.0.5"}], "containerStatuses": [
           {"name": "web", "ready": True, "restartCount": 0, "state": {"running": {}}}]}}


def _doc_server(kinds: KindRegistry, received: list):
    def status(code, reason, message):
        return web.json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": message, "reason": reason, "code": code}, status=code)

    async def handle(request: web.Request):
        path = request.path.rstrip("/") or "/"
        received.append((request.method, request.path_qs))
        if path == "/version":
            return web.json_response(discovery.version_info())
        if path == "/api":
            return web.json_response(discovery.api_versions(request.host))
        if path == "/apis":
            return web.json_response(discovery.api_group_list(kinds))
        if path == "/openapi/v3":
            return web.json_response(openapi.v3_index(kinds))
        if path.startswith("/openapi/v3/"):
            gv = openapi.parse_gv_path(path[len("/openapi/v3/"):])
            body = gv and openapi.v3_document_json(kinds, *gv)
            return web.Response(text=body, content_type="application/json") if body else status(404, "NotFound", "not found")
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            doc = discovery.api_resource_list(kinds, "", parts[1])
            return web.json_response(doc) if doc else status(404, "NotFound", "not found")
        if parts[0] == "apis" and len(parts) == 3:
            doc = discovery.api_resource_list(kinds, parts[1], parts[2])
            return web.json_response(doc) if doc else status(404, "NotFound", "not found")
        if parts[0] == "apis" and len(parts) == 2:
            doc = discovery.api_group(kinds, parts[1])
            return web.json_response(doc) if doc else status(404, "NotFound", "not found")
        if path == "/api/v1/namespaces/default/pods" and request.method == "GET":
            table = tables.to_table(kinds.by_kind("v1", "Pod"), [POD], now=datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc))
            table["metadata"] = {"resourceVersion": "7"}
            return web.json_response(table)
        if path.endswith("/deployments/web") and request.method == "GET":
            return status(404, "NotFound", 'deployments.apps "web" not found')
        if path.endswith("/deployments") and request.method == "POST":
            obj = await request.json()
            return web.json_response(obj, status=201)
        return status(404, "NotFound", "the server could not find the requested resource")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


@pytest.fixture
def kubectl_env(tmp_path):
    """A tiny HTTP server serving only these documents, and a kubeconfig pointing at it."""
    kinds = KindRegistry()
    kinds.add_crd(APP_CRD)
    received: list = []
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(_doc_server(kinds, received))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml_kubeconfig(port))
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def kubectl(*args, stdin: str | None = None):
        return subprocess.run([KUBECTL, *args, "--cache-dir", str(tmp_path / "cache")], env=env, input=stdin,
                              capture_output=True, text=True, timeout=60)
    try:
        yield kubectl, received
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def yaml_kubeconfig(port: int) -> str:
    return (f"apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: http://127.0.0.1:{port}\n"
            "contexts:\n- name: lab\n  context:\n    cluster: lab\n    user: lab\ncurrent-context: lab\n"
            "users:\n- name: lab\n  user: {}\n")


kubectl_present = pytest.mark.skipif(not (shutil.which("kubectl") or Path("/usr/bin/kubectl").exists()),
                                     reason="kubectl not installed")


@kubectl_present
def test_kubectl_explain_builtin_and_crd(kubectl_env):
    kubectl, _ = kubectl_env
    out = kubectl("explain", "deployment.spec")
    assert out.returncode == 0, out.stderr
    assert "GROUP:      apps" in out.stdout and "KIND:       Deployment" in out.stdout
    assert "selector\t<LabelSelector> -required-" in out.stdout
    assert "template\t<PodTemplateSpec> -required-" in out.stdout
    out = kubectl("explain", "pods.spec.containers.ports")
    assert out.returncode == 0, out.stderr
    assert "containerPort\t<integer> -required-" in out.stdout
    out = kubectl("explain", "applications.spec")
    assert out.returncode == 0, out.stderr
    assert "destination\t<Object> -required-" in out.stdout and "argoproj.io" in out.stdout


@kubectl_present
def test_kubectl_get_prints_server_table(kubectl_env):
    kubectl, _ = kubectl_env
    out = kubectl("get", "pods", "-n", "default", "-o", "wide")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE",
                                "READINESS", "GATES"]
    assert lines[1].split() == ["web-1", "1/1", "Running", "0", "60m", "127.42.0.5", "prod-control-plane", "<none>", "<none>"]
    narrow = kubectl("get", "po", "-n", "default").stdout.splitlines()[0].split()
    assert narrow == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]


@kubectl_present
def test_kubectl_apply_leaves_validation_to_the_server(kubectl_env):
    """With fieldValidation declared in /openapi/v3, kubectl 1.32 sends ?fieldValidation=Strict."""
    kubectl, received = kubectl_env
    manifest = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n"
                "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n"
                "    spec:\n      containers:\n      - name: web\n        image: nginx\n")
    out = kubectl("apply", "-f", "-", stdin=manifest)
    assert out.returncode == 0, out.stderr
    assert "deployment.apps/web created" in out.stdout
    posts = [q for m, q in received if m == "POST"]
    assert posts and "fieldValidation=Strict" in posts[0]
