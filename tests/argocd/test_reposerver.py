"""Repo server: revisions, directory rendering and Argo CD's error wording, on real git repos.

Matrix: HEAD / branch / tag / SHA resolution; bare and non-bare file:// repos;
multi-document YAML, JSON, recurse, include/exclude; missing path; unknown
revision and repo; invalid YAML; object without kind; render cache.
"""
import subprocess
import textwrap
from pathlib import Path

import pytest

from gitopslab.argocd.gitrepo import GitRepos
from gitopslab.argocd.manifesterrors import ManifestError
from gitopslab.argocd.reposerver import ManifestRequest, RepoServer

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@x", "PATH": "/usr/bin:/bin", "HOME": str(cwd)}).stdout.strip()


def commit(repo: Path, files: dict[str, str | None], message="change") -> str:
    for name, content in files.items():
        path = repo / name
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "work"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


@pytest.fixture
def server(tmp_path):
    return RepoServer(GitRepos(tmp_path / "cache"))


def request(url, path=".", revision="HEAD", **source):
    return ManifestRequest(source={"repoURL": url, "path": path, "targetRevision": revision, **source},
                           app_name="demo", namespace="default")


def names(response):
    return sorted(o["metadata"]["name"] for o in response.objects)


def test_head_branch_tag_and_sha(repo, server):
    first = commit(repo, {"app/a.yaml": CM.format(name="a")})
    git(repo, "tag", "v1")
    git(repo, "tag", "-a", "v1-annotated", "-m", "annotated")
    second = commit(repo, {"app/b.yaml": CM.format(name="b")})
    url = f"file://{repo}"
    assert server.generate(request(url, "app")).revision == second
    assert server.generate(request(url, "app", "main")).revision == second
    assert server.generate(request(url, "app", "v1")).revision == first
    assert server.generate(request(url, "app", "v1-annotated")).revision == first
    old = server.generate(request(url, "app", first))
    assert old.revision == first and names(old) == ["a"]
    assert names(server.generate(request(url, "app", first[:7]))) == ["a"]


def test_bare_repository(repo, tmp_path, server):
    commit(repo, {"m.yaml": CM.format(name="x")})
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    response = server.generate(request(f"file://{bare}"))
    assert names(response) == ["x"] and response.source_type == "Directory"


def test_multi_document_json_recurse_include_exclude(repo, server):
    commit(repo, {
        "app/all.yaml": CM.format(name="one") + "---\n" + CM.format(name="two") + "---\n",
        "app/obj.json": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "json"}}',
        "app/sub/deep.yml": CM.format(name="deep"),
        "app/README.md": "# not a manifest",
        "app/values-like.yaml": "replicaCount: 2\n",
    })
    url = f"file://{repo}"
    assert names(server.generate(request(url, "app"))) == ["json", "one", "two"]
    recurse = server.generate(request(url, "app", directory={"recurse": True}))
    assert names(recurse) == ["deep", "json", "one", "two"]
    only = server.generate(request(url, "app", directory={"recurse": True, "include": "{sub/*,*.json}"}))
    assert names(only) == ["deep", "json"]
    without = server.generate(request(url, "app", directory={"recurse": True, "exclude": "*.json"}))
    assert names(without) == ["deep", "one", "two"]


def test_missing_path(repo, server):
    commit(repo, {"app/a.yaml": CM.format(name="a")})
    with pytest.raises(ManifestError) as err:
        server.generate(request(f"file://{repo}", "nope"))
    assert str(err.value) == "rpc error: code = Unknown desc = nope: app path does not exist"


def test_unknown_revision_and_repository(repo, server, tmp_path):
    commit(repo, {"a.yaml": CM.format(name="a")})
    with pytest.raises(ManifestError) as err:
        server.generate(request(f"file://{repo}", ".", "no-such-branch"))
    assert str(err.value) == ("rpc error: code = Unknown desc = unable to resolve 'no-such-branch' "
                              "to a commit SHA: revision not found")
    with pytest.raises(ManifestError) as err:
        server.generate(request(f"file://{tmp_path}/missing"))
    assert str(err.value) == "rpc error: code = Unknown desc = failed to list refs: repository not found"


def test_invalid_yaml_and_object_without_kind(repo, server):
    bad = textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: bad
          labels: a: b
        """)
    commit(repo, {"bad/x.yaml": bad,
                  "nokind/x.yaml": CM.format(name="ok") + "---\napiVersion: v1\nmetadata:\n  name: nokind\n"})
    url = f"file://{repo}"
    with pytest.raises(ManifestError) as err:
        server.generate(request(url, "bad"))
    assert str(err.value).startswith('rpc error: code = FailedPrecondition desc = Failed to unmarshal "x.yaml": '
                                     "failed to unmarshal manifest: error converting YAML to JSON: yaml: line 5: ")
    with pytest.raises(ManifestError) as err:
        server.generate(request(url, "nokind"))
    assert "Object 'Kind' is missing in" in str(err.value)


def test_render_cache_and_new_commit(repo, server):
    commit(repo, {"a.yaml": CM.format(name="a")})
    url = f"file://{repo}"
    first = server.generate(request(url))
    again = server.generate(request(url))
    assert again.cached and names(again) == names(first)
    again.objects[0]["metadata"]["name"] = "mutated"
    assert names(server.generate(request(url))) == ["a"]
    commit(repo, {"b.yaml": CM.format(name="b")})
    server.invalidate(url)
    assert names(server.generate(request(url))) == ["a", "b"]
