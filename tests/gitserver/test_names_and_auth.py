"""Pure rules: repository names and URLs, GitHub's access decisions."""
import base64

import pytest

from gitopslab.gitserver import auth, names
from gitopslab.gitserver.auth import Credentials


@pytest.mark.parametrize("path, expected", [
    ("/o/r.git/info/refs", ("o/r", "/info/refs")),
    ("/o/r/info/refs", ("o/r", "/info/refs")),
    ("/o/r.git/git-upload-pack", ("o/r", "/git-upload-pack")),
    ("/o/r.git/git-receive-pack", ("o/r", "/git-receive-pack")),
    ("/o/r/", None),
    ("/o/../r.git/info/refs", None),
    ("/a/b/c.git/info/refs", None),
])
def test_split_request_path(path, expected):
    assert names.split_request_path(path) == expected


def test_urls():
    assert names.lab_url("http://127.0.0.1:9/", "o/r") == "http://127.0.0.1:9/o/r.git"
    assert names.github_url("o/r") == "https://github.com/o/r"
    assert names.parse_repo_url("https://github.com/o/r.git") == "o/r"
    assert names.parse_repo_url("http://127.0.0.1:9/o/r.git", "http://127.0.0.1:9") == "o/r"
    assert names.parse_repo_url("https://gitlab.com/o/r") is None


# (write, exists, private, credentials) -> status, as GitHub answers
DECISIONS = [
    (False, True, False, Credentials.NONE, 200),      # public clone, anonymous
    (False, True, True, Credentials.NONE, 401),       # private clone needs the token
    (False, False, False, Credentials.NONE, 401),     # unknown repo: GitHub asks for credentials
    (True, True, False, Credentials.NONE, 401),       # pushes always need the token
    (False, True, True, Credentials.VALID, 200),
    (True, True, True, Credentials.VALID, 200),
    (False, False, False, Credentials.VALID, 404),    # authenticated: "Repository not found."
    (False, True, False, Credentials.INVALID, 401),   # bad token
]


@pytest.mark.parametrize("write, exists, private, credentials, status", DECISIONS)
def test_decide(write, exists, private, credentials, status):
    assert auth.decide(write=write, exists=exists, private=private, credentials=credentials).status == status


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("header, expected", [
    (None, Credentials.NONE),
    (basic("anyone", "ghp_x"), Credentials.VALID),
    (basic("ghp_x", ""), Credentials.VALID),
    (basic("anyone", "wrong"), Credentials.INVALID),
    ("Bearer ghp_x", Credentials.VALID),
    ("Basic !!!", Credentials.INVALID),
])
def test_check_authorization(header, expected):
    assert auth.check_authorization(header, "ghp_x") is expected


def test_token_is_stable_and_private(tmp_path):
    token_file = tmp_path / "git" / "token"
    first = auth.ensure_token(token_file)
    assert first.startswith("ghp_") and len(first) == 40
    assert auth.ensure_token(token_file) == first
    assert token_file.stat().st_mode & 0o777 == 0o600
