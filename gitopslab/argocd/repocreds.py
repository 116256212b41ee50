"""Repository credentials from Secrets (``argocd.argoproj.io/secret-type: repository|repo-creds``), pure."""
from __future__ import annotations

import base64

from gitopslab.argocd.gitrepo import Credentials, normalize_url

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"


def _field(secret: dict, key: str) -> str:
    if key in (secret.get("stringData") or {}):
        return str(secret["stringData"][key])
    raw = (secret.get("data") or {}).get(key)
    if not raw:
        return ""
    try:
        return base64.b64decode(raw).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


def secret_type(secret: dict) -> str:
    return ((secret.get("metadata") or {}).get("labels") or {}).get(SECRET_TYPE_LABEL, "")


def credentials_for(url: str, secrets: list[dict]) -> Credentials | None:
    """A repository Secret with the same URL wins; else the longest matching ``repo-creds`` prefix."""
    wanted = normalize_url(url)
    for secret in secrets:
        if secret_type(secret) == "repository" and normalize_url(_field(secret, "url")) == wanted:
            creds = Credentials(_field(secret, "username"), _field(secret, "password"))
            if creds:
                return creds
    best: tuple[int, Credentials] | None = None
    for secret in secrets:
        if secret_type(secret) != "repo-creds":
            continue
        prefix = _field(secret, "url").strip().rstrip("/").lower()
        if prefix and wanted.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), Credentials(_field(secret, "username"), _field(secret, "password")))
    return best[1] if best else None


def repository_urls(secrets: list[dict]) -> list[str]:
    return [_field(s, "url") for s in secrets if secret_type(s) == "repository"]
