"""What the git generator asks the repo server: folders and files of a commit (git I/O, blocking).

AC v3.4 ``reposerver/repository GetGitDirectories`` (every folder of the
checkout, hidden ones skipped, lexical order) and ``GetGitFiles``
(``git ls-files -- <pattern>``, contents by path), behind
``applicationset/services/repo_service.go`` whose errors wrap them
(``error retrieving Git Directories: rpc error: code = Internal desc =
unable to resolve git revision : failed to list refs: repository not found``).

Revisions are resolved with ``ls-remote`` at most every few seconds per
repository unless ``no_cache`` (the ApplicationSet's refresh annotation);
listings are cached per commit.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from gitopslab.argocd import repocreds
from gitopslab.argocd.applicationset.generators import GeneratorError
from gitopslab.argocd.applicationset.pathmatch import git_pathspec_match
from gitopslab.argocd.gitrepo import GitError, GitRepos, normalize_url

REVISION_TTL_SECONDS = 2.0
MAX_CACHED_LISTINGS = 256


class RepoListings:
    """Shared by every reconcile: resolved revisions and per-commit listings."""

    def __init__(self, repos: GitRepos, *, clock=time.monotonic):
        self.repos = repos
        self.clock = clock
        self._revisions: dict[tuple[str, str], tuple[str, float]] = {}
        self._listings: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def invalidate(self, url: str) -> None:
        norm = normalize_url(url)
        with self._lock:
            for key in [k for k in self._revisions if k[0] == norm]:
                del self._revisions[key]

    def service(self, secrets: list[dict]) -> "GitRepoService":
        return GitRepoService(self, secrets)

    def resolve(self, url: str, revision: str, creds, no_cache: bool) -> str:
        key, now = (normalize_url(url), revision or "HEAD"), self.clock()
        with self._lock:
            hit = self._revisions.get(key)
        if hit and not no_cache and now - hit[1] < REVISION_TTL_SECONDS:
            return hit[0]
        sha = self.repos.resolve(url, revision or "HEAD", creds)
        with self._lock:
            self._revisions[key] = (sha, now)
        return sha

    def cached(self, key: tuple, compute):
        with self._lock:
            if key in self._listings:
                return self._listings[key]
        value = compute()
        with self._lock:
            if len(self._listings) >= MAX_CACHED_LISTINGS:
                self._listings.pop(next(iter(self._listings)))
            self._listings[key] = value
        return value


class GitRepoService:
    """``services.Repos`` for one reconcile (credentials from the Secrets of that moment)."""

    def __init__(self, listings: RepoListings, secrets: list[dict]):
        self.listings = listings
        self.secrets = secrets

    def _resolve(self, url: str, revision: str, no_cache: bool, what: str) -> str:
        try:
            return self.listings.resolve(url, revision, repocreds.credentials_for(url, self.secrets), no_cache)
        except GitError as e:
            raise GeneratorError(f"{what}: rpc error: code = Internal desc = unable to resolve git revision : {e}") \
                from None

    def _checkout(self, url: str, sha: str, what: str, checkout_context: str) -> Path:
        try:
            return self.listings.repos.checkout(url, sha, repocreds.credentials_for(url, self.secrets))
        except GitError as e:
            raise GeneratorError(f"{what}: rpc error: code = Internal desc = unable to checkout git repo {url} "
                                 f"with revision {sha}{checkout_context}: {e}") from None

    def directories(self, repo_url: str, revision: str, no_cache: bool) -> list[str]:
        what = "error retrieving Git Directories"
        sha = self._resolve(repo_url, revision, no_cache, what)
        return list(self.listings.cached((normalize_url(repo_url), sha, "dirs"),
                                         lambda: list_directories(self._checkout(repo_url, sha, what, ""))))

    def files(self, repo_url: str, revision: str, pattern: str, no_cache: bool) -> dict[str, bytes]:
        what = "error retrieving Git files"
        sha = self._resolve(repo_url, revision, no_cache, what)
        return dict(self.listings.cached(
            (normalize_url(repo_url), sha, "files", pattern),
            lambda: read_files(self._checkout(repo_url, sha, what, f" pattern {pattern}"), pattern)))


def list_directories(root: Path) -> list[str]:
    """Every folder under ``root`` (relative, ``/``-separated), hidden ones skipped, in ``WalkDir`` order."""
    out: list[str] = []

    def walk(folder: Path, rel: str) -> None:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if not entry.is_dir(follow_symlinks=False) or entry.name.startswith("."):
                continue
            path = f"{rel}/{entry.name}" if rel else entry.name
            out.append(path)
            walk(Path(entry.path), path)

    walk(root, "")
    return out


def read_files(root: Path, pattern: str) -> dict[str, bytes]:
    """``git ls-files -- <pattern>`` over the checkout, with each file's content."""
    out: dict[str, bytes] = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        rel_folder = os.path.relpath(folder, root)
        for name in sorted(files):
            rel = name if rel_folder == "." else f"{rel_folder}/{name}".replace(os.sep, "/")
            if git_pathspec_match(pattern or ".", rel):
                out[rel] = (Path(folder) / name).read_bytes()
    return out
