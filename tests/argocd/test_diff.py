"""Desired vs live comparison (Argo CD legacy diff) over a YAML table.

Matrix (fixtures/diff_cases.yaml): two-way diff with server defaults and
live-only fields, injected sidecars, strategic merge keys (containers, env,
ports), "80" vs 80 and 1 vs 1.0, status and metadata noise, namespace,
tracking annotation, omitempty empties, unknown fields, three-way diffs with
last-applied (removed fields and containers, live-only labels, invalid
annotation), ignoreDifferences (JSON pointers, globs, names, jq, managed
fields managers), Service defaults, Secret stringData, Role rules, custom
resources (JSON merge), StatefulSet claim templates. Plus create/delete
results, normalize(), and the jq subset.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from gitopslab.argocd import diff
from gitopslab.argocd.diff import jqpath

from .yamlload import load

TABLE = load((Path(__file__).parent / "fixtures" / "diff_cases.yaml").read_text())


def _merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _build(spec):
    if isinstance(spec, dict) and "$base" in spec:
        return _merge_patch(copy.deepcopy(TABLE["bases"][spec["$base"]]), spec.get("$patch") or {})
    return spec


def _get(obj, dotted):
    for key in dotted.split("."):
        obj = obj[key]
    return obj


@pytest.mark.parametrize("case", TABLE["cases"], ids=[c["name"] for c in TABLE["cases"]])
def test_diff_case(case):
    config, live = _build(case["config"]), _build(case["live"])
    before = copy.deepcopy((config, live))
    result = diff.diff(config, live, ignore_differences=case.get("ignoreDifferences", []),
                       ignore_status=case.get("ignoreStatus", True))
    assert result.modified is case["expected"]["modified"]
    for path, value in (case["expected"].get("predicted") or {}).items():
        assert _get(result.predicted_live, path) == value
    assert (config, live) == before  # inputs are never mutated


def test_create_and_delete():
    """A missing live object is a change (create); an extra one is not a diff (prune decides)."""
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
    created = diff.diff(config, None)
    assert created.modified and created.normalized_live is None and created.predicted_live["data"] == {"a": "b"}
    deleted = diff.diff(None, config)
    assert not deleted.modified and deleted.predicted_live is None


def test_normalize():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "creationTimestamp": None},
              "stringData": {"k": "v"}, "data": {"n": None}, "status": {"x": 1}}
    assert diff.normalize(secret) == {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                                      "data": {"k": "dg==", "n": ""}}
    assert "status" in diff.normalize(secret, ignore_status=False)


def test_ignore_difference_from_spec():
    rule = diff.IgnoreDifference.from_spec({"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]})
    assert rule.json_pointers == ("/spec/replicas",) and rule.matches(
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}})
    assert not rule.matches({"apiVersion": "v1", "kind": "Deployment"})


DOC = {"spec": {"replicas": 2, "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]},
       "metadata": {"annotations": {"a/b": "1", "c": "2"}}}

JQ_CASES = [
    (".spec.replicas", [("spec", "replicas")]),
    ('.metadata.annotations["a/b"]', [("metadata", "annotations", "a/b")]),
    ('.metadata.annotations."a/b"', [("metadata", "annotations", "a/b")]),
    (".spec.containers[1].image", [("spec", "containers", 1, "image")]),
    (".spec.containers[-1]", [("spec", "containers", 1)]),
    ('.spec.containers[] | select(.name == "b") | .image', [("spec", "containers", 1, "image")]),
    ('.spec.containers[] | select(.name != "b" and .image == "x")', [("spec", "containers", 0)]),
    ('.spec.containers[] | select(.name == "z" or (.image | startswith("y")))', [("spec", "containers", 1)]),
    ('.spec.containers[] | select(.name | test("^[ab]$") | not)', []),
    (".missing[]?.field", []),
    (".metadata.annotations[]", [("metadata", "annotations", "a/b"), ("metadata", "annotations", "c")]),
]


@pytest.mark.parametrize("expression, paths", JQ_CASES, ids=[c[0] for c in JQ_CASES])
def test_jq_paths(expression, paths):
    assert jqpath.matching_paths(DOC, expression) == paths


@pytest.mark.parametrize("expression", [".spec | keys", "map(.x)", ".spec.replicas.x", ".missing[]"])
def test_jq_unsupported_or_failing(expression):
    with pytest.raises(jqpath.JqError):
        jqpath.matching_paths(DOC, expression)


def test_jq_delete_removes_list_items_from_the_end():
    doc = copy.deepcopy(DOC)
    jqpath.delete_paths(doc, ".spec.containers[]")
    assert doc["spec"]["containers"] == []
