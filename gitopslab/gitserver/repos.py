"""Bare repositories of the lab Git server: create, list, visibility.

Repositories live at ``git/repos/OWNER/REPO.git``. A private repository
carries a ``gitopslab-private`` marker file, so the server checks visibility
with one ``stat`` and no Git process. Creation is atomic: the bare repository
is initialised beside its final place and renamed into it.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gitopslab.gitserver import names
from gitopslab.gitserver.layout import GitPaths
from gitopslab.home import Home

PRIVATE_MARKER = "gitopslab-private"


class RepoExists(Exception):
    pass


class RepoNotFound(Exception):
    pass


@dataclass(frozen=True)
class RepoInfo:
    full_name: str
    private: bool
    path: Path


class RepoStore:
    def __init__(self, home: Home):
        self.paths = GitPaths.of(home)

    def path(self, full_name: str) -> Path:
        return self.paths.repos / f"{names.validate(full_name)}.git"

    def exists(self, full_name: str) -> bool:
        try:
            return (self.path(full_name) / "HEAD").is_file()
        except names.InvalidRepoName:
            return False

    def is_private(self, full_name: str) -> bool:
        return (self.path(full_name) / PRIVATE_MARKER).exists()

    def info(self, full_name: str) -> RepoInfo:
        if not self.exists(full_name):
            raise RepoNotFound(full_name)
        name = names.validate(full_name)
        return RepoInfo(name, self.is_private(name), self.path(name))

    def create(self, full_name: str, *, private: bool = False, default_branch: str = "main") -> RepoInfo:
        name = names.validate(full_name)
        final = self.path(name)
        if final.exists():
            raise RepoExists(name)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".creating-", dir=final.parent))
        try:
            subprocess.run(["git", "init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(staging)],
                           check=True, capture_output=True)
            if private:
                (staging / PRIVATE_MARKER).touch()
            staging.rename(final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if final.exists() and not (final / "HEAD").exists():
                shutil.rmtree(final, ignore_errors=True)
            raise
        return RepoInfo(name, private, final)

    def set_private(self, full_name: str, private: bool) -> None:
        marker = self.info(full_name).path / PRIVATE_MARKER
        if private:
            marker.touch()
        else:
            marker.unlink(missing_ok=True)

    def list(self) -> list[RepoInfo]:
        if not self.paths.repos.is_dir():
            return []
        found = []
        for owner in sorted(self.paths.repos.iterdir()):
            if not owner.is_dir():
                continue
            for repo in sorted(owner.glob("*.git")):
                if (repo / "HEAD").is_file():
                    full = f"{owner.name}/{repo.name[:-4]}"
                    found.append(RepoInfo(full, (repo / PRIVATE_MARKER).exists(), repo))
        return found
