"""What a modelled action receives, and how it fails."""
from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gitopslab.ci.logbook import StepLog
from gitopslab.ci.machine import Machine
from gitopslab.home import Home


class StepFailure(Exception):
    """The step fails with this ``##[error]`` message."""


@dataclass
class ActionContext:
    home: Home
    uses: str
    inputs: dict[str, str]
    log: StepLog
    machine: Machine
    env: dict[str, str]              # the step's process environment
    github: dict[str, Any]
    run_root: Path                   # the run's folder (artifacts live there)
    outputs: dict[str, str] = field(default_factory=dict)
    post: list[Callable[["ActionContext"], None]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    def input(self, name: str, default: str = "") -> str:
        value = self.inputs.get(name)
        return default if value is None or value == "" else str(value)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.inputs.get(name)
        if value is None or value == "":
            return default
        return str(value).strip().lower() == "true"

    def command(self, argv: list[str], *, cwd: Path | None = None, shown: str | None = None,
                check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run ``argv``, logging ``[command]…`` and its output as the action toolkit does."""
        if shown != "":  # "" hides a command the real action does not print
            self.log.command(shown if shown is not None else " ".join(shlex.quote(a) for a in argv))
        done = subprocess.run(argv, cwd=cwd or self.machine.workspace, env=env or self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in done.stdout.splitlines():
            self.log.line(line)
        if check and done.returncode != 0:
            raise StepFailure(f"The process '{argv[0]}' failed with exit code {done.returncode}")
        return done
