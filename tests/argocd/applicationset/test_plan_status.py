"""Generated Applications, the create/update plan, validation and status, without a server.

Matrix: fixtures/application_cases.yaml (rendering, default finalizer, preserveResourcesOnDeletion,
templatePatch, first error and its reason); fixtures/plan_cases.yaml (create, unchanged, update with
preserved fields, adoption, another owner); fixtures/status_cases.yaml (conditions, lastTransitionTime,
health); validation messages; status.resources; policies; requeue rules.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from gitopslab.argocd.applicationset import applications, controller, plan, status
from gitopslab.argocd.applicationset.generators import GeneratorContext
from gitopslab.argocd.clusters import clusters_from_secrets

from ..yamlload import load

FIXTURES = Path(__file__).parent / "fixtures"
APPLICATIONS = load((FIXTURES / "application_cases.yaml").read_text())["cases"]
PLANS = load((FIXTURES / "plan_cases.yaml").read_text())["cases"]
STATUS = load((FIXTURES / "status_cases.yaml").read_text())["cases"]


@pytest.mark.parametrize("case", APPLICATIONS, ids=[c["name"] for c in APPLICATIONS])
def test_generate_applications(case):
    appset = {"metadata": {"name": "set", "namespace": "argocd"}, "spec": case["spec"]}
    generated = applications.generate_applications(appset, GeneratorContext(projects=frozenset({"default"})))
    if "error" in case:
        assert (generated.reason, generated.error) == (case["reason"], case["error"])
        assert [a["metadata"]["name"] for a in generated.applications] == case.get("applications", [])
    else:
        assert generated.error == ""
        assert generated.applications == case["expected"]


@pytest.mark.parametrize("case", PLANS, ids=[c["name"] for c in PLANS])
def test_create_or_update(case):
    appset, generated, live = case["appset"], case["generated"], case.get("live")
    if "error" in case:
        with pytest.raises(plan.AlreadyOwned) as err:
            plan.updated_application(live, generated, appset)
        assert str(err.value) == case["error"]
        return
    if live is None:
        assert plan.new_application(generated, appset) == case["expected"]
        return
    desired = plan.updated_application(live, generated, appset)
    patch = plan.update_patch(live, desired) if plan.needs_update(live, desired) else {}
    assert patch == case["expected"]


@pytest.mark.parametrize("case", STATUS, ids=[c["name"] for c in STATUS])
def test_conditions(case):
    conditions: list = []
    for step in case["steps"]:
        after = status.with_condition(conditions, step["condition"], step["parametersGenerated"], step["now"])
        if step.get("unchanged"):
            assert not status.conditions_changed(conditions, after)
            assert after == conditions
            continue
        assert status.conditions_changed(conditions, after)
        assert after == step["expected"]
        assert status.health(after) == step["health"]
        conditions = after


def test_health_without_conditions_and_rollout():
    assert status.health([]) == {"status": "Unknown", "message": "No status conditions found for ApplicationSet"}
    progressing = [status.condition("RolloutProgressing", "True", "ApplicationSetModified", "step 1"),
                   status.up_to_date_condition()]
    assert status.health(progressing) == {"status": "Progressing", "message": "step 1"}


def test_validation_messages():
    clusters = clusters_from_secrets([])
    dest = {"server": "https://kubernetes.default.svc", "namespace": "x"}
    apps = [{"metadata": {"name": n}, "spec": {"project": p, "destination": d}} for n, p, d in (
        ("a", "default", dest), ("a", "default", dest), ("b", "nope", dest),
        ("c", "default", {"server": "https://10.0.0.9"}), ("d", "default", {"name": "staging"}))]
    errors = plan.validation_errors(apps, "set", frozenset({"default"}), clusters)
    assert errors == {
        "a": "ApplicationSet set contains applications with duplicate name: a",
        "b": "application references project nope which does not exist",
        "c": 'application destination spec is invalid: error getting cluster by server "https://10.0.0.9": '
             'rpc error: code = NotFound desc = cluster "https://10.0.0.9" not found',
        "d": "application destination spec is invalid: there are no clusters with this name: staging",
    }
    assert plan.validation_message(errors) == \
        "application destination spec is invalid: there are no clusters with this name: staging (and 3 more)"
    assert plan.validation_message({"a": errors["a"]}) == errors["a"]


def test_resources_status():
    apps = [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
             "metadata": {"name": n, "namespace": "argocd"}, "status": s}
            for n, s in (("web", {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}), ("api", {}))]
    assert status.resources(apps) == [
        {"group": "argoproj.io", "version": "v1alpha1", "kind": "Application", "namespace": "argocd", "name": "api",
         "health": {}},
        {"group": "argoproj.io", "version": "v1alpha1", "kind": "Application", "namespace": "argocd", "name": "web",
         "status": "Synced", "health": {"status": "Healthy"}}]


@pytest.mark.parametrize("value,update,delete", [
    (None, True, True), ("sync", True, True), ("create-only", False, False), ("create-update", True, False),
    ("create-delete", False, True)])
def test_policies(value, update, delete):
    appset = {"spec": {"syncPolicy": {"applicationsSync": value}} if value else {}}
    policy = plan.policy(appset)
    assert (plan.allow_update(policy), plan.allow_delete(policy)) == (update, delete)


def test_requeue_rules():
    base = {"metadata": {"name": "s", "annotations": {"a": "1"}}, "spec": {"generators": []}, "status": {}}
    with_status = dict(base, status={"conditions": [{"type": "x"}]})
    assert not controller.should_requeue_appset(base, with_status)
    refresh = dict(base, metadata={"name": "s", "annotations": {"a": "1", controller.REFRESH_ANNOTATION: "true"}})
    assert controller.should_requeue_appset(base, refresh)
    assert not controller.should_requeue_appset(refresh, base)
    assert controller.should_requeue_appset(base, dict(base, spec={"generators": [{"list": {}}]}))
    app = {"metadata": {"name": "a", "labels": {}}, "spec": {"project": "default"}, "status": {}}
    assert not controller.should_requeue_app(app, dict(app, status={"sync": {"status": "Synced"}}))
    assert not controller.should_requeue_app(app, dict(app, metadata={"name": "a"}))
    assert controller.should_requeue_app(app, dict(app, metadata={"name": "a", "finalizers": ["x"]}))


def test_push_refresh_and_generator_lookup():
    appset = {"spec": {"generators": [
        {"list": {"elements": []}},
        {"matrix": {"generators": [{"clusters": {}}, {"git": {"repoURL": "https://github.com/O/R.git",
                                                              "revision": "main"}}]}}]}}
    urls = {"https://github.com/o/r"}
    assert controller.uses_generator(appset, "clusters")
    assert not controller.uses_generator(appset, "scmProvider")
    assert controller.refreshed_by_push(appset, urls, "refs/heads/main")
    assert not controller.refreshed_by_push(appset, urls, "refs/heads/feature")
    assert not controller.refreshed_by_push(appset, {"https://github.com/o/other"}, "refs/heads/main")
