"""ApplicationSet rendering and generators, without a server (AC applicationset/utils, generators).

Matrix: fixtures/templating_cases.yaml (fasttemplate and goTemplate, missingkey, parse errors);
fixtures/generator_cases.yaml (list, clusters, git directories and files over a real checkout folder,
matrix, selectors, Argo CD's error texts); path patterns (Go path.Match, git pathspecs).
"""
from __future__ import annotations

import base64
from pathlib import Path

import pytest

from gitopslab.argocd.applicationset import generators, pathmatch, reposervice, templating
from gitopslab.argocd.applicationset.generators import GeneratorContext, GeneratorError

from ..yamlload import load

FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATING = load((FIXTURES / "templating_cases.yaml").read_text())["cases"]
GENERATORS = load((FIXTURES / "generator_cases.yaml").read_text())["cases"]


@pytest.mark.parametrize("case", TEMPLATING, ids=[c["name"] for c in TEMPLATING])
def test_replace(case):
    args = (case["text"], case["params"], bool(case.get("goTemplate")), case.get("options"))
    if "error" in case:
        with pytest.raises(templating.RenderError) as err:
            templating.replace(*args)
        assert str(err.value) == case["error"]
    else:
        assert templating.replace(*args) == case["expected"]


class FolderRepo:
    """A RepoService over a folder, listed as the controller lists a checkout."""

    def __init__(self, root: Path, error: str | None = None):
        self.root, self.error, self.calls = root, error, []

    def _check(self, what: str) -> None:
        if self.error:
            raise GeneratorError(f"{what}: rpc error: code = Internal desc = unable to resolve git revision : "
                                 f"{self.error}")

    def directories(self, repo_url, revision, no_cache):
        self.calls.append(("directories", repo_url, revision))
        self._check("error retrieving Git Directories")
        return reposervice.list_directories(self.root)

    def files(self, repo_url, revision, pattern, no_cache):
        self.calls.append(("files", repo_url, revision, pattern))
        self._check("error retrieving Git files")
        return reposervice.read_files(self.root, pattern)


def secret(manifest: dict) -> dict:
    out = {k: v for k, v in manifest.items() if k != "stringData"}
    out["data"] = {k: base64.b64encode(str(v).encode()).decode() for k, v in (manifest.get("stringData") or {}).items()}
    return out


def context(case: dict, tmp_path: Path) -> GeneratorContext:
    for path, content in (case.get("repo") or {}).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(content)
    return GeneratorContext(secrets=[secret(s) for s in case.get("secrets") or []],
                            projects=frozenset(case.get("projects") or ["default"]),
                            repos=FolderRepo(tmp_path, case.get("repo_error")))


@pytest.mark.parametrize("case", GENERATORS, ids=[c["name"] for c in GENERATORS])
def test_generator(case, tmp_path):
    appset = {"metadata": {"name": "set", "namespace": "argocd"}, "spec": case["spec"]}
    generator = case["spec"]["generators"][0]
    ctx = context(case, tmp_path)
    if "error" in case:
        with pytest.raises(GeneratorError) as err:
            generators.transform(generator, appset, ctx, case["spec"].get("template") or {})
        assert str(err.value) == case["error"]
        return
    results = generators.transform(generator, appset, ctx, case["spec"].get("template") or {})
    assert len(results) == 1
    assert results[0].params == case["expected"]


def test_generator_template_overrides_appset_template():
    merged = generators.merge_template(
        {"metadata": {"name": "{{cluster}}-special", "labels": {"a": "1"}}, "spec": {"project": ""}},
        {"metadata": {"name": "{{cluster}}", "labels": {"b": "2"}}, "spec": {"project": "default",
                                                                           "destination": {"namespace": "x"}}})
    assert merged == {"metadata": {"name": "{{cluster}}-special", "labels": {"a": "1", "b": "2"}},
                      "spec": {"project": "default", "destination": {"namespace": "x"}}}


def test_requeue_after():
    git = {"git": {"repoURL": "x", "directories": [{"path": "*"}]}}
    assert generators.requeue_after_seconds({"list": {"elements": []}}) == 0
    assert generators.requeue_after_seconds(git) == 180
    assert generators.requeue_after_seconds({"git": dict(git["git"], requeueAfterSeconds=30)}) == 30
    assert generators.requeue_after_seconds({"matrix": {"generators": [{"clusters": {}}, git]}}) == 180


def test_git_files_path_at_repo_root_and_refresh_flag(tmp_path):
    (tmp_path / "config.yaml").write_text("name: root\n")
    repo = FolderRepo(tmp_path)
    ctx = GeneratorContext(projects=frozenset({"default"}), repos=repo, no_revision_cache=True)
    appset = {"spec": {"template": {"spec": {"project": "default"}}}}
    params = generators.git_params({"repoURL": "u", "revision": "v1", "files": [{"path": "config.yaml"}]}, appset, ctx)
    assert params == [{"name": "root", "path": ".", "path.basename": ".", "path.basenameNormalized": "",
                       "path.filename": "config.yaml", "path.filenameNormalized": "config.yaml", "path[0]": "."}]
    assert repo.calls == [("files", "u", "v1", "config.yaml")]


@pytest.mark.parametrize("pattern,name,expected", [
    ("*", "app", True), ("*", "p1/app", False), ("p1/*", "p1/app", True), ("p1/*/*", "p1/p2/app", True),
    ("app?", "app1", True), ("app?", "app/", False), ("[a-c]pp", "bpp", True), ("[^a-c]pp", "bpp", False),
    ("\\*", "*", True), ("webapp/*", "webapp/webapp-chart", True),
])
def test_go_path_match(pattern, name, expected):
    assert pathmatch.go_path_match(pattern, name) is expected


@pytest.mark.parametrize("pattern", ["[", "[]a]", "a\\", "[z-a]"])
def test_go_path_match_bad_patterns(pattern):
    with pytest.raises(pathmatch.BadPattern):
        pathmatch.go_path_match(pattern, "a")


@pytest.mark.parametrize("spec,path,expected", [
    ("config.json", "config.json", True), ("apps", "apps/a/config.json", True), ("apps/", "apps/a.json", True),
    ("apps/*/config.json", "apps/a/b/config.json", True), ("**/config.json", "a/config.json", True),
    ("*.yaml", "deep/x.yaml", True), ("apps/*.json", "other/a.json", False), (".", "anything", True),
    ("app", "apps/x", False),
])
def test_git_pathspec(spec, path, expected):
    assert pathmatch.git_pathspec_match(spec, path) is expected


def test_list_directories_skips_hidden_and_files(tmp_path):
    for path in ("b/c/f.txt", "a/f.txt", ".git/x", "a/.cache/y", "top.txt"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    assert reposervice.list_directories(tmp_path) == ["a", "b", "b/c"]


def _git(*args, cwd):
    import os
    import subprocess

    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0"))


def test_git_repo_service_over_a_real_repository(tmp_path):
    from gitopslab.argocd.gitrepo import GitRepos

    bare, work = tmp_path / "remote.git", tmp_path / "work"
    _git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    work.mkdir()
    _git("init", "-q", "-b", "main", cwd=work)
    for path in ("webapp/chart/Chart.yaml", "webapp/manifest/cm.yaml", "config/dev/config.json"):
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text('{"env": "dev"}' if path.endswith(".json") else "x: y\n")
    _git("add", "-A", cwd=work)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c", cwd=work)
    _git("push", "-q", str(bare), "HEAD:refs/heads/main", cwd=work)

    service = reposervice.RepoListings(GitRepos(tmp_path / "cache")).service([])
    url = f"file://{bare}"
    assert service.directories(url, "HEAD", False) == ["config", "config/dev", "webapp", "webapp/chart",
                                                       "webapp/manifest"]
    assert service.files(url, "main", "config/**/config.json", False) == {"config/dev/config.json": b'{"env": "dev"}'}
    with pytest.raises(GeneratorError) as err:
        service.directories(url, "nope", True)
    assert str(err.value) == ("error retrieving Git Directories: rpc error: code = Internal desc = unable to resolve "
                              "git revision : unable to resolve 'nope' to a commit SHA: revision not found")
