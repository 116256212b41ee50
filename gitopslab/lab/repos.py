"""The learner's Git repositories on the lab Git server, through GitPython.

What a learner does on GitHub — create a (private) repository, commit, push
with a personal access token (PAT) — done from a notebook. The course's
``https://github.com/OWNER/REPO`` URLs are kept: the lab's Git configuration
rewrites them to the lab server. The token reaches Git through
``GIT_ASKPASS`` (never in a URL, argv or ``.git/config``), as a credential
helper would give it.
"""
from __future__ import annotations

import os
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import git

from gitopslab.home import Home
from gitopslab.lab.identity import learner_name

GITHUB = "https://github.com/"
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*) printf '%s' "$GITOPSLAB_GIT_USERNAME" ;;
  *) printf '%s' "$GITOPSLAB_GIT_PASSWORD" ;;
esac
"""


def github_url(full_name: str) -> str:
    """``https://github.com/OWNER/REPO.git``: the URL the course uses (served by the lab)."""
    return f"{GITHUB}{full_name.strip('/')}.git"


def token(home: Home | None = None) -> str:
    """The learner's personal access token on the lab Git server (created on first use)."""
    from gitopslab.gitserver import auth
    from gitopslab.gitserver.layout import GitPaths

    return auth.ensure_token(GitPaths.of((home or Home.current()).ensure()).token_file)


def create_repository(name: str, *, owner: str | None = None, private: bool = True,
                      home: Home | None = None, quiet: bool = False) -> str:
    """Create ``owner/name`` on the lab Git server (like "New repository" on GitHub); returns its URL.

    Idempotent: an existing repository is kept (its visibility too).
    """
    from gitopslab import gitserver
    from gitopslab.gitserver.repos import RepoStore

    home = (home or Home.current()).ensure()
    gitserver.ensure_running(home)
    full_name = f"{owner or learner_name()}/{name}"
    store = RepoStore(home)
    url = github_url(full_name)
    if store.exists(full_name):
        if not quiet:
            print(f"Le dépôt {full_name} existe déjà : {url}")
        return url
    store.create(full_name, private=private)
    if not quiet:
        print(f"Dépôt {'privé' if private else 'public'} créé : {url}")
    return url


@contextmanager
def credentials(username: str | None = None, password: str | None = None):
    """Environment giving Git the learner's name and token, for the duration of one command."""
    with tempfile.TemporaryDirectory(prefix="gitopslab-askpass-") as tmp:
        script = Path(tmp) / "askpass.sh"
        script.write_text(_ASKPASS)
        script.chmod(stat.S_IRWXU)
        yield {"GIT_ASKPASS": str(script), "GIT_TERMINAL_PROMPT": "0",
               "GITOPSLAB_GIT_USERNAME": username or learner_name(),
               "GITOPSLAB_GIT_PASSWORD": password if password is not None else token()}


def init(path: str | Path, remote_url: str | None = None, *, branch: str = "main") -> git.Repo:
    """``git init`` (or reuse) ``path`` and point ``origin`` at ``remote_url``."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    try:
        repo = git.Repo(path)
    except git.InvalidGitRepositoryError:
        repo = git.Repo.init(path, initial_branch=branch)
    if remote_url:
        if "origin" in [r.name for r in repo.remotes]:
            repo.remote("origin").set_url(remote_url)
        else:
            repo.create_remote("origin", remote_url)
    return repo


def _repo(repo: git.Repo | str | Path) -> git.Repo:
    return repo if isinstance(repo, git.Repo) else git.Repo(Path(repo))


def commit_all(repo: git.Repo | str | Path, message: str, *, quiet: bool = False) -> str | None:
    """``git add -A && git commit -m message``; returns the new commit's SHA (None if nothing changed)."""
    repo = _repo(repo)
    repo.git.add(A=True)
    if repo.head.is_valid() and not repo.index.diff("HEAD"):
        if not quiet:
            print("Rien à committer : l'arbre de travail est propre.")
        return None
    repo.git.commit("-m", message)
    sha = repo.head.commit.hexsha
    if not quiet:
        stats = repo.head.commit.stats.total
        print(f"[{repo.active_branch.name} {sha[:7]}] {message}")
        print(f" {stats['files']} file{'s' if stats['files'] != 1 else ''} changed, "
              f"{stats['insertions']} insertions(+), {stats['deletions']} deletions(-)")
    return sha


def push(repo: git.Repo | str | Path, *, remote: str = "origin", branch: str | None = None,
         username: str | None = None, password: str | None = None, force: bool = False,
         quiet: bool = False) -> str:
    """``git push -u origin BRANCH`` with the learner's token; prints Git's own output."""
    repo = _repo(repo)
    branch = branch or repo.active_branch.name
    args = ["-u", remote, branch] + (["--force"] if force else [])
    with credentials(username, password) as env:
        try:
            _, out, err = repo.git.push(*args, env={**os.environ, **env}, with_extended_output=True)
        except git.GitCommandError as e:
            raise RuntimeError(f"git push a échoué :\n{(e.stderr or str(e)).strip()}") from None
    if not quiet:
        print("\n".join(t for t in (out.strip(), err.strip()) if t))
    return repo.head.commit.hexsha


def workspace(folder: str) -> Path:
    """Where a workshop clones a repository: ``travail/<folder>`` next to the notebook (under
    ``GITOPSLAB_WORKDIR`` when set), so the files show in JupyterLab's file browser. A clone left by
    an earlier run of the cell is kept aside, never deleted."""
    path = Path(os.environ.get("GITOPSLAB_WORKDIR") or Path.cwd()) / "travail" / folder
    if path.exists():
        kept = path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}")
        path.rename(kept)
        print(f"Le dossier {path} existait déjà : il est conservé sous {kept.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def clone(url: str, dest: str | Path, *, username: str | None = None, password: str | None = None) -> git.Repo:
    """``git clone`` with the learner's token (private repositories need it)."""
    with credentials(username, password) as env:
        return git.Repo.clone_from(url, Path(dest), env={**os.environ, **env})


def show_log(repo: git.Repo | str | Path, *, max_count: int = 10, path: str | None = None) -> list[str]:
    """``git log --oneline`` (optionally for one file); returns the lines printed."""
    repo = _repo(repo)
    kwargs = {"max_count": max_count}
    lines = [f"{c.hexsha[:7]} {c.summary}" for c in repo.iter_commits(paths=path, **kwargs)]
    print("\n".join(lines) if lines else "(aucun commit)")
    return lines
