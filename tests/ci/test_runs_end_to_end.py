"""Runs with real Git pushes in a temporary home: the course's pipeline end to end, and needs/outputs/if rules.

A lab Git server runs in-process; a push reaches the CI trigger through the
server's in-process webhook subscription; runs execute in the test process.
"""
import base64
import os
import subprocess

import pytest

from gitopslab.ci import runner, secrets, trigger
from gitopslab.ci.store import RunStore

APP = "nzapanarcisse/argocd-datascientest"
CHART = "nzapanarcisse/datascientest-chart"


@pytest.fixture
def gitlab(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPSLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GITOPSLAB_TIME_SCALE", "20")
    from gitopslab.content import seed
    from gitopslab.gitserver import gitconfig, webhook
    from gitopslab.gitserver.layout import GitPaths
    from gitopslab.gitserver.server import GitServer
    from gitopslab.home import Home

    home = Home.current().ensure()
    server = GitServer(home)
    seed.seed_repositories(home)
    gitconfig.write(home, server.base_url)
    GitPaths.of(home).port_file.write_text(f"{server.port}\n")
    events = []
    unsubscribe = webhook.subscribe(events.append)
    server.start()
    try:
        yield home, server, events
    finally:
        unsubscribe()
        server.stop()


def _git(home, cwd, *args):
    env = dict(os.environ, GIT_CONFIG_GLOBAL=str(home.gitconfig), GIT_TERMINAL_PROMPT="0")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def _clone(home, tmp_path, repo):
    token = (home.git_dir / "token").read_text().strip()
    work = tmp_path / repo.split("/")[1]
    _git(home, tmp_path, "clone", "-q", f"https://github.com/{repo}", str(work))
    basic = base64.b64encode(f"x:{token}".encode()).decode()
    _git(home, work, "config", "http.extraheader", f"AUTHORIZATION: basic {basic}")
    return work, token


def _push_change(home, work, path, text, message):
    (work / path).parent.mkdir(parents=True, exist_ok=True)
    (work / path).write_text(text)
    _git(home, work, "add", "-A")
    _git(home, work, "commit", "-q", "-m", message)
    _git(home, work, "push", "-q")
    return _git(home, work, "rev-parse", "HEAD").strip()


def _runs_for(home, events):
    records = []
    for event in events:
        records += trigger.on_push(home, event.__dict__, start=False)
    return records


def test_the_seeded_history_starts_no_run(gitlab):
    """The course repositories exist before the learner pushes: their first commit is no push to build."""
    home, _, _ = gitlab
    _, refs = trigger.ref_snapshot(home)
    seeded = [{"repository": repo, "ref": ref, "before": runner.ZERO_SHA, "after": sha}
              for (repo, ref), sha in refs.items() if repo == APP]
    assert [e["ref"] for e in seeded] == ["refs/heads/master"]
    assert trigger.on_push(home, seeded[0], start=False) == []
    assert RunStore(home).list() == []


def test_course_pipeline_bumps_the_gitops_tag(gitlab, tmp_path):
    """Does a push to master build, test, scan, push the image and commit the new tag to the GitOps repo?"""
    from gitopslab.content import seed

    home, _, events = gitlab
    seed.seed_webapp_image(home)
    work, token = _clone(home, tmp_path, APP)
    for name, value in (("DOCKER_USERNAME", "datascientestuser"), ("DOCKER_PASSWORD", "datascientestuser"),
                        ("GITOPS_PAT", token)):
        secrets.set_secret(home, APP, name, value)
    page = (work / "app/static-website-example/index.html").read_text().replace("<h1>Dimension</h1>",
                                                                                  "<h1>Dimension v2</h1>")
    sha = _push_change(home, work, "app/static-website-example/index.html", page, "feat: titre")
    records = _runs_for(home, events)
    assert [r["workflow"] for r in records] == [".github/workflows/cicd-pipeline.yml"]
    record = runner.execute(home, records[0]["id"])
    assert record["conclusion"] == "success", record
    assert [j["conclusion"] for j in record["jobs"]] == ["success"] * 5
    (tmp_path / "c").mkdir()
    chart, _ = _clone(home, tmp_path / "c", CHART)
    values = (chart / "webapp/webapp-chart/values.yaml").read_text()
    assert f'  tag: "{sha[:7]}"\n' in values
    assert _git(home, chart, "log", "-1", "--format=%an").strip() == "GitHub Actions Bot"
    from gitopslab.registry.store import ImageStore

    assert ImageStore(home).remote_digest(f"docker.io/datascientestuser/webapp:{sha[:7]}")
    # the GitOps push is itself a push event; that repository has no workflow
    assert any(e.repository == CHART for e in events)
    assert _runs_for(home, [e for e in events if e.repository == CHART]) == []


SMALL = """
name: petit
on:
  push:
    branches: [master]
    paths: ['src/**']
env:
  GREETING: bonjour
jobs:
  one:
    runs-on: ubuntu-latest
    outputs:
      word: ${{ steps.w.outputs.word }}
    steps:
      - id: w
        run: |
          echo "word=$GREETING-${GITHUB_SHA:0:7}" >> "$GITHUB_OUTPUT"
          echo "FROM_ENV=yes" >> "$GITHUB_ENV"
      - run: test "$FROM_ENV" = yes
      - name: secret is masked
        run: echo "le secret est ${{ secrets.MY_SECRET }}"
  two:
    needs: one
    runs-on: ubuntu-latest
    steps:
      - run: test "${{ needs.one.outputs.word }}" = "bonjour-${GITHUB_SHA:0:7}"
      - run: exit 3
      - name: skipped after failure
        run: echo never
      - name: cleanup
        if: always()
        run: echo cleanup
  three:
    needs: two
    runs-on: ubuntu-latest
    steps:
      - run: echo never
  report:
    needs: [two]
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: echo "two a échoué"
"""


def test_needs_outputs_conditions_and_masking(gitlab, tmp_path):
    """Are outputs passed through needs, failures propagated, if: always()/failure() honoured and secrets masked?"""
    home, _, events = gitlab
    work, _ = _clone(home, tmp_path, APP)
    secrets.set_secret(home, APP, "MY_SECRET", "s3cr3t-value")
    _push_change(home, work, ".github/workflows/small.yml", SMALL, "ci: petit workflow")
    assert [r["workflow"] for r in _runs_for(home, events)] == [".github/workflows/cicd-pipeline.yml"]
    events.clear()
    sha = _push_change(home, work, "src/a.txt", "a", "src change")
    records = {r["workflow"]: r for r in _runs_for(home, events)}
    assert set(records) == {".github/workflows/cicd-pipeline.yml", ".github/workflows/small.yml"}
    record = runner.execute(home, records[".github/workflows/small.yml"]["id"])
    jobs = {j["id"]: j for j in record["jobs"]}
    assert record["conclusion"] == "failure"
    assert jobs["one"]["conclusion"] == "success" and jobs["one"]["outputs"] == {"word": f"bonjour-{sha[:7]}"}
    steps = {s["name"]: s["conclusion"] for s in jobs["two"]["steps"]}
    assert steps["Run exit 3"] == "failure"
    assert steps["skipped after failure"] == "skipped" and steps["cleanup"] == "success"
    assert jobs["three"]["conclusion"] == "skipped" and jobs["report"]["conclusion"] == "success"
    paths = RunStore(home).paths(record["id"])
    log = paths.step_log("one", 4, "secret is masked").read_text()
    assert "le secret est ***" in log and "s3cr3t-value" not in log
    # the same push delivered twice (two clusters) starts its runs once
    assert _runs_for(home, events) == []
