"""Repository names and URLs (pure).

A repository is ``OWNER/REPO`` as on GitHub. Its lab URL is
``<base_url>/OWNER/REPO.git``; GitHub's ``https://github.com/OWNER/REPO(.git)``
maps to it through ``insteadOf``. Like GitHub, the server accepts the path
with or without ``.git`` and with a trailing slash.
"""
from __future__ import annotations

import re

GITHUB_BASE = "https://github.com/"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

# Smart HTTP endpoints served by git http-backend, after OWNER/REPO(.git).
_SERVICE_SUFFIXES = ("/info/refs", "/git-upload-pack", "/git-receive-pack", "/HEAD")


class InvalidRepoName(ValueError):
    pass


def validate(full_name: str) -> str:
    """Return ``OWNER/REPO`` (without ``.git``) or raise InvalidRepoName."""
    parts = full_name.strip().strip("/").split("/")
    if len(parts) != 2:
        raise InvalidRepoName(f"nom de dépôt invalide : {full_name!r} (attendu : PROPRIETAIRE/DEPOT)")
    owner, repo = parts
    if repo.endswith(".git"):
        repo = repo[:-4]
    for part in (owner, repo):
        if not _NAME.match(part) or part in (".", "..") or part.endswith(".git"):
            raise InvalidRepoName(f"nom de dépôt invalide : {full_name!r}")
    return f"{owner}/{repo}"


def split_request_path(path: str) -> tuple[str, str] | None:
    """``/OWNER/REPO(.git)/info/refs`` -> (``OWNER/REPO``, ``/info/refs``); None if not Git."""
    for suffix in _SERVICE_SUFFIXES:
        if path.endswith(suffix):
            repo_path = path[: -len(suffix)].rstrip("/")
            try:
                return validate(repo_path), suffix
            except InvalidRepoName:
                return None
    return None


def lab_url(base_url: str, full_name: str) -> str:
    return f"{base_url.rstrip('/')}/{full_name}.git"


def github_url(full_name: str) -> str:
    return f"{GITHUB_BASE}{full_name}"


def parse_repo_url(url: str, base_url: str | None = None) -> str | None:
    """``OWNER/REPO`` of a github.com URL or of a lab URL (when ``base_url`` is given)."""
    for prefix in (GITHUB_BASE, "http://github.com/", *((base_url.rstrip("/") + "/",) if base_url else ())):
        if url.startswith(prefix):
            try:
                return validate(url[len(prefix):])
            except InvalidRepoName:
                return None
    return None
