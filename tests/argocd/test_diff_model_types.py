"""The diff's copy of the client's model field types (model_types.json) agrees with the installed client."""
from __future__ import annotations

import json
from importlib.metadata import version

from gitopslab.argocd.diff import schema
from gitopslab.argocd.diff.generate_model_types import from_client
from gitopslab.argocd.diff.model_types import DATA, model_types
from gitopslab.cluster.kinds import BUILTINS


def test_recorded_types_match_the_installed_client():
    recorded, current = model_types(), from_client()
    source = json.loads(DATA.read_text())["source"]
    if source.endswith(f" {version('kubernetes')}"):
        assert recorded == current, "run python -m gitopslab.argocd.diff.generate_model_types"
        return
    # another client release: the models both know must say the same of the fields both know
    for name in recorded.keys() & current.keys():
        common = recorded[name].keys() & current[name].keys()
        assert {f: recorded[name][f] for f in common} == {f: current[name][f] for f in common}, name


def test_every_builtin_kind_of_the_scheme_is_typed():
    untyped = set()
    for r in BUILTINS:
        if r.group in schema.SCHEME_GROUPS:
            root = schema.typed_root({"apiVersion": r.api_version, "kind": r.kind})
            if root is None:
                untyped.add((r.api_version, r.kind))
            else:
                assert schema.struct_fields(root.model), r.kind
    # the client names these models CoreV1Event and EventsV1Event: not found by version + kind
    assert untyped == {("v1", "Event"), ("events.k8s.io/v1", "Event")}


def test_field_types_as_the_diff_reads_them():
    spec = schema.typed_root({"apiVersion": "apps/v1", "kind": "Deployment"}).field("spec")
    containers = spec.field("template").field("spec").field("containers")
    assert containers.kind == "list" and containers.strategy == "merge" and containers.merge_key == "name"
    assert containers.item.model == "V1Container" and containers.item.field("image").scalar == "str"
    labels = spec.field("template").field("metadata").field("labels")
    assert labels.kind == "map" and labels.item.scalar == "str"
    assert schema.typed_root({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application"}) is None
