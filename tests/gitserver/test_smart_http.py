"""Real git and GitPython against the lab Git server: public, private, pushes, rewrites, errors."""
from __future__ import annotations

import git as gitpython

from gitopslab.content.seed import repo_files
from gitopslab.gitserver import names, webhook
from gitopslab.gitserver.repos import RepoStore

from .conftest import git, with_token

CHART = "nzapanarcisse/datascientest-chart"


def test_public_repository_clones_anonymously(server, git_env, tmp_path):
    git("clone", names.lab_url(server.base_url, CHART), str(tmp_path / "c"), env=git_env)
    assert (tmp_path / "c" / "odoo" / "Chart.yaml").is_file()
    assert (tmp_path / "c" / "webapp" / "webapp-chart" / "values.yaml").read_bytes() == \
        repo_files(CHART)["webapp/webapp-chart/values.yaml"]


def test_github_urls_resolve_to_the_lab(server, git_env, tmp_path):
    git("clone", f"https://github.com/{CHART}.git", str(tmp_path / "a"), env=git_env)
    git("clone", "https://github.com/nzapanarcisse/argocd-datascientest", str(tmp_path / "b"), env=git_env)
    assert (tmp_path / "b" / ".github" / "workflows" / "cicd-pipeline.yml").is_file()
    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=tmp_path / "b", env=git_env).stdout.strip()
    assert branch == "master"


def test_push_needs_the_token_and_notifies(server, git_env, tmp_path, home):
    url = names.lab_url(server.base_url, CHART)
    work = tmp_path / "w"
    git("clone", url, str(work), env=git_env)
    before = git("rev-parse", "HEAD", cwd=work, env=git_env).stdout.strip()
    values = work / "webapp" / "webapp-chart" / "values.yaml"
    values.write_text(values.read_text().replace('  tag: "1.0.0"', '  tag: "abc1234"'))
    git("commit", "-am", "CI: tag abc1234", cwd=work, env=git_env)
    after = git("rev-parse", "HEAD", cwd=work, env=git_env).stdout.strip()

    anonymous = git("push", cwd=work, env=git_env, check=False)
    assert anonymous.returncode != 0
    assert "could not read Username" in anonymous.stderr

    events = []
    unsubscribe = webhook.subscribe(events.append)
    try:
        git("push", with_token(url, server.token), "main", cwd=work, env=git_env)
    finally:
        unsubscribe()
    assert events == [webhook.PushEvent(repository=CHART, url=url, github_url=f"https://github.com/{CHART}",
                                        ref="refs/heads/main", before=before, after=after)]


def test_private_repository(server, git_env, tmp_path, home):
    RepoStore(home).create("alice/exam", private=True)
    url = names.lab_url(server.base_url, "alice/exam")
    anonymous = git("clone", url, str(tmp_path / "a"), env=git_env, check=False)
    assert anonymous.returncode != 0 and "could not read Username" in anonymous.stderr
    wrong = git("clone", url.replace("http://", "http://x:ghp_wrong@"), str(tmp_path / "b"), env=git_env, check=False)
    assert wrong.returncode != 0
    assert "remote: Invalid username or token." in wrong.stderr
    assert "Authentication failed" in wrong.stderr
    git("clone", with_token(url, server.token), str(tmp_path / "c"), env=git_env)
    (tmp_path / "c" / "app.py").write_text("print('quote')\n")
    git("add", ".", cwd=tmp_path / "c", env=git_env)
    git("commit", "-m", "exam", cwd=tmp_path / "c", env=git_env)
    git("push", "origin", "main", cwd=tmp_path / "c", env=git_env)
    log = git("log", "--oneline", "main", env=dict(git_env, GIT_DIR=str(RepoStore(home).path("alice/exam"))))
    assert "exam" in log.stdout


def test_unknown_repository(server, git_env, tmp_path):
    url = names.lab_url(server.base_url, "nobody/nothing")
    anonymous = git("clone", url, str(tmp_path / "a"), env=git_env, check=False)
    assert anonymous.returncode != 0 and "could not read Username" in anonymous.stderr
    authenticated = git("clone", with_token(url, server.token), str(tmp_path / "b"), env=git_env, check=False)
    assert "remote: Repository not found." in authenticated.stderr
    assert "not found" in authenticated.stderr.splitlines()[-1]
    assert not (tmp_path / "b").exists()


def test_non_fast_forward_push_is_rejected(server, git_env, tmp_path):
    url = with_token(names.lab_url(server.base_url, CHART), server.token)
    for name in ("one", "two"):
        git("clone", url, str(tmp_path / name), env=git_env)
    for name in ("one", "two"):
        (tmp_path / name / "README.md").write_text(f"{name}\n")
        git("commit", "-am", name, cwd=tmp_path / name, env=git_env)
    git("push", cwd=tmp_path / "one", env=git_env)
    rejected = git("push", cwd=tmp_path / "two", env=git_env, check=False)
    assert rejected.returncode != 0
    assert "! [rejected]" in rejected.stderr and "main -> main (fetch first)" in rejected.stderr


def test_gitpython_clone_push_pull(server, git_env, tmp_path):
    first = gitpython.Repo.clone_from(f"https://github.com/{CHART}.git", tmp_path / "first", env=git_env)
    second = gitpython.Repo.clone_from(f"https://github.com/{CHART}.git", tmp_path / "second", env=git_env)
    push_url = with_token(names.lab_url(server.base_url, CHART), server.token)
    with first.git.custom_environment(**git_env):
        (tmp_path / "first" / "NOTE.md").write_text("note\n")
        first.index.add(["NOTE.md"])
        first.index.commit("add note")
        first.git.push(push_url, "main")
    with second.git.custom_environment(**git_env):
        second.remotes.origin.pull()
    assert (tmp_path / "second" / "NOTE.md").read_text() == "note\n"
    assert second.head.commit.hexsha == first.head.commit.hexsha
