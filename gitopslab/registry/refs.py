"""Image references, normalised as Docker does (pure).

``nginx`` -> ``docker.io/library/nginx:latest``; ``user/app:1`` ->
``docker.io/user/app:1``; ``ghcr.io/org/app`` -> ``ghcr.io/org/app:latest``;
a ``@sha256:`` digest is kept and then no default tag is added.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
OFFICIAL_NAMESPACE = "library"

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class InvalidReference(ValueError):
    pass


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str          # e.g. "library/nginx", "user/app"
    tag: str | None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Fully qualified repository: ``docker.io/library/nginx``."""
        return f"{self.registry}/{self.repository}"

    @property
    def familiar_name(self) -> str:
        """Repository as Docker prints it: ``nginx``, ``user/app``, ``ghcr.io/org/app``."""
        if self.registry == DEFAULT_REGISTRY:
            prefix = OFFICIAL_NAMESPACE + "/"
            return self.repository[len(prefix):] if self.repository.startswith(prefix) else self.repository
        return self.name

    @property
    def familiar(self) -> str:
        return self.familiar_name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    @property
    def owner(self) -> str:
        """First path component of the repository (the Docker Hub user)."""
        return self.repository.split("/", 1)[0]

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def with_tag(self, tag: str) -> "Reference":
        return Reference(self.registry, self.repository, tag, None)


def parse(ref: str) -> Reference:
    text = ref.strip()
    if not text:
        raise InvalidReference("invalid reference format")
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not _DIGEST.match(digest):
            raise InvalidReference("invalid reference format")
    tag = None
    last = text.rsplit("/", 1)[-1]
    if ":" in last:
        text, tag = text.rsplit(":", 1)
        if not _TAG.match(tag):
            raise InvalidReference("invalid reference format")
    parts = text.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, path = parts[0], parts[1:]
    else:
        registry, path = DEFAULT_REGISTRY, parts
    if registry == "index.docker.io":
        registry = DEFAULT_REGISTRY
    if any(c != c.lower() for c in path):
        raise InvalidReference("invalid reference format: repository name must be lowercase")
    if not path or not all(_COMPONENT.match(c) for c in path):
        raise InvalidReference("invalid reference format")
    if registry == DEFAULT_REGISTRY and len(path) == 1:
        path = [OFFICIAL_NAMESPACE, *path]
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry, "/".join(path), tag, digest)


def normalize_ref(ref: str) -> str:
    """``nginx`` -> ``docker.io/library/nginx:latest`` (raises InvalidReference)."""
    return str(parse(ref))


def familiar(ref: str) -> str:
    """``docker.io/library/nginx:latest`` -> ``nginx:latest``."""
    return parse(ref).familiar
