"""Seed the course repositories and the webapp image into a home (idempotent).

Commits use a fixed author and date, so every home gets the same commit SHAs.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from gitopslab.ci import trigger as ci_trigger
from gitopslab.gitserver.layout import GitPaths
from gitopslab.gitserver.repos import RepoStore
from gitopslab.home import Home

CONTENT_VERSION = "1"
REPOS_DIR = Path(__file__).parent / "repos"
# The workflow of the course triggers on pushes to "master": the application
# repository keeps that default branch so the pipeline runs as written.
DEFAULT_BRANCHES = {
    "nzapanarcisse/datascientest-chart": "main",
    "nzapanarcisse/argocd-datascientest": "master",
}
APP_REPO = "nzapanarcisse/argocd-datascientest"
WEBAPP_IMAGE = "docker.io/datascientestuser/webapp:1.0.0"
AUTHOR = ("nzapanarcisse", "nzapanarcisse@users.noreply.github.com")
COMMIT_DATE = "2025-03-03T09:00:00+01:00"
COMMIT_MESSAGE = "Initial commit"


def repo_names() -> list[str]:
    return sorted(f"{o.name}/{r.name}" for o in REPOS_DIR.iterdir() if o.is_dir() for r in o.iterdir() if r.is_dir())


def repo_files(full_name: str) -> dict[str, bytes]:
    """Files of a seeded repository as committed (``dot.`` mapped to ``.``)."""
    root = REPOS_DIR / full_name
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(root).as_posix()
            files["/".join(_undot(p) for p in rel.split("/"))] = path.read_bytes()
    return files


def _undot(component: str) -> str:
    return "." + component[4:] if component.startswith("dot.") else component


def write_files(files: dict[str, bytes], target: Path) -> None:
    for rel, data in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def seed_once(home: Home) -> None:
    paths = GitPaths.of(home)
    if paths.seeded_marker.exists() and paths.seeded_marker.read_text().strip() == CONTENT_VERSION:
        return
    seed_repositories(home)
    seed_webapp_image(home)
    paths.seeded_marker.write_text(CONTENT_VERSION + "\n")


def seed_repositories(home: Home) -> None:
    store = RepoStore(home)
    for name in repo_names():
        if store.exists(name):
            continue
        branch = DEFAULT_BRANCHES.get(name, "main")
        info = store.create(name, default_branch=branch)
        try:
            commit_files(info.path, repo_files(name), COMMIT_MESSAGE,
                         before_publish=lambda sha: ci_trigger.mark_as_past(home, name, f"refs/heads/{branch}", sha))
        except BaseException:
            shutil.rmtree(info.path, ignore_errors=True)
            raise


def commit_files(bare: Path, files: dict[str, bytes], message: str,
                 before_publish: Callable[[str], None] | None = None) -> str:
    """Commit ``files`` as the whole tree on the bare repository's HEAD branch.

    ``before_publish(sha)`` runs once the commit exists but before the branch points to it."""
    with tempfile.TemporaryDirectory(prefix="gitopslab-seed-") as tmp:
        work = Path(tmp) / "work"
        write_files(files, work)
        env = dict(os.environ, GIT_DIR=str(bare), GIT_WORK_TREE=str(work), GIT_INDEX_FILE=str(Path(tmp) / "index"),
                   GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
                   GIT_AUTHOR_NAME=AUTHOR[0], GIT_AUTHOR_EMAIL=AUTHOR[1], GIT_AUTHOR_DATE=COMMIT_DATE,
                   GIT_COMMITTER_NAME=AUTHOR[0], GIT_COMMITTER_EMAIL=AUTHOR[1], GIT_COMMITTER_DATE=COMMIT_DATE)
        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True,
                                  text=True).stdout.strip()

        git("add", "-A", ".")
        sha = git("commit-tree", git("write-tree"), "-m", message)
        if before_publish is not None:
            before_publish(sha)
        git("update-ref", "HEAD", sha)
        return sha


def seed_webapp_image(home: Home) -> str:
    """Build the webapp image from the seeded application repository and push it."""
    from gitopslab.registry import distribution
    from gitopslab.registry.build import build
    from gitopslab.registry.store import ImageStore

    store = ImageStore(home)
    existing = store.remote_digest(WEBAPP_IMAGE)
    if existing:
        return existing
    with tempfile.TemporaryDirectory(prefix="gitopslab-seed-") as tmp:
        context = Path(tmp)
        write_files(repo_files(APP_REPO), context)
        result = build(store, context, dockerfile=context / "app" / "Dockerfile", tags=[WEBAPP_IMAGE],
                       out=lambda line: None)
    distribution.push(store, WEBAPP_IMAGE, out=lambda line: None, as_admin=True)
    # The image was pushed by the course's authors: the learner's engine does not hold it.
    for ref in (WEBAPP_IMAGE, "docker.io/library/nginx:latest"):
        try:
            store.untag_local(ref)
        except Exception:
            pass
    return result.digest
