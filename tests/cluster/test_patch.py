"""Patch engine: table-driven fixtures plus a few properties.

The fixtures (``fixtures/patch/*.yaml``) cover:

- ``json.yaml``: RFC 6902 as ``kubectl patch --type=json`` sends it, and the
  400/422 answers for malformed or failing patches;
- ``merge.yaml``: RFC 7386 (``--type=merge``, ``kubectl label``/``scale``);
- ``strategic.yaml``: merge keys per kind family and list path, every
  directive, and the errors upstream returns for misuse;
- ``kubectl.yaml``: the exact bodies kubectl 1.32 sent to a capture server
  (``apply`` three-way patches with ``$setElementOrder``, ``set image``,
  ``set env``, ``rollout restart``);
- ``managedfields.yaml``: Update entries for non-apply writes;
- ``apply.yaml``: server-side apply: create, conflicts (wording as
  kube-apiserver), force, shared ownership, removal of fields no longer
  applied, before-first-apply, kubectl's last-applied take-over.

A case is ``{name, type, target, patch, expected | error}``; ``steps`` chain
several writes, each step's result being the next step's target.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from gitopslab.cluster.patch import (
    ApplyConflict, PatchError, json_merge_patch, json_patch, server_side_apply,
    strategic_merge_patch, supports_strategic_merge, update_managed_fields)
from gitopslab.cluster.patch import fieldset as fs
from gitopslab.cluster.patch import schema as schemas

FIXTURES = Path(__file__).parent / "fixtures" / "patch"
DEFAULT_NOW = "2026-03-01T10:00:00Z"


def load_cases():
    for path in sorted(FIXTURES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text())["cases"]:
            yield pytest.param(case, id=f"{path.stem}: {case['name']}")


def _gvk(case: dict, target) -> tuple[str, str]:
    source = target or case.get("patch") or {}
    return case.get("apiVersion", source.get("apiVersion")), case.get("kind", source.get("kind"))


def run_step(step: dict, target):
    kind = step["type"]
    if kind == "json":
        return json_patch(target, step["patch"])
    if kind == "merge":
        return json_merge_patch(target, step["patch"])
    api_version, kind_name = _gvk(step, target)
    if kind == "strategic":
        return strategic_merge_patch(target, step["patch"], api_version, kind_name)
    if kind == "apply":
        return server_side_apply(target, step["patch"], manager=step.get("manager", "kubectl"),
                                 force=step.get("force", False), api_version=api_version, kind=kind_name,
                                 now=step.get("now", DEFAULT_NOW), subresource=step.get("subresource", ""))
    if kind == "update":
        return update_managed_fields(target, step["patch"], manager=step["manager"], api_version=api_version,
                                     kind=kind_name, now=step.get("now", DEFAULT_NOW),
                                     subresource=step.get("subresource", ""))
    raise AssertionError(f"unknown case type {kind}")


def check_error(error, expected: dict) -> None:
    assert error.code == expected["code"]
    if "reason" in expected:
        assert error.reason == expected["reason"]
    if "message" in expected:
        assert error.message == expected["message"]
    if "conflicts" in expected:
        assert [list(c) for c in error.conflicts] == expected["conflicts"]
    if "details" in expected:
        assert error.details == expected["details"]


@pytest.mark.parametrize("case", list(load_cases()))
def test_patch_fixture(case):
    target = case.get("target")
    pristine = copy.deepcopy(target)
    steps = case.get("steps") or [case]
    current = target
    for step in steps:
        before = copy.deepcopy(current)
        patch_before = copy.deepcopy(step.get("patch"))
        if "error" in step:
            with pytest.raises((PatchError, ApplyConflict)) as info:
                run_step(step, current)
            check_error(info.value, step["error"])
            return
        result = run_step(step, current)
        assert current == before, "the target was mutated"
        assert step.get("patch") == patch_before, "the patch was mutated"
        if "expected" in step:
            assert result == step["expected"]
            # dict equality ignores key order but not list order; JSON text
            # of the result must not carry directives either.
            assert "$patch" not in json.dumps(result) and "$setElementOrder" not in json.dumps(result)
        current = result
    assert target == pristine


# --- properties the fixtures do not show ------------------------------------

@pytest.mark.parametrize(("api_version", "kind", "expected"), [
    ("apps/v1", "Deployment", True), ("v1", "ConfigMap", True), ("batch/v1", "CronJob", True),
    ("autoscaling/v1", "Scale", True), ("argoproj.io/v1alpha1", "Application", False),
    ("apps/v1beta1", "Deployment", False),
])
def test_strategic_merge_is_for_built_in_kinds(api_version, kind, expected):
    assert supports_strategic_merge(api_version, kind) is expected


@pytest.mark.parametrize("path", [
    (fs.field("spec"), fs.field("replicas")),
    (fs.field("spec"), fs.field("template"), fs.field("spec"), fs.field("containers"),
     fs.key_element({"name": "web"}), fs.field("ports"), fs.key_element({"containerPort": 80, "protocol": "TCP"})),
    (fs.field("metadata"), fs.field("finalizers"), fs.value_element("example.com/x")),
])
def test_fields_v1_round_trip(path):
    paths = frozenset({path, path[:1]})
    encoded = fs.to_fields_v1(paths)
    assert fs.from_fields_v1(json.loads(json.dumps(encoded))) == paths


def test_fields_v1_wire_form():
    """Keys serialise as sorted JSON; '.' marks a member that has children."""
    ports = (fs.field("ports"), fs.key_element({"protocol": "TCP", "containerPort": 80}))
    encoded = fs.to_fields_v1({ports, ports + (fs.field("containerPort"),)})
    assert encoded == {"f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}
    assert fs.path_string(ports) == '.ports[containerPort=80,protocol="TCP"]'


def _meta_fields():
    meta = json.loads((Path(schemas.__file__).parents[1] / "apiserver" / "openapi_data" / "patch_meta.json")
                      .read_text())
    return meta["packages"]


# Each fragment of the hand-written table, with the k8s.io/api struct it
# describes; the markers generated from k8s.io/api must agree with it.
FRAGMENTS = [
    (schemas.POD_SPEC, "core/v1", "PodSpec"),
    (schemas.CONTAINER, "core/v1", "Container"),
    (schemas.OBJECT_META, "meta/v1", "ObjectMeta"),
    ({k.split(".", 1)[1]: v for k, v in schemas.KIND_RULES[("", "Service")].items() if k.startswith("spec.")},
     "core/v1", "ServiceSpec"),
    (schemas.POD_STATUS, "core/v1", "PodStatus"),
]


@pytest.mark.parametrize(("fragment", "package", "struct"), FRAGMENTS, ids=[f[2] for f in FRAGMENTS])
def test_table_agrees_with_k8s_api_markers(fragment, package, struct):
    fields = _meta_fields()[package]["fields"].get(struct, {})
    for name, markers in fields.items():
        strategy = markers.get("x-kubernetes-patch-strategy", "")
        list_type = markers.get("x-kubernetes-list-type")
        rule = fragment.get(name)
        if "merge" in strategy or list_type in ("map", "set"):
            assert isinstance(rule, schemas.ListRule), f"{struct}.{name} missing from the table"
            assert rule.smp_merge == ("merge" in strategy), f"{struct}.{name}"
            assert rule.smp_key == markers.get("x-kubernetes-patch-merge-key"), f"{struct}.{name}"
            assert rule.ssa == (list_type or "atomic"), f"{struct}.{name}"
            assert list(rule.keys) == markers.get("x-kubernetes-list-map-keys", []), f"{struct}.{name}"
            assert rule.retain_keys == ("retainKeys" in strategy), f"{struct}.{name}"
        elif markers.get("x-kubernetes-map-type") == "atomic":
            assert isinstance(rule, schemas.MapRule) and rule.ssa_atomic, f"{struct}.{name}"
        else:
            assert not isinstance(rule, schemas.ListRule) or rule.ssa == "atomic", f"{struct}.{name}"


def test_errors_become_status_bodies():
    """Do patch errors carry the Status the API server answers with?"""
    live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    created = update_managed_fields(None, live, manager="kubectl-edit", api_version="v1", kind="ConfigMap",
                                    now=DEFAULT_NOW)
    with pytest.raises(ApplyConflict) as info:
        server_side_apply(created, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                                    "data": {"a": "2"}},
                          manager="argocd-controller", force=False, api_version="v1", kind="ConfigMap",
                          now=DEFAULT_NOW)
    assert info.value.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.a',
        "reason": "Conflict", "code": 409,
        "details": {"causes": [{"reason": "FieldManagerConflict",
                                "message": 'conflict with "kubectl-edit" using v1', "field": ".data.a"}]},
    }
    with pytest.raises(PatchError) as info:
        json_patch(live, [{"op": "test", "path": "/data/a", "value": "2"}])
    assert info.value.status()["code"] == 422 and info.value.status()["reason"] == "Invalid"


def test_more_than_ten_updaters_fold_into_ancient_changes():
    """Do the oldest Update entries fold into "ancient-changes" past ten managers?"""
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}
    for i in range(12):
        new = copy.deepcopy(obj)
        new["data"][f"k{i}"] = "v"
        obj = update_managed_fields(obj if i else None, new, manager=f"writer-{i:02d}", api_version="v1",
                                    kind="ConfigMap", now=f"2026-03-01T10:{i:02d}:00Z")
    managers = [(e["manager"], e.get("time")) for e in obj["metadata"]["managedFields"]]
    assert len(managers) == 10
    assert managers[0] == ("ancient-changes", "2026-03-01T10:02:00Z")
    ancient = obj["metadata"]["managedFields"][0]["fieldsV1"]["f:data"]
    assert set(ancient) == {".", "f:k0", "f:k1", "f:k2"}  # writer-00 created data
    assert [m for m, _ in managers[1:]] == [f"writer-{i:02d}" for i in range(3, 12)]
