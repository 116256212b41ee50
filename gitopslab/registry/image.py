"""What the kubelet gets for an image: ``Image`` (files, config, interpreter)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Image:
    ref: str                      # normalised reference asked for: docker.io/library/nginx:latest
    digest: str                   # sha256:… content digest (stable for unchanged content)
    base: str                     # catalog image it derives from: "nginx", "python", …
    rootfs: Path                  # the image's files
    env: dict[str, str]
    workdir: str
    entrypoint: list[str]
    cmd: list[str]
    exposed_ports: list[str]      # Docker form: ["80/tcp", "5000/tcp"]
    user: str
    python: Path | None           # the image's interpreter (venv python) for Python images
    size: int = 0                 # bytes, for "Image size: N bytes."
    labels: dict[str, str] = field(default_factory=dict)
    catalog: bool = False         # a public image of the catalog (modelled behaviour)
    not_executed: list[str] = field(default_factory=list)   # RUN lines the lab did not run

    @property
    def id(self) -> str:
        return self.digest

    @property
    def short_id(self) -> str:
        return self.digest.split(":", 1)[1][:12]


def env_dict(env: list[str]) -> dict[str, str]:
    result = {}
    for item in env:
        key, _, value = item.partition("=")
        result[key] = value
    return result


def env_list(env: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in env.items()]
