"""Sync tasks: hook parsing, waves, sync options and task ordering (gitops-engine pkg/sync).

Matrix: fixtures/synctasks_cases.yaml (kind order, waves, hook phases, helm
hooks, Namespace and CRD moves, mirrored prune waves, PruneLast per resource
and per app, generateName hooks); hook annotations (Skip, crd-install, helm
test, deletion hooks); delete policies; sync-options values; replace/SSA
choice; hook names; task identity properties.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitopslab.argocd import synctasks
from gitopslab.argocd.synctasks import SyncTask

from .yamlload import load

CASES = load((Path(__file__).parent / "fixtures" / "synctasks_cases.yaml").read_text())["cases"]


def _describe(task: SyncTask) -> str:
    return f"{task.phase}/{task.wave} {task.kind}/{task.name}" + (" prune" if task.is_prune else "")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_task_order(case):
    options = case.get("options") or {}
    resources = [(r.get("target"), r.get("live")) for r in case.get("resources", [])]
    tasks = synctasks.build_tasks(
        resources,
        case.get("hooks", []),
        namespace=options.get("namespace", "default"),
        revision=options.get("revision", ""),
        started_at_unix=options.get("started_at_unix", 0),
        prune_last=options.get("prune_last", False),
    )
    assert [_describe(t) for t in tasks] == case["expected"]


def test_build_tasks_sets_namespace_and_hook_finalizer_without_mutating_input():
    hook = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "h", "annotations": {synctasks.HOOK: "PreSync"}}}
    target = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    tasks = synctasks.build_tasks([(target, None)], [hook], namespace="dest")
    assert [t.namespace for t in tasks] == ["dest", "dest"]
    assert tasks[0].target["metadata"]["finalizers"] == [synctasks.HOOK_FINALIZER]
    assert "finalizers" not in hook["metadata"] and "namespace" not in target["metadata"]


def test_build_tasks_finds_live_hooks_and_skips_hooks_on_request():
    hook = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "h", "annotations": {synctasks.HOOK: "PreSync"}}}
    live = {**hook, "metadata": {**hook["metadata"], "namespace": "ns"}}
    tasks = synctasks.build_tasks([], [hook], namespace="ns", find_live=lambda target: live)
    assert tasks[0].live is live and tasks[0].delete_before_creation
    assert synctasks.build_tasks([], [hook], namespace="ns", skip_hooks=True) == []


def _annotated(**annotations):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": annotations}}


HOOK_CASES = [
    # (annotations, is_hook, is_skip, is_ignored, phases)
    ({}, False, False, False, ["Sync"]),
    ({synctasks.HOOK: "PreSync"}, True, False, False, ["PreSync"]),
    ({synctasks.HOOK: " PostSync , PreSync,PreSync"}, True, False, False, ["PreSync", "PostSync"]),
    ({synctasks.HOOK: "Skip"}, False, True, False, []),
    ({synctasks.HOOK: "Skip,PreSync"}, True, False, False, ["PreSync"]),
    ({synctasks.HOOK: "Bogus"}, True, False, True, []),
    ({synctasks.HOOK: "PreDelete"}, True, False, True, []),
    ({synctasks.HELM_HOOK: "post-upgrade,post-install"}, True, False, False, ["PostSync"]),
    ({synctasks.HELM_HOOK: "test"}, True, False, True, []),
    ({synctasks.HELM_HOOK: "crd-install"}, False, False, False, ["Sync"]),
]


@pytest.mark.parametrize("annotations, hook, skip, ignored, phases", HOOK_CASES)
def test_hook_annotations(annotations, hook, skip, ignored, phases):
    obj = _annotated(**annotations)
    assert synctasks.is_hook(obj) is hook
    assert synctasks.is_skip(obj) is skip
    assert synctasks.is_ignored(obj) is ignored
    assert synctasks.sync_phases(obj) == phases


@pytest.mark.parametrize(
    "annotations, expected",
    [
        ({synctasks.HOOK: "PreDelete"}, ["PreDelete"]),
        ({synctasks.HELM_HOOK: "post-delete"}, ["PostDelete"]),
        ({synctasks.HOOK: "PreSync, PostDelete"}, ["PostDelete"]),
        ({synctasks.HOOK: "PreSync"}, []),
    ],
)
def test_deletion_hooks(annotations, expected):
    obj = _annotated(**annotations)
    assert synctasks.deletion_hook_types(obj) == expected
    assert synctasks.is_any_hook(obj) is True


def test_split_hooks_drops_ignored_hooks():
    plain, hook, helm_test = _annotated(), _annotated(**{synctasks.HOOK: "PreSync"}), _annotated(
        **{synctasks.HELM_HOOK: "test"})
    assert synctasks.split_hooks([plain, hook, helm_test, None]) == ([plain], [hook])


@pytest.mark.parametrize(
    "annotations, expected",
    [
        ({}, ["BeforeHookCreation"]),
        ({synctasks.HOOK_DELETE_POLICY: "HookSucceeded,HookFailed"}, ["HookSucceeded", "HookFailed"]),
        ({synctasks.HELM_HOOK_DELETE_POLICY: "hook-succeeded"}, ["HookSucceeded"]),
        ({synctasks.HOOK_DELETE_POLICY: "Nope"}, ["BeforeHookCreation"]),
    ],
)
def test_delete_policies(annotations, expected):
    assert synctasks.delete_policies(_annotated(**annotations)) == expected


@pytest.mark.parametrize(
    "annotations, expected",
    [({}, 0), ({synctasks.SYNC_WAVE: "-7"}, -7), ({synctasks.SYNC_WAVE: "+2"}, 2), ({synctasks.SYNC_WAVE: " 2"}, 0),
     ({synctasks.SYNC_WAVE: "x", synctasks.HELM_HOOK_WEIGHT: "4"}, 4), ({synctasks.HELM_HOOK_WEIGHT: "1e3"}, 0)],
)
def test_sync_wave(annotations, expected):
    assert synctasks.sync_wave(_annotated(**annotations)) == expected


def test_sync_options_annotation():
    obj = _annotated(**{synctasks.SYNC_OPTIONS: "Prune=false, PruneLast=true,Delete=confirm,Replace=true"})
    assert synctasks.sync_option_value(obj, "Prune") == "false"
    assert synctasks.has_sync_option(obj, "PruneLast=true")
    assert synctasks.is_pruning_disabled(obj)
    assert not synctasks.requires_prune_confirmation(obj)
    assert synctasks.requires_deletion_confirmation(obj) and not synctasks.is_deletion_disabled(obj)
    assert synctasks.is_pruning_disabled(_annotated(), app_default="false")
    assert not synctasks.is_pruning_disabled(_annotated(**{synctasks.SYNC_OPTIONS: "Prune=true"}), app_default="false")
    assert synctasks.requires_prune_confirmation(_annotated(**{synctasks.SYNC_OPTIONS: "Prune=confirm"}))


def test_replace_and_server_side_apply_choice():
    replace = _annotated(**{synctasks.SYNC_OPTIONS: "Replace=true"})
    plain = _annotated()
    assert synctasks.should_replace(SyncTask("Sync", replace))
    assert synctasks.should_replace(SyncTask("Sync", plain, live=replace))
    assert not synctasks.should_replace(SyncTask("Sync", plain))
    assert synctasks.should_replace(SyncTask("Sync", plain), app_replace=True)
    ssa = _annotated(**{synctasks.SYNC_OPTIONS: "ServerSideApply=true"})
    no_ssa = _annotated(**{synctasks.SYNC_OPTIONS: "ServerSideApply=false"})
    assert synctasks.should_server_side_apply(ssa)
    assert not synctasks.should_server_side_apply(ssa, dry_run=True)
    assert not synctasks.should_server_side_apply(no_ssa, app_server_side_apply=True)
    assert synctasks.should_server_side_apply(plain, app_server_side_apply=True)


@pytest.mark.parametrize(
    "revision, expected",
    [("0123456789abcdef", "job-0123456-presync-42"), ("ABCDEFGH", "job-abcdefg-presync-42"),
     ("HEAD", "job-head-presync-42"), ("", "job--presync-42")],
)
def test_hook_name(revision, expected):
    assert synctasks.hook_name("job-", revision, "PreSync", 42) == expected


def test_task_identity_prefers_target():
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "a"}}
    live = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "b"}}
    task = SyncTask("Sync", target, live)
    assert (task.group, task.version, task.kind, task.namespace, task.name) == ("apps", "v1", "Deployment", "a", "web")
    assert not task.is_prune and not task.is_hook and task.hook_type == ""
    prune = SyncTask("Sync", None, live)
    assert prune.is_prune and prune.namespace == "b"
    assert str(prune) == "Sync/0 resource apps/Deployment:b/web obj->nil"
