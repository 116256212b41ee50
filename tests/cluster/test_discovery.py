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
