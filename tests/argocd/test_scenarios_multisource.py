"""Multi-source Applications through a real lab: the embedded controller, real pods, the lab Git server.

One lab for the module (clock ×10), Argo CD installed through
``gitopslab argocd install``. The chart is the seeded course repository
(https://github.com/nzapanarcisse/datascientest-chart.git, webapp/webapp-chart),
its values come from a second repository of the lab Git server as
``ref: values`` + ``$values/envs/prod.yaml``.

Matrix: auto-synced app Synced/Healthy with 2 replicas and the multi-source
status shapes (revisions, comparedTo.sources, syncResult, history); a push to
the values repository rolled out at once (revisions[1] changes); an unknown
``$ref`` as the repo server's ComparisonError; ``source`` and ``sources``
both set (``sources`` wins, no InvalidSpecError) synced, diffed and rolled
back with the CLI, whose get/history print the sources.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "applications"
NS = "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"
CHART_URL = "https://github.com/nzapanarcisse/datascientest-chart.git"
VALUES = "replicaCount: {replicas}\nimage:\n  repository: nginx\n  tag: \"1.27\"\nservice:\n  type: ClusterIP\n"


def _git(*args, cwd):
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0"))
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout.strip()


class LabRepo:
    """A work tree pushing to a new repository of the lab Git server (the push notifies Argo CD)."""

    def __init__(self, lab, tmp: Path):
        from gitopslab import gitserver
        from gitopslab.gitserver import auth
        from gitopslab.gitserver.layout import GitPaths
        from gitopslab.gitserver.repos import RepoStore

        base = gitserver.ensure_running(lab.home)
        full = f"tester/values{uuid.uuid4().hex[:8]}"
        RepoStore(lab.home).create(full, private=False)
        token = auth.ensure_token(GitPaths.of(lab.home).token_file)
        self.push_url = base.replace("http://", f"http://tester:{token}@") + f"/{full}.git"
        self.url = f"{base}/{full}.git"
        self.work = tmp / "values"
        self.work.mkdir(parents=True)
        _git("init", "-q", "-b", "main", cwd=self.work)

    def push(self, path: str, text: str) -> str:
        target = self.work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        _git("add", "-A", cwd=self.work)
        _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "values", cwd=self.work)
        _git("push", "-q", self.push_url, "HEAD:refs/heads/main", cwd=self.work)
        return _git("rev-parse", "HEAD", cwd=self.work)


def multi_app(name, namespace, values_url, *, value_file="$values/envs/prod.yaml", automated=True, source=None):
    spec = {"project": "default", "destination": {"server": IN_CLUSTER, "namespace": namespace},
            "sources": [{"repoURL": CHART_URL, "path": "webapp/webapp-chart", "targetRevision": "HEAD",
                         "helm": {"valueFiles": [value_file]}},
                        {"repoURL": values_url, "targetRevision": "HEAD", "ref": "values"}]}
    if source is not None:
        spec["source"] = source
    if automated:
        spec["syncPolicy"] = {"automated": {}}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Application",
            "metadata": {"name": name, "namespace": NS}, "spec": spec}


def create_app(lab, manifest) -> str:
    lab.custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, manifest)
    return manifest["metadata"]["name"]


def get_app(lab, name) -> dict:
    return lab.custom.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, name)


def wait_app(lab, name, predicate, what: str, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        app = get_app(lab, name)
        try:
            if predicate(app):
                return app
        except (KeyError, TypeError, IndexError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}: {what} not reached; status:\n"
                                 f"{json.dumps(app.get('status'), indent=1)[:4000]}")
        time.sleep(0.2)


def synced_healthy(app) -> bool:
    st = app.get("status") or {}
    return (st.get("sync") or {}).get("status") == "Synced" and (st.get("health") or {}).get("status") == "Healthy"


def conditions(app) -> dict:
    return {c["type"]: c["message"] for c in (app.get("status") or {}).get("conditions") or []}


def cli(lab, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, GITOPSLAB_HOME=str(lab.home.root))
    return subprocess.run([sys.executable, "-m", "gitopslab", *args, "--cluster", lab.name], env=env,
                          capture_output=True, text=True, timeout=120)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def deployment_of(lab, app):
    name = next(r["name"] for r in app["status"]["resources"] if r["kind"] == "Deployment")
    return lab.apps.read_namespaced_deployment(name, app["spec"]["destination"]["namespace"])


@pytest.fixture(scope="module")
def argocd(lab):
    done = cli(lab, "argocd", "install", "--service-type", "NodePort")
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 60
    while True:
        try:
            lab.custom.get_namespaced_custom_object(GROUP, VERSION, NS, "appprojects", "default")
            return lab
        except ApiException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def values_repo(argocd, tmp_path_factory):
    repo = LabRepo(argocd, tmp_path_factory.mktemp("values"))
    repo.sha = repo.push("envs/prod.yaml", VALUES.format(replicas=2))
    return repo


def test_chart_with_values_from_another_repo_then_a_values_push(argocd, values_repo):
    ns = argocd.namespace("multi")
    name = create_app(argocd, multi_app(unique("multi"), ns, values_repo.url))
    app = wait_app(argocd, name, lambda a: synced_healthy(a) and deployment_of(argocd, a).status.ready_replicas == 2,
                   "Synced/Healthy with 2 ready replicas")
    sync = app["status"]["sync"]
    assert "revision" not in sync and len(sync["revisions"]) == 2 and sync["revisions"][1] == values_repo.sha
    assert sync["comparedTo"]["sources"] == app["spec"]["sources"]
    assert sync["comparedTo"]["source"] == {"repoURL": ""}
    assert app["status"]["sourceTypes"] == ["Helm", ""]
    result = app["status"]["operationState"]["syncResult"]
    assert result["revisions"] == sync["revisions"] and result["sources"] == app["spec"]["sources"]
    assert app["status"]["operationState"]["operation"]["sync"]["revisions"] == sync["revisions"]
    assert [h["revisions"] for h in app["status"]["history"]] == [sync["revisions"]]
    assert {r["kind"] for r in app["status"]["resources"]} == {"Deployment", "Service"}

    # a push to the values repository reaches the controller at once (webhook) and is rolled out
    new_sha = values_repo.push("envs/prod.yaml", VALUES.format(replicas=3))
    app = wait_app(argocd, name, lambda a: a["status"]["sync"]["revisions"][1] == new_sha and synced_healthy(a)
                   and a["status"]["operationState"]["syncResult"]["revisions"][1] == new_sha,
                   "values push synced", timeout=30)
    assert app["status"]["sync"]["revisions"][0] == sync["revisions"][0]
    wait_app(argocd, name, lambda a: deployment_of(argocd, a).spec.replicas == 3, "3 replicas")
    assert len(app["status"]["history"]) == 2
    values_repo.sha = values_repo.push("envs/prod.yaml", VALUES.format(replicas=2))


def test_unknown_ref_is_a_comparison_error(argocd, values_repo):
    ns = argocd.namespace("badref")
    name = create_app(argocd, multi_app(unique("badref"), ns, values_repo.url, value_file="$nope/envs/prod.yaml"))
    app = wait_app(argocd, name, lambda a: "ComparisonError" in conditions(a), "ComparisonError")
    assert conditions(app)["ComparisonError"] == (
        "Failed to load target state: failed to generate manifest for source 1 of 2: rpc error: code = Unknown "
        'desc = source referenced "$nope", which is not one of the available sources ($values)')
    assert app["status"]["sync"]["status"] == "Unknown"
    assert "revisions" not in app["status"]["sync"]


def test_source_and_sources_sources_win_cli_sync_history_rollback(argocd, values_repo, capsys):
    ns = argocd.namespace("both")
    ignored = {"repoURL": "https://github.com/nzapanarcisse/does-not-exist.git", "path": "nowhere"}
    name = create_app(argocd, multi_app(unique("both"), ns, values_repo.url, automated=False, source=ignored))
    app = wait_app(argocd, name, lambda a: a["status"]["sync"]["status"] == "OutOfSync", "OutOfSync")
    assert "conditions" not in app["status"]   # no InvalidSpecError: Argo CD 3.x uses spec.sources
    assert app["status"]["sync"]["comparedTo"]["sources"] == app["spec"]["sources"]

    done = cli(argocd, "argocd", "app", "sync", name)
    assert done.returncode == 0, done.stdout + done.stderr
    app = wait_app(argocd, name, synced_healthy, "Synced/Healthy after argocd app sync")
    first = app["status"]["sync"]["revisions"]
    op_sync = app["status"]["operationState"]["operation"]["sync"]
    assert op_sync["revisions"] == first and op_sync["sources"] == app["spec"]["sources"]
    assert "revision" not in op_sync and "source" not in op_sync
    assert f"Sync Revision:      {first[0]}, {first[1]}" in done.stdout

    got = cli(argocd, "argocd", "app", "get", name).stdout
    assert "Sources:\n- Repo:             " + CHART_URL in got
    assert f"  Helm Values:      $values/envs/prod.yaml\n- Repo:             {values_repo.url}\n" in got
    assert "  Ref:              values\n" in got
    assert cli(argocd, "argocd", "app", "diff", name).returncode == 0
    from gitopslab.lab.session import Lab
    from gitopslab.lab.views import show_application
    capsys.readouterr()
    show_application(Lab(argocd.kubeconfig, argocd.name, True, argocd.api_client, argocd.home), name)
    shown = capsys.readouterr().out
    assert f"Repo:               {CHART_URL}\n" in shown and "Sources:            2 (la première est affichée)" in shown
    assert f"Sync Status:        Synced to HEAD ({first[0][:7]})" in shown

    # the values move on; a second sync; then a rollback to the first deployment's revisions
    second_sha = values_repo.push("envs/prod.yaml", VALUES.format(replicas=1))
    wait_app(argocd, name, lambda a: a["status"]["sync"]["revisions"][1] == second_sha
             and a["status"]["sync"]["status"] == "OutOfSync", "values push seen", timeout=30)
    assert cli(argocd, "argocd", "app", "sync", name).returncode == 0
    app = wait_app(argocd, name, lambda a: len(a["status"].get("history") or []) == 2 and synced_healthy(a),
                   "second deployment")
    history = cli(argocd, "argocd", "app", "history", name).stdout.splitlines()
    assert history[0].split() == ["SOURCE", CHART_URL] and history[1].split() == ["ID", "DATE", "REVISION"]
    assert [line.split()[0] for line in history[2:4]] == ["0", "1"] and history[4] == ""
    assert history[5].split() == ["SOURCE", values_repo.url]
    assert history[7].endswith(f"HEAD ({first[1][:7]})") and history[8].endswith(f"HEAD ({second_sha[:7]})")

    back = cli(argocd, "argocd", "app", "rollback", name, "0")
    assert back.returncode == 0, back.stdout + back.stderr
    app = wait_app(argocd, name, lambda a: a["status"]["operationState"]["phase"] == "Succeeded"
                   and len(a["status"]["history"]) == 3, "rollback done")
    assert app["status"]["history"][-1]["revisions"] == first
    assert app["status"]["operationState"]["syncResult"]["revisions"] == first
    wait_app(argocd, name, lambda a: deployment_of(argocd, a).spec.replicas == 2, "2 replicas again")
    values_repo.sha = second_sha
