"""Step logs as GitHub writes them: timestamped lines, ``##[group]`` markers, secrets masked.

Workflow commands printed by a step (``::add-mask::``, ``::group::``,
``::endgroup::``, ``::error::``, ``::warning::``, ``::notice::``) are
interpreted here, as the runner does.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

MASK = "***"
_COMMAND = re.compile(r"^::([a-z-]+)(?: [^:]*)?::(.*)$")


def timestamp() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0Z"


class Masker:
    def __init__(self, values: list[str] | None = None):
        self.values: set[str] = set()
        for v in values or []:
            self.add(v)

    def add(self, value: str) -> None:
        value = str(value or "")
        if len(value) >= 1 and value.strip():
            self.values.add(value)
            for line in value.splitlines():
                if len(line.strip()) >= 3:
                    self.values.add(line)

    def __call__(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text


class StepLog:
    """One step's log file; ``echo`` (optional) sees each line as it is written."""

    def __init__(self, path: Path, masker: Masker, echo: Callable[[str], None] | None = None):
        self.path = path
        self.masker = masker
        self.echo = echo
        self.errors: list[str] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a", encoding="utf-8")

    def line(self, text: str) -> None:
        for part in str(text).split("\n"):
            masked = self.masker(part.rstrip("\r"))
            self._file.write(f"{timestamp()} {masked}\n")
            if self.echo:
                self.echo(masked)
        self._file.flush()

    def group(self, title: str) -> None:
        self.line(f"##[group]{title}")

    def endgroup(self) -> None:
        self.line("##[endgroup]")

    def error(self, message: str) -> None:
        self.errors.append(self.masker(message))
        self.line(f"##[error]{message}")

    def warning(self, message: str) -> None:
        self.line(f"##[warning]{message}")

    def command(self, argv: str) -> None:
        self.line(f"[command]{argv}")

    def output(self, text: str) -> None:
        """A line printed by a step's process: workflow commands are interpreted."""
        m = _COMMAND.match(text)
        if not m:
            self.line(text)
            return
        name, value = m.group(1), m.group(2)
        if name == "add-mask":
            self.masker.add(value)
        elif name == "group":
            self.group(value)
        elif name == "endgroup":
            self.endgroup()
        elif name == "error":
            self.error(value)
        elif name in ("warning", "notice", "debug"):
            self.line(f"##[{name}]{value}")
        else:
            self.line(text)

    def close(self) -> None:
        self._file.close()


def read_lines(path: Path) -> list[str]:
    """A step log without timestamps."""
    try:
        raw = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [line.split(" ", 1)[1] if len(line) > 28 and line[4] == "-" and " " in line else line for line in raw]
