"""admit(): defaulting and validation with the real server's messages, table-driven."""
from __future__ import annotations

import copy
import ipaddress
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from gitopslab.cluster.admission import admit
from gitopslab.cluster.admission.pods import image_tag_is_latest
from gitopslab.cluster.admission.services import NODE_PORT_DYNAMIC_START, SERVICE_CIDR
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.kinds import KindRegistry

FIXTURES = yaml.safe_load((Path(__file__).parent / "fixtures" / "admission.yaml").read_text())
KINDS = KindRegistry()


class FakeCluster:
    def __init__(self, node_ports=(), cluster_ips=()):
        self.node_ports = set(node_ports)
        self.cluster_ips = set(cluster_ips)

    def used_node_ports(self) -> set[int]:
        return set(self.node_ports)

    def used_cluster_ips(self) -> set[str]:
        return set(self.cluster_ips)

    def now(self) -> datetime:
        return datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def _get(obj, dotted: str):
    cur = obj
    for part in dotted.split("."):
        if isinstance(cur, list):
            idx = int(part)
            if idx >= len(cur):
                raise KeyError(dotted)
            cur = cur[idx]
        elif isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            raise KeyError(dotted)
    return cur


def assert_subset(expected, actual, path="$"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not a map"
        for k, v in expected.items():
            assert k in actual, f"{path}.{k} missing in {actual!r}"
            assert_subset(v, actual[k], f"{path}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{path}: {actual!r} != {expected!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_subset(e, a, f"{path}[{i}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def run_case(case, operation):
    res = KINDS.by_kind(*case["kind"])
    ctx = FakeCluster(case.get("used_node_ports", ()), case.get("used_cluster_ips", ()))
    old = None
    obj = case.get("object")
    if operation == "UPDATE":
        old = admit(res, case["old"], None, FakeCluster(), operation="CREATE")
        if "patch" in case:
            obj = merge_patch(old, case["patch"])
    original = copy.deepcopy(obj)
    try:
        result = admit(res, obj, old, ctx, operation=operation)
        error = None
    except ApiError as e:
        result, error = None, e
    assert obj == original, "admit() must not mutate its input"
    if "error" in case or "causes" in case:
        assert error is not None, f"expected a 422, got {result}"
        assert error.code == 422 and error.reason == "Invalid"
        if "error" in case:
            assert error.message == case["error"]
        got = [(c["field"], c["reason"], c["message"]) for c in error.details["causes"]]
        for want in case.get("causes", []):
            matches = [g for g in got if g[0] == want[0] and g[1] == want[1] and (len(want) < 3 or g[2] == want[2])]
            assert matches, f"cause {want} not in {got}"
        assert error.details["kind"] == case["kind"][1]
        return None
    assert error is None, f"unexpected {error}"
    assert_subset(case.get("expect", {}), result)
    for path in case.get("absent", []):
        with pytest.raises(KeyError):
            _get(result, path)
    return result


@pytest.mark.parametrize("case", FIXTURES["cases"], ids=lambda c: c["name"])
def test_create(case):
    run_case(case, "CREATE")


@pytest.mark.parametrize("case", FIXTURES["updates"], ids=lambda c: c["name"])
def test_update(case):
    run_case(case, "UPDATE")


def test_cluster_ip_allocated_in_k3s_range_avoiding_used_and_kubernetes():
    res = KINDS.by_kind("v1", "Service")
    used = {"10.43.0.10"}
    svc = {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}
    for _ in range(50):
        out = admit(res, svc, None, FakeCluster(cluster_ips=used), operation="CREATE")
        ip = out["spec"]["clusterIP"]
        assert ipaddress.ip_address(ip) in SERVICE_CIDR
        assert ip not in used | {"10.43.0.1", "10.43.0.0", "10.43.255.255"}
        assert out["spec"]["clusterIPs"] == [ip]


def test_node_port_allocated_from_dynamic_band():
    res = KINDS.by_kind("v1", "Service")
    svc = {"metadata": {"name": "s"}, "spec": {"type": "LoadBalancer", "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 443}]}}
    out = admit(res, svc, None, FakeCluster(node_ports={30100}), operation="CREATE")
    ports = [p["nodePort"] for p in out["spec"]["ports"]]
    assert all(NODE_PORT_DYNAMIC_START <= p <= 32767 for p in ports)
    assert len(set(ports)) == 2 and 30100 not in ports
    assert NODE_PORT_DYNAMIC_START == 30086
    assert out["spec"]["allocateLoadBalancerNodePorts"] is True


@pytest.mark.parametrize("image, latest", [
    ("nginx", True), ("nginx:latest", True), ("nginx:1.27", False), ("registry.local:5000/app", True),
    ("registry.local:5000/app:v2", False), ("nginx@sha256:abc", False),
])
def test_image_pull_policy_rule(image, latest):
    assert image_tag_is_latest(image) is latest


def test_unknown_operation_rejected():
    with pytest.raises(ValueError):
        admit(KINDS.by_kind("v1", "ConfigMap"), {"metadata": {"name": "x"}}, None, FakeCluster(), operation="DELETE")


def test_custom_resource_only_checks_metadata():
    kinds = KindRegistry()
    res = kinds.add_crd({"metadata": {"name": "applications.argoproj.io"},
                         "spec": {"group": "argoproj.io", "names": {"kind": "Application", "plural": "applications"},
                                  "versions": [{"name": "v1alpha1", "served": True}]}})[0]
    app = {"metadata": {"name": "guestbook"}, "spec": {"anything": True}}
    assert admit(res, app, None, FakeCluster(), operation="CREATE") == app
    with pytest.raises(ApiError) as e:
        admit(res, {"metadata": {"name": "Guest Book"}}, None, FakeCluster(), operation="CREATE")
    assert e.value.message.startswith('Application.argoproj.io "Guest Book" is invalid: metadata.name: Invalid value')
