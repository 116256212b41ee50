"""Resource tracking ids, methods and ownership (Argo CD resource_tracking.go, state.go).

Matrix: id format (core group, namespaced, cluster-scoped, destination-namespace
default), methods annotation / label / annotation+label (and unknown -> annotation),
installation id, CRDs untracked, apps in other namespaces, parsing errors,
owning_app per method, is_self_referenced for copied objects, label truncation,
label -> annotation migration normalisation.
"""

from __future__ import annotations

import pytest

from gitopslab.argocd import tracking


def _obj(kind="Service", name="guestbook-ui", namespace=None, api_version="v1", annotations=None, labels=None):
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if annotations:
        metadata["annotations"] = annotations
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


ID_CASES = [
    ("core group is empty", _obj(namespace="default"), "guestbook:/Service:default/guestbook-ui"),
    ("group kept", _obj("Deployment", "web", "prod", "apps/v1"), "guestbook:apps/Deployment:prod/web"),
    ("no namespace -> destination", _obj("Deployment", "web", None, "apps/v1"), "guestbook:apps/Deployment:dest/web"),
    ("cluster-scoped too", _obj("ClusterRole", "r", None, "rbac.authorization.k8s.io/v1"),
     "guestbook:rbac.authorization.k8s.io/ClusterRole:dest/r"),
]


@pytest.mark.parametrize("obj, expected", [c[1:] for c in ID_CASES], ids=[c[0] for c in ID_CASES])
def test_tracking_id(obj, expected):
    tracked = tracking.set_tracking(obj, "guestbook", "annotation", "dest")
    assert tracked["metadata"]["annotations"] == {tracking.TRACKING_ID: expected}
    assert "labels" not in tracked["metadata"]
    assert "annotations" not in obj["metadata"]  # input untouched


@pytest.mark.parametrize(
    "method, annotation, label",
    [
        ("annotation", True, False),
        ("label", False, True),
        ("annotation+label", True, True),
        ("", True, False),
        ("bogus", True, False),
    ],
)
def test_methods(method, annotation, label):
    tracked = tracking.set_tracking(_obj(namespace="ns"), "app", method, "ns")
    meta = tracked["metadata"]
    assert (tracking.TRACKING_ID in meta.get("annotations", {})) is annotation
    assert (meta.get("labels", {}).get(tracking.INSTANCE_LABEL) == "app") is label


def test_installation_id_written_and_required():
    tracked = tracking.set_tracking(_obj(namespace="ns"), "app", installation_id="lab-1")
    assert tracked["metadata"]["annotations"][tracking.INSTALLATION_ID] == "lab-1"
    assert tracking.owning_app(tracked, installation_id="lab-1") == "app"
    assert tracking.owning_app(tracked, installation_id="other") is None
    again = tracking.set_tracking(tracked, "app")
    assert tracking.INSTALLATION_ID not in again["metadata"]["annotations"]


def test_crds_are_not_tracked():
    crd = _obj("CustomResourceDefinition", "x.example.com", api_version="apiextensions.k8s.io/v1")
    assert tracking.set_tracking(crd, "app", "annotation+label", "ns") == crd


def test_instance_name_for_apps_in_any_namespace():
    assert tracking.instance_name("guestbook", "argocd") == "guestbook"
    assert tracking.instance_name("guestbook", "") == "guestbook"
    assert tracking.instance_name("guestbook", "team-a") == "team-a_guestbook"
    tracked = tracking.set_tracking(_obj(namespace="ns"), tracking.instance_name("guestbook", "team-a"))
    assert tracking.owning_app(tracked) == "team-a_guestbook"


@pytest.mark.parametrize("value", ["app", "app:/Service", "app:Service:ns/x", "app:/Service:x", "app:a/b/c:ns/x"])
def test_parse_rejects_malformed_ids(value):
    with pytest.raises(tracking.TrackingError, match="wrong resource tracking format"):
        tracking.parse_tracking_id(value)


def test_parse_roundtrip_with_colons_in_name():
    parsed = tracking.parse_tracking_id("app:rbac.authorization.k8s.io/ClusterRole:ns/system:metrics")
    assert parsed == tracking.TrackingId("app", "rbac.authorization.k8s.io", "ClusterRole", "ns", "system:metrics")
    assert str(parsed) == "app:rbac.authorization.k8s.io/ClusterRole:ns/system:metrics"


OWNER_CASES = [
    ("annotation", _obj(annotations={tracking.TRACKING_ID: "a1:/Service:ns/guestbook-ui"}), "annotation", "a1"),
    ("label ignored by annotation method", _obj(labels={tracking.INSTANCE_LABEL: "a1"}), "annotation", None),
    ("label method", _obj(labels={tracking.INSTANCE_LABEL: "a1"}), "label", "a1"),
    ("annotation ignored by label method", _obj(annotations={tracking.TRACKING_ID: "a1:/Service:ns/x"}), "label", None),
    ("annotation+label reads annotation", _obj(labels={tracking.INSTANCE_LABEL: "a2"},
                                               annotations={tracking.TRACKING_ID: "a1:/Service:ns/x"}),
     "annotation+label", "a1"),
    ("malformed annotation", _obj(annotations={tracking.TRACKING_ID: "a1"}), "annotation", None),
    ("untracked", _obj(), "annotation", None),
]


@pytest.mark.parametrize("obj, method, expected", [c[1:] for c in OWNER_CASES], ids=[c[0] for c in OWNER_CASES])
def test_owning_app(obj, method, expected):
    assert tracking.owning_app(obj, method) == expected


def test_custom_label_key():
    obj = tracking.set_tracking(_obj(), "app", "label", label_key="argocd.argoproj.io/instance")
    assert obj["metadata"]["labels"] == {"argocd.argoproj.io/instance": "app"}
    assert tracking.owning_app(obj, "label", label_key="argocd.argoproj.io/instance") == "app"


def test_copied_object_with_foreign_tracking_id_is_not_ours():
    """A Service copied by hand keeps the original's annotation: it must not be pruned."""
    original = tracking.set_tracking(_obj(namespace="ns"), "app", dest_namespace="ns")
    copy_ = {**original, "metadata": {**original["metadata"], "name": "copy"}}
    assert tracking.owning_app(copy_) == "app"
    assert tracking.is_self_referenced(copy_, None, "app") is False
    assert tracking.is_self_referenced(original, None, "app") is True
    moved = {**original, "metadata": {**original["metadata"], "namespace": "other"}}
    assert tracking.is_self_referenced(moved, None, "app") is False
    assert tracking.is_self_referenced(copy_, None, "app", "label") is True
    assert tracking.is_self_referenced(None, None, "app") is True


def test_self_reference_uses_config_when_present():
    """An Ingress moved from extensions to networking.k8s.io compares with the new group."""
    live = _obj("Ingress", "web", "ns", "networking.k8s.io/v1",
                annotations={tracking.TRACKING_ID: "app:extensions/Ingress:ns/web"})
    config = _obj("Ingress", "web", "ns", "networking.k8s.io/v1")
    assert tracking.is_self_referenced(live, config, "app") is True
    assert tracking.is_self_referenced(live, None, "app") is False


def test_cluster_scoped_object_matches_despite_destination_namespace():
    role = tracking.set_tracking(_obj("ClusterRole", "r", None, "rbac.authorization.k8s.io/v1"), "app", dest_namespace="ns")
    assert role["metadata"]["annotations"][tracking.TRACKING_ID].endswith(":ns/r")
    assert tracking.is_self_referenced(role, None, "app") is True


@pytest.mark.parametrize(
    "value, expected",
    [("short", "short"), ("a" * 63, "a" * 63), ("a" * 62 + "-b", "a" * 62), ("a" * 61 + "--b", "a" * 61),
     ("a" * 70, "a" * 63)],
)
def test_truncate_label(value, expected):
    assert tracking.truncate_label(value) == expected


def test_annotation_and_label_truncates_long_names_but_label_method_does_not():
    name = "x" * 70
    both = tracking.set_tracking(_obj(), name, "annotation+label")
    assert both["metadata"]["labels"][tracking.INSTANCE_LABEL] == "x" * 63
    assert tracking.set_tracking(_obj(), name, "label")["metadata"]["labels"][tracking.INSTANCE_LABEL] == name


def test_normalize_for_diff_migrates_label_tracked_live_objects():
    config = tracking.set_tracking(_obj(namespace="ns"), "app", dest_namespace="ns")
    live = _obj(namespace="ns", labels={tracking.INSTANCE_LABEL: "app", "tier": "web"})
    normalized = tracking.normalize_for_diff(config, live)
    assert normalized["metadata"]["annotations"] == config["metadata"]["annotations"]
    assert normalized["metadata"]["labels"] == {"tier": "web"}
    assert tracking.normalize_for_diff(config, live, "label") is live
    foreign = _obj(namespace="ns", labels={tracking.INSTANCE_LABEL: "app"},
                   annotations={tracking.TRACKING_ID: "other:/Service:ns/guestbook-ui"})
    kept = tracking.normalize_for_diff(config, foreign)
    assert kept["metadata"]["annotations"][tracking.TRACKING_ID] == "other:/Service:ns/guestbook-ui"
    assert "labels" not in kept["metadata"]
