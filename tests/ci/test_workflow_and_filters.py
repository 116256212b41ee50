"""Workflow parsing (the course's file, errors) and on.push filters (branches, tags, paths, negation)."""
import pytest

from gitopslab.ci import filters, workflow
from gitopslab.content.seed import repo_files

COURSE = repo_files("nzapanarcisse/argocd-datascientest")[".github/workflows/cicd-pipeline.yml"].decode()


def test_course_workflow_parses_in_needs_order():
    flow = workflow.parse(COURSE, ".github/workflows/cicd-pipeline.yml")
    assert flow.name == "CI/CD - Pipeline de Déploiement de l'Application Web"
    assert flow.on == {"push": {"branches": ["master"]}}
    assert flow.levels() == [["build"], ["test-acceptance"], ["test-qualite"], ["push"], ["trigger-argocd-sync"]]
    assert flow.jobs["build"].outputs == {"image_tag": "${{ steps.generate_tag.outputs.tag }}"}
    assert flow.jobs["test-acceptance"].steps[4].if_ == "always()"


@pytest.mark.parametrize("text,message", [
    ("jobs: {a: {runs-on: x, steps: [{run: echo}]}}", "Required property is missing: on"),
    ("on: push", "Required property is missing: jobs"),
    ("on: push\njobs: {a: {runs-on: x, needs: b, steps: [{run: echo}]}}", "depends on unknown job 'b'"),
    ("on: push\njobs: {a: {runs-on: x, needs: b, steps: [{run: e}]}, b: {runs-on: x, needs: a, steps: [{run: e}]}}",
     "circular dependency"),
    ("on: push\njobs: {a: {runs-on: x, steps: [{name: nothing}]}}", "`uses` or `run`"),
    ("on: push\njobs: {a: {steps: [{run: e}]}}", "runs-on"),
])
def test_invalid_workflows(text, message):
    with pytest.raises(workflow.WorkflowError, match="The workflow is not valid") as e:
        workflow.parse(text, ".github/workflows/x.yml")
    assert message in str(e.value)


@pytest.mark.parametrize("on,ref,changed,want", [
    ({"push": {"branches": ["master"]}}, "refs/heads/master", ["app/x"], True),
    ({"push": {"branches": ["master"]}}, "refs/heads/main", ["app/x"], False),
    ({"push": {"branches": ["master"]}}, "refs/tags/v1", None, False),
    ({"push": {}}, "refs/tags/v1", None, True),
    ({"push": {"branches": ["release/**", "!release/old*"]}}, "refs/heads/release/a/b", [], True),
    ({"push": {"branches": ["release/**", "!release/old*"]}}, "refs/heads/release/old1", [], False),
    ({"push": {"branches": ["feature/*"]}}, "refs/heads/feature/a/b", [], False),
    ({"push": {"branches-ignore": ["wip*"]}}, "refs/heads/wip-1", [], False),
    ({"push": {"tags": ["v*"]}}, "refs/tags/v1.2", None, True),
    ({"push": {"tags": ["v*"]}}, "refs/heads/master", None, False),
    ({"push": {"branches": ["master"], "paths": ["app/**"]}}, "refs/heads/master", ["app/static/index.html"], True),
    ({"push": {"branches": ["master"], "paths": ["app/**"]}}, "refs/heads/master", ["README.md"], False),
    ({"push": {"paths-ignore": ["docs/**"]}}, "refs/heads/x", ["docs/a.md"], False),
    ({"push": {"paths-ignore": ["docs/**"]}}, "refs/heads/x", ["docs/a.md", "app/b"], True),
    ({"push": {"paths": ["app/**"]}}, "refs/heads/x", None, True),
    ({"pull_request": {}}, "refs/heads/master", [], False),
])
def test_push_filters(on, ref, changed, want):
    assert filters.push_triggers(on, ref, changed) is want


def test_changed_refs_become_push_events():
    """Does the ref watcher report created and moved refs (not unchanged or deleted ones)?"""
    from gitopslab.ci.trigger import changed_refs

    before = {("o/a", "refs/heads/master"): "1" * 40, ("o/a", "refs/heads/old"): "2" * 40}
    after = {("o/a", "refs/heads/master"): "3" * 40, ("o/b", "refs/heads/main"): "4" * 40}
    assert changed_refs(before, after) == [
        {"repository": "o/a", "ref": "refs/heads/master", "before": "1" * 40, "after": "3" * 40},
        {"repository": "o/b", "ref": "refs/heads/main", "before": "0" * 40, "after": "4" * 40},
    ]
    assert changed_refs(after, after) == []
