"""Multi-source Applications without a server: validation, ref sources, value files, status shapes, CLI text.

Tables of (input, Argo CD 3.4's message or shape). Rendering runs the real
repo server over two real ``file://`` repositories: the course's webapp chart
and a values repository referenced as ``$values``.
"""
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gitopslab.argocd import appstatus, cliformat, operation, projects, sources
from gitopslab.argocd.compare import Comparison
from gitopslab.argocd.gitrepo import GitRepos
from gitopslab.argocd.reposerver import RepoServer, TargetStateError, generate_sources

CHART = Path(__file__).resolve().parents[2] / "gitopslab/content/repos/nzapanarcisse/datascientest-chart"
PROJECT = {"metadata": {"name": "default"},
           "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}]}}
CHART_SRC = {"repoURL": "https://github.com/nzapanarcisse/datascientest-chart.git", "path": "webapp/webapp-chart",
             "targetRevision": "HEAD", "helm": {"valueFiles": ["$values/envs/prod.yaml"]}}
VALUES_SRC = {"repoURL": "https://example.com/values.git", "targetRevision": "main", "ref": "values"}


def app(spec):
    return {"metadata": {"name": "demo", "namespace": "argocd"},
            "spec": {"project": "default", "destination": {"server": "https://kubernetes.default.svc",
                                                           "namespace": "demo"}, **spec}}


# --- validation (util/argo/argo.go ValidatePermissions, GetRefSources) --------------------------------

@pytest.mark.parametrize("spec, messages", [
    ({"sources": [CHART_SRC, VALUES_SRC]}, []),
    # Argo CD 3.x does not reject both fields: ``sources`` wins, ``source`` is ignored
    ({"source": {"repoURL": ""}, "sources": [CHART_SRC, VALUES_SRC]}, []),
    ({"sources": [CHART_SRC, {"repoURL": "https://example.com/x.git", "targetRevision": "HEAD"}]},
     ["spec.source.repoURL and either source.path, source.chart, or source.ref are required for source "
      "{https://example.com/x.git  HEAD <nil> <nil> <nil> <nil>   }"]),
    ({"sources": [{"repoURL": "https://charts.example.com", "chart": "nginx"}]},
     ["spec.source.targetRevision is required if the manifest source is a helm chart"]),
    ({"source": {"repoURL": "https://example.com/x.git"}},
     ["spec.source.repoURL and either spec.source.path or spec.source.chart are required"]),
])
def test_spec_validation(spec, messages):
    assert projects.spec_conditions(app(spec), PROJECT, None) == messages


def test_sources_not_permitted_are_each_reported():
    project = {"metadata": {"name": "p"}, "spec": {"sourceRepos": ["https://github.com/*"]}}
    spec = app({"project": "p", "sources": [CHART_SRC, VALUES_SRC]})
    assert projects.spec_conditions(spec, project, None) == [
        "application repo https://example.com/values.git is not permitted in project 'p'"]


@pytest.mark.parametrize("refs, error", [
    (["values", "values"], "invalid sources: multiple sources had the same `ref` key"),
    (["va.lues"], "sources.ref va.lues cannot contain any special characters except '_' and '-'"),
])
def test_ref_key_errors(refs, error):
    srcs = [CHART_SRC] + [dict(VALUES_SRC, ref=r) for r in refs]
    with pytest.raises(sources.RefSourceError, match="^" + error.replace(".", r"\.") + "$"):
        sources.ref_targets(srcs)


def test_ref_targets_use_given_revisions_and_need_two_sources():
    assert sources.ref_targets([VALUES_SRC]) == {}
    refs = sources.ref_targets([CHART_SRC, VALUES_SRC], ["", "abc123"])
    assert refs == {"$values": sources.RefTarget("https://example.com/values.git", "abc123")}
    assert sources.ref_targets([CHART_SRC, VALUES_SRC])["$values"].target_revision == "main"


@pytest.mark.parametrize("value_files, refs, error", [
    (["$other/x.yaml"], {"$values": sources.RefTarget("u", "HEAD")},
     'source referenced "$other", which is not one of the available sources ($values)'),
    (["$values/x.yaml"], {}, "source referenced \"$values\", but no source has a 'ref' field defined"),
    (["$values/x.yaml"], {"$values": sources.RefTarget("u", "1.0.0", chart="nginx")},
     "source has a 'chart' field defined, but Helm charts are not yet not supported for 'ref' sources"),
])
def test_referenced_ref_errors(value_files, refs, error):
    with pytest.raises(sources.RefSourceError) as e:
        sources.referenced_refs({"valueFiles": value_files}, refs)
    assert str(e.value) == error


def test_ref_value_file_path(tmp_path):
    assert sources.ref_value_file_path("$values/envs/prod.yaml", tmp_path) == (tmp_path / "envs/prod.yaml").resolve()
    with pytest.raises(sources.RefSourceError, match="resolved to outside repository root"):
        sources.ref_value_file_path("$values/../../etc/passwd", tmp_path)


# --- rendering through the repo server -----------------------------------------------------------------

def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@x", "PATH": "/usr/bin:/bin", "HOME": str(cwd)}).stdout.strip()


def commit(repo: Path) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repos(tmp_path):
    chart, values = tmp_path / "chart", tmp_path / "values"
    shutil.copytree(CHART, chart)
    values.mkdir()
    for repo in (chart, values):
        git(repo, "init", "-q", "-b", "main")
    (values / "envs").mkdir()
    (values / "envs/prod.yaml").write_text("replicaCount: 2\n")
    return chart, commit(chart), values, commit(values)


def render(server, srcs, revisions=()):
    return generate_sources(server, srcs, list(revisions), app_name="demo", namespace="demo", multiple=True,
                            credentials_for=lambda url: None)


def deployment(objects):
    return next(o for o in objects if o["kind"] == "Deployment")


def test_chart_with_values_from_a_ref_source(repos, tmp_path):
    chart, chart_sha, values, values_sha = repos
    server = RepoServer(GitRepos(tmp_path / "cache"))
    srcs = [dict(CHART_SRC, repoURL=f"file://{chart}"), dict(VALUES_SRC, repoURL=f"file://{values}")]
    objects, revisions, types = render(server, srcs)
    assert deployment(objects)["spec"]["replicas"] == 2
    assert sorted(o["kind"] for o in objects) == ["Deployment", "Service"]
    assert revisions == [chart_sha, values_sha] and types == ["Helm", ""]

    # a new commit of the values repository is a new render (its commit is in the cache key)
    (values / "envs/prod.yaml").write_text("replicaCount: 3\n")
    new_sha = commit(values)
    server.invalidate()
    objects, revisions, _ = render(server, srcs)
    assert deployment(objects)["spec"]["replicas"] == 3 and revisions == [chart_sha, new_sha]
    # a rollback's revisions pin the ref source too
    objects, revisions, _ = render(server, srcs, [chart_sha, values_sha])
    assert deployment(objects)["spec"]["replicas"] == 2 and revisions == [chart_sha, values_sha]


@pytest.mark.parametrize("value_file, error", [
    ("$nope/envs/prod.yaml", 'failed to generate manifest for source 1 of 2: rpc error: code = Unknown desc = '
                             'source referenced "$nope", which is not one of the available sources ($values)'),
])
def test_unknown_ref_message(repos, tmp_path, value_file, error):
    chart, _, values, _ = repos
    server = RepoServer(GitRepos(tmp_path / "cache"))
    srcs = [dict(CHART_SRC, repoURL=f"file://{chart}", helm={"valueFiles": [value_file]}),
            dict(VALUES_SRC, repoURL=f"file://{values}")]
    with pytest.raises(TargetStateError) as e:
        render(server, srcs)
    assert str(e.value) == error


def test_ref_to_the_chart_repository_itself(repos, tmp_path):
    chart, first_sha, values, _ = repos
    (chart / "envs").mkdir()
    (chart / "envs/prod.yaml").write_text("replicaCount: 4\n")
    head = commit(chart)
    server = RepoServer(GitRepos(tmp_path / "cache"))
    url = f"file://{chart}"
    srcs = [dict(CHART_SRC, repoURL=url), dict(VALUES_SRC, repoURL=url, targetRevision="HEAD")]
    objects, revisions, _ = render(server, srcs)
    assert deployment(objects)["spec"]["replicas"] == 4 and revisions == [head, head]
    # one repository, one revision (GenerateManifest)
    srcs[1]["targetRevision"] = first_sha
    with pytest.raises(TargetStateError) as e:
        render(server, srcs)
    assert str(e.value) == (
        "failed to generate manifest for source 1 of 2: rpc error: code = Unknown desc = cannot reference a "
        f'different revision of the same repository ($values references "{first_sha}" which resolves to '
        f'"{first_sha}" while the application references "HEAD" which resolves to "{head}")')
    srcs = [dict(CHART_SRC, repoURL=url, helm={"valueFiles": ["$a/x.yaml", "$b/y.yaml"]}),
            dict(VALUES_SRC, repoURL=f"file://{values}", ref="a"),
            dict(VALUES_SRC, repoURL=f"file://{values}", ref="b", targetRevision="v2")]
    with pytest.raises(TargetStateError, match=r'^failed to generate manifest for source 1 of 3: rpc error: code = '
                       r'Unknown desc = cannot reference multiple revisions for the same repository '
                       r'\(\$b references "v2" while \$a references "main"\)$'):
        render(server, srcs)


def test_missing_ref_value_file(repos, tmp_path):
    chart, _, values, _ = repos
    server = RepoServer(GitRepos(tmp_path / "cache"))
    srcs = [dict(CHART_SRC, repoURL=f"file://{chart}", helm={"valueFiles": ["$values/envs/qa.yaml"]}),
            dict(VALUES_SRC, repoURL=f"file://{values}")]
    with pytest.raises(TargetStateError, match=r"source 1 of 2: .*envs/qa\.yaml: no such file or directory"):
        render(server, srcs)
    srcs[0]["helm"]["ignoreMissingValueFiles"] = True
    assert deployment(render(server, srcs)[0])["spec"]["replicas"] == 1


# --- status, auto-sync, history, rollback ----------------------------------------------------------------

def test_status_shapes_multi_and_single():
    multi = app({"sources": [CHART_SRC, VALUES_SRC]})
    status = appstatus.status_from_comparison(
        multi, Comparison("Synced", "Healthy", [], [], []), revision="a", source_type="Helm",
        conditions=[], now="2026-01-01T00:00:00Z", revisions=["a", "b"], source_types=["Helm", ""])
    assert status["sync"] == {"status": "Synced", "revisions": ["a", "b"],
                              "comparedTo": {"source": {"repoURL": ""}, "sources": [CHART_SRC, VALUES_SRC],
                                             "destination": multi["spec"]["destination"]}}
    assert status["sourceTypes"] == ["Helm", ""] and "sourceType" not in status
    single = app({"source": CHART_SRC})
    status = appstatus.status_from_comparison(
        single, Comparison("Synced", "Healthy", [], [], []), revision="a", source_type="Helm",
        conditions=[], now="2026-01-01T00:00:00Z")
    assert status["sync"] == {"status": "Synced", "revision": "a",
                              "comparedTo": {"source": CHART_SRC, "destination": single["spec"]["destination"]}}
    assert status["sourceType"] == "Helm" and "sourceTypes" not in status


def auto_app(revisions, state=None):
    a = app({"sources": [CHART_SRC, VALUES_SRC], "syncPolicy": {"automated": {"prune": True}}})
    if state:
        a["status"] = {"operationState": state}
    return a, {"status": "OutOfSync", "revisions": revisions}


NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
OUT = [{"kind": "Deployment", "name": "w", "status": "OutOfSync"}]


def test_auto_sync_any_source_revision():
    a, sync = auto_app(["c1", "v1"])
    op, error, _ = operation.auto_sync_decision(a, sync, OUT, has_targets=True, now=NOW)
    assert error == "" and op["sync"] == {"prune": True, "sources": [CHART_SRC, VALUES_SRC], "revisions": ["c1", "v1"]}
    assert op["initiatedBy"] == {"automated": True}
    failed = {"phase": "Failed", "message": "boom", "finishedAt": "2026-01-01T00:00:00Z",
              "syncResult": {"revisions": ["c1", "v1"], "sources": [CHART_SRC, VALUES_SRC]}}
    a, sync = auto_app(["c1", "v1"], failed)
    assert operation.auto_sync_decision(a, sync, OUT, has_targets=True, now=NOW)[:2] == (
        None, "Failed last sync attempt to [c1 v1]: boom")
    a, sync = auto_app(["c1", "v2"], failed)  # only the values repository moved: a new sync
    op, error, _ = operation.auto_sync_decision(a, sync, OUT, has_targets=True, now=NOW)
    assert error == "" and op["sync"]["revisions"] == ["c1", "v2"]
    a, sync = auto_app(["c1", "v2"])
    assert operation.auto_sync_decision(a, sync, OUT, has_targets=False, now=NOW)[:2] == (
        None, "Skipping sync attempt to [c1 v2]: auto-sync will wipe out all resources")


def test_history_entry_and_rollback():
    entry = operation.history_entry([], "", {"repoURL": ""}, "t0", "t1", {"username": "admin"},
                                    revisions=["c1", "v1"], sources=[CHART_SRC, VALUES_SRC])
    assert entry == {"id": 0, "deployStartedAt": "t0", "deployedAt": "t1", "source": {"repoURL": ""},
                     "sources": [CHART_SRC, VALUES_SRC], "revisions": ["c1", "v1"],
                     "initiatedBy": {"username": "admin"}}
    a = app({"sources": [CHART_SRC, VALUES_SRC]})
    a["status"] = {"history": [entry]}
    assert operation.rollback_operation(a, 0)["sync"] == {
        "revisions": ["c1", "v1"], "source": {"repoURL": ""}, "sources": [CHART_SRC, VALUES_SRC], "prune": False}


# --- CLI text (cmd/argocd/commands/app.go) ---------------------------------------------------------------

C1, V1 = "1" * 40, "2" * 40


def test_app_get_sources_block_and_sync_revision():
    a = app({"source": {"repoURL": "ignored"}, "sources": [CHART_SRC, VALUES_SRC]})
    a["status"] = {"sync": {"status": "Synced", "revisions": [C1, V1]}, "health": {"status": "Healthy"},
                   "operationState": {"phase": "Succeeded", "startedAt": "2026-01-01T00:00:00Z",
                                      "finishedAt": "2026-01-01T00:00:02Z",
                                      "syncResult": {"revision": "", "revisions": [C1, V1],
                                                     "sources": [CHART_SRC, VALUES_SRC]}}}
    text = cliformat.app_summary(a, "https://x/applications/demo")
    assert ("Sources:\n"
            "- Repo:             https://github.com/nzapanarcisse/datascientest-chart.git\n"
            "  Target:           HEAD\n"
            "  Path:             webapp/webapp-chart\n"
            "  Helm Values:      $values/envs/prod.yaml\n"
            "- Repo:             https://example.com/values.git\n"
            "  Target:           main\n"
            "  Ref:              values\n") in text
    assert "Sync Status:        Synced to HEAD\n" in text
    result = cliformat.operation_result(a["status"]["operationState"])
    assert f"Sync Revision:      {C1}, {V1}\n" in result
    assert cliformat.app_list_table([a]).splitlines()[1].split()[-3:] == [
        CHART_SRC["repoURL"], "webapp/webapp-chart", "HEAD"]


def test_history_table_one_section_per_source():
    entry = {"id": 0, "deployedAt": "2026-01-01T00:00:00Z", "sources": [CHART_SRC, VALUES_SRC],
             "revisions": [C1, V1], "source": {"repoURL": ""}}
    lines = cliformat.history_table([entry, dict(entry, id=1)]).splitlines()
    assert lines[0].split() == ["SOURCE", CHART_SRC["repoURL"]]
    assert lines[2].split()[0] == "0" and lines[2].endswith("HEAD (1111111)")
    assert lines[3].split()[0] == "1"
    assert lines[4] == ""
    assert lines[5].split() == ["SOURCE", VALUES_SRC["repoURL"]]
    assert lines[7].endswith("main (2222222)")


# --- lab helper and views ----------------------------------------------------------------------------

def test_lab_manifest_with_sources_and_tile():
    from gitopslab.lab.apps import application_manifest
    from gitopslab.widgets.tiles import tile_fields

    manifest = application_manifest("demo", "", "", namespace="demo", sources=[CHART_SRC, VALUES_SRC], automated=True)
    assert "source" not in manifest["spec"] and manifest["spec"]["sources"] == [CHART_SRC, VALUES_SRC]
    assert manifest["spec"]["syncPolicy"] == {"automated": {"prune": False, "selfHeal": False}}
    rows = dict(tile_fields(manifest, {}))
    assert rows["Repository"] == CHART_SRC["repoURL"] and rows["Path"] == "webapp/webapp-chart"
