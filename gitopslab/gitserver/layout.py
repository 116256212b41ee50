"""Files of the Git server inside a home (``home.git_dir``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitopslab.home import Home


@dataclass(frozen=True)
class GitPaths:
    root: Path

    @classmethod
    def of(cls, home: Home) -> "GitPaths":
        return cls(home.git_dir)

    @property
    def repos(self) -> Path:
        return self.root / "repos"

    @property
    def token_file(self) -> Path:
        return self.root / "token"

    @property
    def pid_file(self) -> Path:
        return self.root / "server.pid"

    @property
    def port_file(self) -> Path:
        return self.root / "server.port"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def lock_file(self) -> Path:
        return self.root / "server.lock"

    @property
    def hooks(self) -> Path:
        return self.root / "hooks"

    @property
    def seeded_marker(self) -> Path:
        return self.root / "seeded"

    def read_port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
