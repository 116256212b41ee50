"""Server-side Tables: cells as kube-apiserver 1.32's printers compute them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from gitopslab.cluster.apiserver import tables
from gitopslab.cluster.kinds import KindRegistry

FIXTURES = yaml.safe_load((Path(__file__).parent / "fixtures" / "tables.yaml").read_text())
NOW = tables.parse_time(FIXTURES["now"])
KINDS = KindRegistry()


def resource(api_version: str, kind: str):
    res = KINDS.by_kind(api_version, kind)
    assert res is not None, f"{api_version} {kind} not in the registry"
    return res


@pytest.mark.parametrize("case", FIXTURES["cases"], ids=lambda c: c["name"])
def test_printer_cells(case):
    res = resource(*case["kind"])
    table = tables.to_table(res, [case["object"]], now=NOW)
    row = table["rows"][0]
    assert row["cells"] == case["cells"]
    assert len(row["cells"]) == len(table["columnDefinitions"])
    if "columns" in case:
        assert [c["name"] for c in table["columnDefinitions"]] == case["columns"]


@pytest.mark.parametrize("seconds, text", [
    (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (95, "95s"), (119, "119s"), (120, "2m"), (303, "5m3s"),
    (600, "10m"), (2700, "45m"), (10799, "179m"), (10800, "3h"), (4 * 3600 + 12 * 60, "4h12m"),
    (8 * 3600, "8h"), (30 * 3600, "30h"), (48 * 3600, "2d"), (3 * 86400 + 4 * 3600, "3d4h"),
    (8 * 86400, "8d"), (400 * 86400, "400d"), (2 * 365 * 86400 + 10 * 86400, "2y10d"), (9 * 365 * 86400, "9y"),
])
def test_human_duration(seconds, text):
    assert tables.human_duration(seconds) == text
    assert tables.human_duration(timedelta(seconds=seconds)) == text


def test_pod_columns_and_wide_priorities():
    table = tables.to_table(resource("v1", "Pod"), [], now=NOW)
    cols = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
    assert cols == [("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0), ("IP", 1),
                    ("Node", 1), ("Nominated Node", 1), ("Readiness Gates", 1)]
    assert table["columnDefinitions"][0]["format"] == "name"
    assert table["columnDefinitions"][0]["description"].startswith("Name must be unique within a namespace")
    assert table["rows"] == [] and table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"


@pytest.mark.parametrize("kind, names", [
    (("apps/v1", "Deployment"), ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"]),
    (("v1", "Service"), ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]),
    (("v1", "Event"), ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"]),
    (("v1", "Node"), ["Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"]),
    (("batch/v1", "Job"), ["Name", "Status", "Completions", "Duration", "Age", "Containers", "Images", "Selector"]),
])
def test_column_names(kind, names):
    assert [c["name"] for c in tables.to_table(resource(*kind), [], now=NOW)["columnDefinitions"]] == names


def test_row_object_modes():
    pod = {"metadata": {"name": "p", "namespace": "default", "labels": {"a": "b"}}, "spec": {"containers": []}, "status": {}}
    res = resource("v1", "Pod")
    meta = tables.to_table(res, [pod], now=NOW)["rows"][0]["object"]
    assert meta == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": pod["metadata"]}
    assert tables.to_table(res, [pod], now=NOW, include_object="Object")["rows"][0]["object"] is pod
    assert tables.to_table(res, [pod], now=NOW, include_object="None")["rows"][0]["object"] is None


def test_succeeded_pod_row_has_completed_condition():
    pod = {"metadata": {"name": "p"}, "spec": {"containers": []}, "status": {"phase": "Succeeded"}}
    row = tables.to_table(resource("v1", "Pod"), [pod], now=NOW)["rows"][0]
    assert row["conditions"][0]["reason"] == "Succeeded"


ARGO_APP_CRD = {
    "metadata": {"name": "applications.argoproj.io"},
    "spec": {
        "group": "argoproj.io", "scope": "Namespaced",
        "names": {"kind": "Application", "plural": "applications", "shortNames": ["app", "apps"]},
        "versions": [{
            "name": "v1alpha1", "served": True, "storage": True,
            "additionalPrinterColumns": [
                {"name": "Sync Status", "type": "string", "jsonPath": ".status.sync.status"},
                {"name": "Health Status", "type": "string", "jsonPath": ".status.health.status"},
                {"name": "Revision", "type": "string", "jsonPath": ".status.sync.revision", "priority": 10},
                {"name": "Project", "type": "string", "jsonPath": ".spec.project", "priority": 10},
            ],
        }],
    },
}


def test_custom_resource_printer_columns():
    kinds = KindRegistry()
    res = kinds.add_crd(ARGO_APP_CRD)[0]
    app = {"metadata": {"name": "guestbook"}, "spec": {"project": "default"},
           "status": {"sync": {"status": "Synced", "revision": "abc123"}, "health": {"status": "Healthy"}}}
    fresh = {"metadata": {"name": "new"}, "spec": {"project": "default"}}
    table = tables.to_table(res, [app, fresh], now=NOW)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Sync Status", "Health Status", "Revision", "Project"]
    assert table["columnDefinitions"][3]["priority"] == 10
    assert table["columnDefinitions"][1]["description"] == \
        "Custom resource definition column (in JSONPath format): .status.sync.status"
    assert table["rows"][0]["cells"] == ["guestbook", "Synced", "Healthy", "abc123", "default"]
    assert table["rows"][1]["cells"] == ["new", None, None, None, "default"]


def test_custom_resource_without_columns_gets_age():
    kinds = KindRegistry()
    crd = {"metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"},
                    "versions": [{"name": "v1", "served": True}]}}
    res = kinds.add_crd(crd)[0]
    obj = {"metadata": {"name": "w", "creationTimestamp": (NOW - timedelta(minutes=5, seconds=3)).isoformat()}}
    table = tables.to_table(res, [obj], now=NOW)
    assert [(c["name"], c["type"]) for c in table["columnDefinitions"]] == [("Name", "string"), ("Age", "date")]
    assert table["rows"][0]["cells"] == ["w", "5m3s"]


@pytest.mark.parametrize("column, obj, cell", [
    ({"type": "integer", "jsonPath": ".spec.replicas"}, {"spec": {"replicas": 3}}, 3),
    ({"type": "integer", "jsonPath": ".spec.replicas"}, {"spec": {"replicas": "x"}}, None),
    ({"type": "boolean", "jsonPath": ".spec.on"}, {"spec": {"on": True}}, True),
    ({"type": "number", "jsonPath": ".spec.ratio"}, {"spec": {"ratio": 1}}, 1.0),
    ({"type": "string", "jsonPath": ".spec.on"}, {"spec": {"on": True}}, "true"),
    ({"type": "string", "jsonPath": ".spec.containers[0].image"}, {"spec": {"containers": [{"image": "nginx"}]}}, "nginx"),
    ({"type": "string", "jsonPath": ".spec.containers[1].image"}, {"spec": {"containers": [{"image": "nginx"}]}}, None),
    ({"type": "string", "jsonPath": ".metadata.labels.app\\.kubernetes\\.io/name"},
     {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}}, "web"),
    ({"type": "string", "jsonPath": ".metadata.labels['app.kubernetes.io/name']"},
     {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}}, "web"),
    ({"type": "date", "jsonPath": ".status.at"}, {"status": {"at": "2025-06-01T11:00:00Z"}}, "60m"),
    ({"type": "date", "jsonPath": ".status.at"}, {"status": {"at": "yesterday"}}, "<invalid>"),
])
def test_crd_cell_types(column, obj, cell):
    value = tables.json_path_value(obj, column["jsonPath"])
    assert tables.crd_cell(column, value, NOW) == cell


def test_naive_now_is_utc():
    pod = {"metadata": {"name": "p", "creationTimestamp": "2025-06-01T11:59:00Z"}, "spec": {"containers": []}, "status": {}}
    naive = datetime(2025, 6, 1, 12, 0, 0)
    assert tables.to_table(resource("v1", "Pod"), [pod], now=naive)["rows"][0]["cells"][4] == "60s"
    assert NOW.tzinfo == timezone.utc or NOW.utcoffset() == timedelta(0)
