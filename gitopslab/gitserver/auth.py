"""The learner's personal access token and GitHub's access rules.

One token per home (``git/token``, mode 0600), shaped like a GitHub classic
PAT. HTTP basic with any user name carries it as the password (or as the
user name, as GitHub also accepts). ``decide`` is GitHub's behaviour as a
pure function: anonymous reads of public repositories pass; anything private,
unknown or written to needs the token; unknown repositories answer 401 to
anonymous callers (GitHub does not reveal what exists) and 404 to
authenticated ones.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
import string
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

TOKEN_PREFIX = "ghp_"
_ALPHABET = string.ascii_letters + string.digits

REALM = "GitHub"
MSG_NOT_FOUND = "Repository not found."
MSG_BAD_CREDENTIALS = "Invalid username or token. Password authentication is not supported for Git operations."


class Credentials(str, Enum):
    NONE = "none"
    VALID = "valid"
    INVALID = "invalid"


@dataclass(frozen=True)
class Decision:
    status: int          # 200 means "serve it"
    message: str = ""    # text/plain body, shown by git as "remote: <message>"

    @property
    def allowed(self) -> bool:
        return self.status == 200


def decide(*, write: bool, exists: bool, private: bool, credentials: Credentials) -> Decision:
    if credentials is Credentials.INVALID:
        return Decision(401, MSG_BAD_CREDENTIALS)
    if credentials is Credentials.VALID:
        return Decision(200) if exists else Decision(404, MSG_NOT_FOUND)
    if exists and not private and not write:
        return Decision(200)
    return Decision(401)


def new_token() -> str:
    return TOKEN_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(36))


def ensure_token(token_file: Path) -> str:
    """Read the home's token, creating it (0600, atomically) on first use."""
    try:
        existing = token_file.read_text().strip()
        if existing:
            return existing
    except FileNotFoundError:
        pass
    token_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = token_file.with_name(f".{token_file.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(new_token() + "\n")
    try:
        os.link(tmp, token_file)  # first writer wins; never replace a token in use
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return token_file.read_text().strip()


def check_authorization(header: str | None, token: str) -> Credentials:
    """Classify an ``Authorization`` header against the home's token."""
    if not header:
        return Credentials.NONE
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme in ("bearer", "token"):
        return _verdict(value.strip() == token and bool(token))
    if scheme != "basic":
        return Credentials.INVALID
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return Credentials.INVALID
    ok = _same(password, token) or (_same(user, token) and password in ("", "x-oauth-basic"))
    return _verdict(ok)


def _same(a: str, b: str) -> bool:
    return bool(b) and hmac.compare_digest(a.encode(), b.encode())


def _verdict(ok: bool) -> Credentials:
    return Credentials.VALID if ok else Credentials.INVALID
