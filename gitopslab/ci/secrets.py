"""Repository secrets (``Settings > Secrets and variables > Actions``), one file per repository.

Stored under ``$GITOPSLAB_HOME/ci/secrets/OWNER/REPO.json`` with mode 0600.
Names are upper-cased as GitHub does; values never appear in run logs
(they are masked as ``***``).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from gitopslab.home import Home

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretError(ValueError):
    pass


def _file(home: Home, repository: str) -> Path:
    owner, _, repo = repository.partition("/")
    if not owner or not repo or "/" in repo:
        raise SecretError(f"dépôt invalide : {repository!r} (attendu : PROPRIETAIRE/DEPOT)")
    return home.root / "ci" / "secrets" / owner / f"{repo}.json"


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise SecretError("Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) "
                          "or underscores (_). Spaces are not allowed. Must start with a letter ([a-z], [A-Z]) "
                          "or underscores (_).")
    if name.upper().startswith("GITHUB_"):
        raise SecretError("Secret names must not start with GITHUB_.")
    return name.upper()


def load(home: Home, repository: str) -> dict[str, str]:
    try:
        return dict(json.loads(_file(home, repository).read_text()))
    except (OSError, ValueError):
        return {}


def _save(home: Home, repository: str, secrets: dict[str, str]) -> None:
    path = _file(home, repository)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(secrets, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def set_secret(home: Home, repository: str, name: str, value: str) -> str:
    key = validate_name(name)
    secrets = load(home, repository)
    secrets[key] = value
    _save(home, repository, secrets)
    return key


def remove_secret(home: Home, repository: str, name: str) -> bool:
    secrets = load(home, repository)
    found = secrets.pop(name.upper(), None) is not None
    if found:
        _save(home, repository, secrets)
    return found
