"""Fixtures: a fresh home per test, an in-process Git server, Git's environment."""
from __future__ import annotations

import os
import subprocess

import pytest

from gitopslab.content import seed
from gitopslab.gitserver import gitconfig
from gitopslab.gitserver.server import GitServer
from gitopslab.home import Home


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPSLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GITOPSLAB_WHEELHOUSE", str(tmp_path / "wheels"))
    return Home(tmp_path / "home").ensure()


@pytest.fixture
def server(home):
    seed.seed_repositories(home)
    srv = GitServer(home).start()
    gitconfig.write(home, srv.base_url)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def git_env(home):
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_ASKPASS="", SSH_ASKPASS="")
    env.update(gitconfig.environment(home))
    return env


def git(*args, env, cwd=None, check=True):
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{result.stderr}")
    return result


def with_token(url: str, token: str) -> str:
    return url.replace("http://", f"http://learner:{token}@", 1)
