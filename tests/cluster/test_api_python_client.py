"""The official ``kubernetes`` Python client against a running lab daemon."""
from __future__ import annotations

import threading
import time

import pytest
from kubernetes import client, dynamic, utils, watch
from kubernetes.client.exceptions import ApiException


def _status(e: ApiException) -> dict:
    import json
    return json.loads(e.body)


def test_version_and_discovery(lab):
    v = client.VersionApi(lab.api_client).get_code()
    assert v.git_version.startswith("v1.32.") and v.git_version.endswith("+k3s1")
    groups = client.ApisApi(lab.api_client).get_api_versions()
    assert "apps" in [g.name for g in groups.groups]
    core = client.CoreApi(lab.api_client).get_api_versions()
    assert core.versions == ["v1"]


def test_bootstrap_objects(lab):
    nodes = lab.core.list_node().items
    assert [n.metadata.name for n in nodes] == ["prod-control-plane"]
    node = nodes[0]
    ready = [c for c in node.status.conditions if c.type == "Ready"][0]
    assert ready.status == "True" and ready.reason == "KubeletReady"
    assert node.status.node_info.kubelet_version.endswith("+k3s1")
    assert node.status.node_info.container_runtime_version.startswith("containerd://")
    assert "node-role.kubernetes.io/control-plane" in node.metadata.labels
    addresses = {a.type: a.address for a in node.status.addresses}
    assert addresses == {"InternalIP": lab.paths.node_ip(), "Hostname": "prod-control-plane"}
    names = {ns.metadata.name for ns in lab.core.list_namespace().items}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert lab.core.read_namespaced_service_account("default", ns).metadata.uid
        cm = lab.core.read_namespaced_config_map("kube-root-ca.crt", ns)
        assert "BEGIN CERTIFICATE" in cm.data["ca.crt"]


def test_configmap_crud_and_errors(lab):
    ns = lab.namespace("crud")
    created = lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "c1"}, "data": {"a": "1"}})
    assert created.metadata.uid and created.metadata.creation_timestamp
    rv1 = int(created.metadata.resource_version)
    with pytest.raises(ApiException) as e:
        lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "c1"}})
    assert e.value.status == 409 and _status(e.value)["reason"] == "AlreadyExists"
    assert _status(e.value)["message"] == 'configmaps "c1" already exists'
    patched = lab.core.patch_namespaced_config_map("c1", ns, {"data": {"b": "2"}})
    assert patched.data == {"a": "1", "b": "2"} and int(patched.metadata.resource_version) > rv1
    stale = created
    stale.data = {"x": "y"}
    with pytest.raises(ApiException) as e:
        lab.core.replace_namespaced_config_map("c1", ns, stale)
    assert e.value.status == 409
    assert "the object has been modified; please apply your changes" in _status(e.value)["message"]
    lab.core.delete_namespaced_config_map("c1", ns)
    with pytest.raises(ApiException) as e:
        lab.core.read_namespaced_config_map("c1", ns)
    assert e.value.status == 404 and _status(e.value)["message"] == 'configmaps "c1" not found'


def test_generate_name_and_lists(lab):
    ns = lab.namespace("gen")
    for i in range(5):
        lab.core.create_namespaced_config_map(ns, {"metadata": {"generateName": "gen-", "labels": {"i": str(i)}}})
    items = lab.core.list_namespaced_config_map(ns, label_selector="i").items
    assert len(items) == 5
    for cm in items:
        suffix = cm.metadata.name[len("gen-"):]
        assert len(suffix) == 5 and set(suffix) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert len(lab.core.list_namespaced_config_map(ns, label_selector="i in (1,2)").items) == 2
    assert len(lab.core.list_namespaced_config_map(ns, label_selector="i!=1,i").items) == 4
    page = lab.core.list_namespaced_config_map(ns, limit=2, label_selector="i")
    assert len(page.items) == 2 and page.metadata._continue
    seen = [c.metadata.name for c in page.items]
    while page.metadata._continue:
        page = lab.core.list_namespaced_config_map(ns, limit=2, label_selector="i", _continue=page.metadata._continue)
        seen += [c.metadata.name for c in page.items]
    assert len(seen) == 5 == len(set(seen))
    with pytest.raises(ApiException) as e:
        lab.core.list_namespaced_config_map(ns, field_selector="data.a=1")
    assert e.value.status == 400 and _status(e.value)["message"] == "field label not supported: data.a"


def test_deployment_generation_status_and_scale(lab):
    ns = lab.namespace("dep")
    body = {"metadata": {"name": "web"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}
    d = lab.apps.create_namespaced_deployment(ns, body)
    assert d.metadata.generation == 1
    d = lab.apps.patch_namespaced_deployment("web", ns, {"metadata": {"labels": {"x": "y"}}})
    assert d.metadata.generation == 1  # metadata only
    d = lab.apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 3}})
    assert d.spec.replicas == 3 and d.status.selector == "app=web"
    d = lab.apps.read_namespaced_deployment("web", ns)
    assert d.spec.replicas == 3 and d.metadata.generation == 2
    # .status is ignored on the main resource, written through /status only
    lab.apps.patch_namespaced_deployment("web", ns, {"status": {"observedGeneration": 99}})
    assert lab.apps.read_namespaced_deployment("web", ns).status.observed_generation != 99
    lab.apps.patch_namespaced_deployment_status("web", ns, {"status": {"observedGeneration": 2}})
    d = lab.apps.read_namespaced_deployment("web", ns)
    assert d.status.observed_generation == 2 and d.metadata.generation == 2


def test_dynamic_client_and_create_from_yaml(lab, tmp_path):
    ns = lab.namespace("dyn")
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"""
apiVersion: v1
kind: ConfigMap
metadata: {{name: one, namespace: {ns}}}
data: {{k: v}}
---
apiVersion: v1
kind: Secret
metadata: {{name: two, namespace: {ns}}}
stringData: {{password: s3cret}}
""")
    utils.create_from_yaml(lab.api_client, str(manifest))
    dyn = dynamic.DynamicClient(lab.api_client)
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    one = cms.get(name="one", namespace=ns)
    assert one.data.k == "v"
    cms.patch(name="one", namespace=ns, body={"data": {"k": "w"}})  # strategic merge by default
    assert cms.get(name="one", namespace=ns).data.k == "w"
    secret = lab.core.read_namespaced_secret("two", ns)
    assert secret.data["password"] == "czNjcmV0"
    # server-side apply of the same manifest: data.k now belongs to the patcher
    with pytest.raises(utils.FailToCreateError) as e:
        utils.create_from_yaml(lab.api_client, str(manifest), apply=True, namespace=ns)
    assert 'Apply failed with 1 conflict: conflict with \\"OpenAPI-Generator\\" using v1: .data.k' in str(e.value)
    cms.server_side_apply(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one"},
                                "data": {"k": "v"}}, namespace=ns, field_manager="python-client", force_conflicts=True)
    assert cms.get(name="one", namespace=ns).data.k == "v"


def test_watch_stream(lab):
    ns = lab.namespace("watch")
    seen: list[tuple[str, str]] = []
    w = watch.Watch()

    def writer():
        time.sleep(0.3)
        lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "w1"}})
        lab.core.patch_namespaced_config_map("w1", ns, {"data": {"a": "b"}})
        lab.core.delete_namespaced_config_map("w1", ns)

    t = threading.Thread(target=writer)
    t.start()
    for ev in w.stream(lab.core.list_namespaced_config_map, ns, timeout_seconds=10):
        if ev["object"].metadata.name == "w1":  # not the CA ConfigMap a controller may add
            seen.append((ev["type"], ev["object"].metadata.name))
        if ev["type"] == "DELETED" and ev["object"].metadata.name == "w1":
            w.stop()
    t.join()
    assert seen == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def test_watch_from_resource_version_replays(lab):
    ns = lab.namespace("replay")
    lst = lab.core.list_namespaced_config_map(ns)
    for i in range(3):
        lab.core.create_namespaced_config_map(ns, {"metadata": {"name": f"r{i}"}})
    w = watch.Watch()
    names = []
    for ev in w.stream(lab.core.list_namespaced_config_map, ns, resource_version=lst.metadata.resource_version,
                       timeout_seconds=5):
        if ev["object"].metadata.name.startswith("r"):  # not the CA ConfigMap a controller may add
            names.append((ev["type"], ev["object"].metadata.name))
        if len(names) == 3:
            w.stop()
    assert names == [("ADDED", "r0"), ("ADDED", "r1"), ("ADDED", "r2")]


def test_events_two_views(lab):
    ns = lab.namespace("ev")
    core_ev = lab.core.create_namespaced_event(ns, {
        "metadata": {"name": "pod-a.17f0"},
        "involvedObject": {"kind": "Pod", "name": "pod-a", "namespace": ns},
        "reason": "Started", "message": "Started container app", "type": "Normal",
        "source": {"component": "kubelet"}, "count": 1,
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z"})
    assert core_ev.involved_object.name == "pod-a"
    ev = client.EventsV1Api(lab.api_client).read_namespaced_event("pod-a.17f0", ns)
    assert ev.regarding.name == "pod-a" and ev.note == "Started container app"
    assert ev.deprecated_source.component == "kubelet" and ev.deprecated_count == 1 and ev.event_time
    listed = lab.core.list_namespaced_event(ns, field_selector="involvedObject.name=pod-a,reason=Started").items
    assert [e.metadata.name for e in listed] == ["pod-a.17f0"]


def test_custom_resources(lab):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "subresources": {"status": {}},
                                  "schema": {"openAPIV3Schema": {"type": "object",
                                                                 "x-kubernetes-preserve-unknown-fields": True}}}]}}
    ext = client.ApiextensionsV1Api(lab.api_client)
    created = ext.create_custom_resource_definition(crd)
    conds = {c.type: (c.status, c.reason, c.message) for c in created.status.conditions}
    assert conds["Established"] == ("True", "InitialNamesAccepted", "the initial names have been accepted")
    assert conds["NamesAccepted"] == ("True", "NoConflicts", "no conflicts found")
    assert created.status.stored_versions == ["v1"]
    ns = lab.namespace("cr")
    obj = lab.custom.create_namespaced_custom_object("example.com", "v1", ns, "widgets", {
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1},
        "status": {"ignored": True}})
    assert obj["metadata"]["generation"] == 1 and "status" not in obj
    obj = lab.custom.patch_namespaced_custom_object("example.com", "v1", ns, "widgets", "w", {"spec": {"size": 2}})
    assert obj["metadata"]["generation"] == 2
    obj = lab.custom.patch_namespaced_custom_object_status("example.com", "v1", ns, "widgets", "w",
                                                           {"status": {"phase": "Ok"}})
    assert obj["status"] == {"phase": "Ok"} and obj["metadata"]["generation"] == 2
    listed = lab.custom.list_namespaced_custom_object("example.com", "v1", ns, "widgets")
    assert listed["items"][0]["kind"] == "Widget"
    code, body = lab.raw("PATCH", f"/apis/example.com/v1/namespaces/{ns}/widgets/w", {"spec": {"size": 3}},
                         headers={"Content-Type": "application/strategic-merge-patch+json"})
    assert code == 415 and b"UnsupportedMediaType" in body
    ext.delete_custom_resource_definition("widgets.example.com")
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            ext.read_custom_resource_definition("widgets.example.com")
        except ApiException as err:
            assert err.status == 404
            break
        time.sleep(0.1)
    else:
        pytest.fail("CRD not deleted")
    with pytest.raises(ApiException) as e:
        lab.custom.list_namespaced_custom_object("example.com", "v1", ns, "widgets")
    assert e.value.status == 404


def test_namespace_lifecycle_errors(lab):
    with pytest.raises(ApiException) as e:
        lab.core.create_namespaced_config_map("missing-ns", {"metadata": {"name": "x"}})
    assert e.value.status == 404 and _status(e.value)["message"] == 'namespaces "missing-ns" not found'
    with pytest.raises(ApiException) as e:
        lab.core.delete_namespace("default")
    assert e.value.status == 403
    ns = lab.namespace("doomed")
    lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "keep", "finalizers": ["test/hold"]}})
    lab.core.delete_namespace(ns)
    got = lab.core.read_namespace(ns)
    assert got.status.phase == "Terminating" and got.metadata.deletion_timestamp
    with pytest.raises(ApiException) as e:
        lab.core.create_namespaced_config_map(ns, {"metadata": {"name": "late"}})
    assert e.value.status == 403
    assert _status(e.value)["message"] == (f'configmaps "late" is forbidden: unable to create new content in '
                                           f'namespace {ns} because it is being terminated')
    lab.core.patch_namespaced_config_map("keep", ns, {"metadata": {"finalizers": None}})
