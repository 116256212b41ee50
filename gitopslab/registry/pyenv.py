"""Python environments of images: one virtual environment per pip history.

``RUN pip install …`` really installs, into a venv that belongs to the image.
The venv is keyed by the interpreter and the ordered pip steps (arguments and
requirement files' contents), so an unchanged rebuild reuses it. Installs go
through a wheelhouse under the registry (``--no-index --find-links``) and fall
back to the package index only for what the wheelhouse lacks, filling it.
A venv is complete once its ``.complete`` marker exists; anything else is an
interrupted creation and is redone.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from gitopslab.registry.fsutil import canonical_json, sha256
from gitopslab.locks import file_lock

COMPLETE = ".complete"
META = "gitopslab-env.json"


@dataclass(frozen=True)
class PipStep:
    """One ``pip install``: its arguments, with ``-r`` files given by content."""
    args: tuple[str, ...]
    requirement_files: tuple[tuple[str, str], ...] = ()   # (name as written, content)

    def to_json(self) -> dict:
        return {"args": list(self.args), "requirement_files": [list(p) for p in self.requirement_files]}

    @classmethod
    def from_json(cls, data: dict) -> "PipStep":
        return cls(tuple(data["args"]), tuple((n, c) for n, c in data.get("requirement_files", [])))


class PipFailed(Exception):
    def __init__(self, output: str, code: int = 1):
        super().__init__(output)
        self.output, self.code = output, code


def interpreter_tag() -> str:
    return f"cpython-{sys.version_info.major}.{sys.version_info.minor}"


def env_key(steps: list[PipStep]) -> str:
    return sha256(canonical_json({"python": interpreter_tag(), "steps": [s.to_json() for s in steps]}))[7:]


class PythonEnvs:
    def __init__(self, root: Path, wheelhouse: Path):
        self.root, self.wheelhouse = root, wheelhouse

    def path(self, key: str) -> Path:
        return self.root / key

    def python(self, key: str) -> Path:
        return self.path(key) / "bin" / "python"

    def exists(self, key: str) -> bool:
        return (self.path(key) / COMPLETE).exists()

    def meta(self, key: str) -> dict:
        try:
            return json.loads((self.path(key) / META).read_text())
        except (OSError, ValueError):
            return {"installed": [], "size": 0}

    def ensure(self, steps: list[PipStep], out=lambda line: None) -> str:
        """Create the venv of ``steps`` unless it exists; returns its key."""
        key = env_key(steps)
        if self.exists(key):
            return key
        with file_lock(self.root / f".{key}.lock"):
            if self.exists(key):
                return key
            target = self.path(key)
            shutil.rmtree(target, ignore_errors=True)
            try:
                subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)],
                               check=True, capture_output=True)
                for step in steps:
                    self._install(target, step, out)
                installed = installed_distributions(target)
                meta = {"installed": installed, "size": _tree_size(target), "steps": [s.to_json() for s in steps]}
                (target / META).write_text(json.dumps(meta, indent=1))
                (target / COMPLETE).touch()
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
        return key

    def _install(self, venv: Path, step: PipStep, out) -> None:
        self.wheelhouse.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="pip-") as tmp:
            args = _materialize(step, Path(tmp))
            python = str(venv / "bin" / "python")
            offline = _pip(["--python", python, "install", "--no-index", "--find-links", str(self.wheelhouse), *args])
            if offline.returncode == 0:
                return _echo(offline.stdout, out)
            wheel_args = [a for a in args if a not in ("-U", "--upgrade", "--force-reinstall", "--no-cache-dir")]
            fetched = _pip(["wheel", "--wheel-dir", str(self.wheelhouse), "--find-links", str(self.wheelhouse),
                            *wheel_args])
            if fetched.returncode != 0:
                raise PipFailed(_clean(fetched.stdout + fetched.stderr), fetched.returncode)
            online = _pip(["--python", python, "install", "--no-index", "--find-links", str(self.wheelhouse), *args])
            if online.returncode != 0:
                raise PipFailed(_clean(online.stdout + online.stderr), online.returncode)
            _echo(online.stdout, out)


def installed_distributions(venv: Path) -> list[str]:
    site = next(venv.glob("lib/python*/site-packages"), None)
    if site is None:
        return []
    return sorted({f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions(path=[str(site)])},
                  key=str.lower)


def _pip(args: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PIP_RETRIES="1",
               PIP_TIMEOUT="15", PIP_ROOT_USER_ACTION="ignore", PIP_PROGRESS_BAR="off")
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=env)


def _materialize(step: PipStep, tmp: Path) -> list[str]:
    """Write ``-r`` files to ``tmp`` and point the arguments at them."""
    contents = dict(step.requirement_files)
    args, expect_file = [], False
    for arg in step.args:
        if expect_file:
            path = tmp / f"req-{len(args)}.txt"
            path.write_text(contents.get(arg, ""))
            args.append(str(path))
            expect_file = False
            continue
        args.append(arg)
        expect_file = arg in ("-r", "--requirement", "-c", "--constraint")
    return args


def _echo(text: str, out) -> None:
    for line in _clean(text).splitlines():
        out(line)


_PROCESSING = re.compile(r"^Processing \S*/([^/\s]+?)-[0-9][^/\s]*\.whl.*$")


def _clean(text: str) -> str:
    """pip's output as in a Docker build: no lab paths, wheels shown as "Collecting <name>"."""
    lines = []
    for line in text.splitlines():
        if line.startswith("Looking in links:") or "is ignored: it is neither a file nor a directory" in line:
            continue
        lines.append(_PROCESSING.sub(r"Collecting \1", line))
    return "\n".join(lines)


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total
