"""The Git configuration of the lab: ``$GITOPSLAB_HOME/gitconfig``.

Used through ``GIT_CONFIG_GLOBAL`` by the lab's own processes and the
learner's notebooks, so the user's ``~/.gitconfig`` is never modified. The
file includes ``~/.gitconfig`` (the learner keeps their identity and
settings), then rewrites ``https://github.com/`` to the lab Git server with
Git's own ``url.<base>.insteadOf``. It holds no credentials: private
repositories need the token, as on GitHub.
"""
from __future__ import annotations

import os
import shlex
from pathlib import Path

from gitopslab.gitserver import names
from gitopslab.home import Home

DEFAULT_NAME = "Apprenant GitOps"
DEFAULT_EMAIL = "apprenant@gitopslab.local"


def render(base_url: str, *, user_gitconfig: str = "~/.gitconfig") -> str:
    base = base_url.rstrip("/") + "/"
    return (
        "# Généré par gitopslab : configuration Git du lab (ne pas modifier, réécrit au démarrage).\n"
        "[user]\n"
        f"\tname = {DEFAULT_NAME}\n"
        f"\temail = {DEFAULT_EMAIL}\n"
        "[init]\n"
        "\tdefaultBranch = main\n"
        "[advice]\n"
        "\tdetachedHead = false\n"
        "# Vos réglages personnels (identité, éditeur…) restent prioritaires.\n"
        "[include]\n"
        f"\tpath = {user_gitconfig}\n"
        "# Les URL du cours (https://github.com/…) pointent vers le serveur Git du lab.\n"
        f'[url "{base}"]\n'
        f"\tinsteadOf = {names.GITHUB_BASE}\n"
        "\tinsteadOf = http://github.com/\n"
    )


def write(home: Home, base_url: str) -> Path:
    """Write the home's gitconfig atomically (only when it changes)."""
    target = home.gitconfig
    text = render(base_url)
    if target.exists() and target.read_text() == text:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(target)
    return target


def environment(home: Home) -> dict[str, str]:
    """The variables that give a process the lab's Git configuration."""
    return {
        "GITOPSLAB_HOME": str(home.root),
        "GIT_CONFIG_GLOBAL": str(home.gitconfig),
        # A notebook has no terminal to answer a credential prompt: fail at once instead.
        "GIT_TERMINAL_PROMPT": "0",
    }


def apply(home: Home, environ: "os._Environ[str] | dict[str, str] | None" = None) -> None:
    """Export the lab's Git configuration into ``environ`` (default: this process)."""
    (os.environ if environ is None else environ).update(environment(home))


def export_lines(home: Home) -> str:
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in environment(home).items())
