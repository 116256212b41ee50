"""Git access for the repo server: resolve a revision, check out a commit (GitPython).

One bare cache per repository URL under the cluster folder; each resolved
commit is checked out once into its own read-only tree, so renders of the
same commit share files. Credentials come from repository Secrets and reach
git through ``GIT_ASKPASS`` (never in argv, URLs or logs). The lab's Git
config (``GIT_CONFIG_GLOBAL``) rewrites github.com URLs to the lab server.

Errors carry Argo CD's wording (``failed to list refs: authentication
required``, ``unable to resolve 'x' to a commit SHA: revision not found``).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import git

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
TRUNCATED_SHA_RE = re.compile(r"^[0-9a-f]{7,40}$")
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*) printf '%s' "$GITOPSLAB_GIT_USERNAME" ;;
  *) printf '%s' "$GITOPSLAB_GIT_PASSWORD" ;;
esac
"""
KEEP_TREES = 8


class GitError(Exception):
    """A git failure, worded as Argo CD's repo server words it."""


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""

    def __bool__(self) -> bool:
        return bool(self.username or self.password)

    def __repr__(self) -> str:  # never print secrets
        return f"Credentials(username={self.username!r}, password=***)"


def normalize_url(url: str) -> str:
    """Argo CD's repo URL comparison: case-insensitive, without ``.git`` and trailing slash."""
    url = url.strip().rstrip("/")
    if url.endswith(".git"):
        url = url[:-4]
    return url.lower()


class GitRepos:
    """Bare caches and per-commit trees for all repositories one controller reads."""

    def __init__(self, cache_dir: Path, gitconfig: Path | None = None):
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.gitconfig = gitconfig
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._askpass = self.cache_dir / "askpass.sh"
        if not self._askpass.exists():
            self._askpass.write_text(_ASKPASS)
            self._askpass.chmod(0o700)

    # --- public ---------------------------------------------------------
    def ls_remote(self, url: str, creds: Credentials | None = None) -> list[tuple[str, str]]:
        """(sha, ref) pairs the remote advertises, HEAD first when present."""
        try:
            out = git.Git().execute(["git", "ls-remote", "--symref", url], env=self._env(creds))
        except git.GitCommandError as e:
            raise GitError("failed to list refs: " + describe_git_failure(url, e)) from None
        return _parse_ls_remote(out)

    def resolve(self, url: str, revision: str, creds: Credentials | None = None) -> str:
        """Commit SHA for HEAD, a branch, a tag, or a (truncated) SHA, as ``LsRemote`` does."""
        revision = revision or "HEAD"
        if SHA_RE.match(revision):
            return revision
        refs = self.ls_remote(url, creds)
        symref = None
        by_ref = {}
        for sha, ref in refs:
            if sha.startswith("ref: "):
                if ref == revision or revision == "HEAD" and ref == "HEAD":
                    symref = sha[5:]
                continue
            by_ref[ref] = sha
        for ref, sha in by_ref.items():
            short = ref.split("/", 2)[-1] if ref.startswith("refs/") else ref
            if ref == revision or short == revision:
                # annotated tags: prefer the peeled commit
                return by_ref.get(ref + "^{}", sha)
        if symref and symref in by_ref:
            return by_ref[symref]
        if TRUNCATED_SHA_RE.match(revision):
            return self._expand_sha(url, revision, creds)
        raise GitError(f"unable to resolve '{revision}' to a commit SHA: revision not found")

    def checkout(self, url: str, sha: str, creds: Credentials | None = None) -> Path:
        """A directory holding the tree of commit ``sha`` (fetched if needed)."""
        cache = self._cache(url)
        tree = cache / "trees" / sha
        if tree.is_dir():
            return tree
        with self._lock(url):
            if tree.is_dir():
                return tree
            repo = self._bare(cache)
            if not self._has_commit(repo, sha):
                self._fetch(repo, url, creds)
            if not self._has_commit(repo, sha):
                raise GitError(f"unable to resolve '{sha}' to a commit SHA: revision not found")
            tmp = cache / "trees" / f".{sha}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            repo.git.execute(["git", f"--work-tree={tmp}", "checkout", "-f", sha, "--", "."],
                             env=self._env(creds))
            tmp.rename(tree)
            self._evict_old_trees(cache / "trees")
        return tree

    def commit_metadata(self, url: str, sha: str) -> dict:
        """Author, date and message of a fetched commit (for history and notifications)."""
        repo = self._bare(self._cache(url))
        commit = repo.commit(sha)
        return {"author": f"{commit.author.name} <{commit.author.email}>",
                "date": commit.committed_datetime.isoformat(), "message": commit.message}

    # --- helpers --------------------------------------------------------
    def _cache(self, url: str) -> Path:
        return self.cache_dir / hashlib.sha256(normalize_url(url).encode()).hexdigest()[:16]

    def _lock(self, url: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(normalize_url(url), threading.Lock())

    def _bare(self, cache: Path) -> git.Repo:
        bare = cache / "bare.git"
        if not bare.is_dir():
            return git.Repo.init(bare, bare=True)
        return git.Repo(bare)

    @staticmethod
    def _has_commit(repo: git.Repo, sha: str) -> bool:
        try:
            repo.git.execute(["git", "cat-file", "-e", f"{sha}^{{commit}}"])
            return True
        except git.GitCommandError:
            return False

    def _fetch(self, repo: git.Repo, url: str, creds: Credentials | None) -> None:
        try:
            repo.git.execute(["git", "fetch", "--force", "--tags", "--prune", url,
                              "+refs/heads/*:refs/heads/*"], env=self._env(creds))
        except git.GitCommandError as e:
            raise GitError("failed to fetch: " + describe_git_failure(url, e)) from None

    def _expand_sha(self, url: str, short: str, creds: Credentials | None) -> str:
        repo = self._bare(self._cache(url))
        with self._lock(url):
            self._fetch(repo, url, creds)
        try:
            return repo.git.execute(["git", "rev-parse", "--verify", "--quiet", f"{short}^{{commit}}"]).strip()
        except git.GitCommandError:
            # Argo CD passes an unknown truncated SHA through; the checkout then fails
            return short

    def _evict_old_trees(self, trees: Path) -> None:
        entries = sorted((p for p in trees.iterdir() if not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP_TREES]:
            shutil.rmtree(old, ignore_errors=True)

    def _env(self, creds: Credentials | None) -> dict:
        env = dict(os.environ)
        env.update(GIT_TERMINAL_PROMPT="0", GIT_ASKPASS=str(self._askpass), GCM_INTERACTIVE="never",
                   GITOPSLAB_GIT_USERNAME=(creds.username if creds else "") or "",
                   GITOPSLAB_GIT_PASSWORD=(creds.password if creds else "") or "")
        env.pop("SSH_ASKPASS", None)
        if self.gitconfig is not None and Path(self.gitconfig).exists():
            env["GIT_CONFIG_GLOBAL"] = str(self.gitconfig)
        env.setdefault("GIT_CONFIG_NOSYSTEM", "1")
        return env


def _parse_ls_remote(out: str) -> list[tuple[str, str]]:
    refs = []
    for line in out.splitlines():
        if "\t" not in line:
            continue
        sha, ref = line.split("\t", 1)
        refs.append((sha.strip(), ref.strip()))
    return refs


def describe_git_failure(url: str, error: git.GitCommandError) -> str:
    """The go-git error text Argo CD would show for this git CLI failure."""
    stderr = str(error.stderr or "")
    low = stderr.lower()
    if ("authentication failed" in low or "could not read username" in low
            or "terminal prompts disabled" in low or " 401" in low or "403" in low):
        if "github.com" in url.lower():
            return "authentication required: Repository not found."
        return "authentication required"
    if ("not found" in low or "does not appear to be a git repository" in low
            or "does not exist" in low or " 404" in low or "no such file" in low):
        return "repository not found"
    if "connection refused" in low or "could not resolve host" in low or "failed to connect" in low:
        return f'Get "{url.rstrip("/")}/info/refs?service=git-upload-pack": dial tcp: connect: connection refused'
    message = stderr.strip().splitlines()[-1] if stderr.strip() else str(error)
    return message.removeprefix("fatal: ").strip()
