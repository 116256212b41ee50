"""Registry accounts and logins (``docker login``), and who may push where.

Design (documented for learners in French by the CLI): each registry host has
accounts; ``gitopslab image login [SERVER] -u USER -p PASSWORD`` logs in, and
an unknown user name creates the account on first login (the lab's sign-up).
The course's Docker Hub account ``datascientestuser`` / ``datascientestuser``
exists from the start. Pushing ``<registry>/<user>/…`` requires being logged
in to that registry as ``<user>``; official images (``library/…``) are never
writable. Logins are client state, like ``~/.docker/config.json``: kept per
``DOCKER_CONFIG`` directory (default: the home's ``registry/docker-config``),
so the workflow runner can have its own.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from gitopslab.registry import refs
from gitopslab.registry.fsutil import read_json, write_json
from gitopslab.locks import file_lock

SEEDED_ACCOUNTS = {refs.DEFAULT_REGISTRY: {"datascientestuser": "datascientestuser"}}
DENIED = "denied: requested access to the resource is denied"


class LoginFailed(Exception):
    pass


class PushDenied(Exception):
    pass


def _hash(registry: str, user: str, password: str) -> str:
    return hashlib.sha256(f"{registry}\0{user}\0{password}".encode()).hexdigest()


def server_url(registry: str) -> str:
    return "https://registry-1.docker.io/v2/" if registry == refs.DEFAULT_REGISTRY else f"https://{registry}/v2/"


def normalize_registry(server: str | None) -> str:
    if not server or server in ("docker.io", "index.docker.io", "https://index.docker.io/v1/", "registry-1.docker.io"):
        return refs.DEFAULT_REGISTRY
    return server.removeprefix("https://").removeprefix("http://").rstrip("/")


class Accounts:
    """Server side: the registry's accounts (``users.json``)."""

    def __init__(self, registry_root: Path):
        self.file, self.lock = registry_root / "users.json", registry_root / ".users.lock"

    def check_or_create(self, registry: str, user: str, password: str) -> None:
        if not user or not password:
            raise LoginFailed("Error: Cannot perform an interactive login from a non TTY device")
        with file_lock(self.lock):
            users = read_json(self.file, {})
            seeded = SEEDED_ACCOUNTS.get(registry, {})
            for name, secret in seeded.items():
                users.setdefault(registry, {}).setdefault(name, _hash(registry, name, secret))
            known = users.setdefault(registry, {})
            expected = known.get(user)
            if expected is None:
                known[user] = _hash(registry, user, password)
            elif expected != _hash(registry, user, password):
                raise LoginFailed(f'Error response from daemon: Get "{server_url(registry)}": '
                                  "unauthorized: incorrect username or password")
            write_json(self.file, users)


class Logins:
    """Client side: who is logged in where (``DOCKER_CONFIG``/config.json)."""

    def __init__(self, registry_root: Path, config_dir: Path | None = None):
        env_dir = os.environ.get("DOCKER_CONFIG")
        base = config_dir or (Path(env_dir) if env_dir else registry_root / "docker-config")
        self.file = base / "config.json"

    def user(self, registry: str) -> str | None:
        return read_json(self.file, {}).get("auths", {}).get(registry, {}).get("username")

    def set(self, registry: str, user: str | None) -> None:
        config = read_json(self.file, {})
        auths = config.setdefault("auths", {})
        if user is None:
            auths.pop(registry, None)
        else:
            auths[registry] = {"username": user}
        write_json(self.file, config)


def check_push(parsed: refs.Reference, logged_in_as: str | None) -> None:
    if parsed.registry == refs.DEFAULT_REGISTRY and parsed.repository.startswith(refs.OFFICIAL_NAMESPACE + "/"):
        raise PushDenied(DENIED)
    if logged_in_as is None or logged_in_as != parsed.owner:
        raise PushDenied(DENIED)
