"""The build context: the files Docker would send, minus ``.dockerignore``.

Patterns follow Docker's rules: paths relative to the context root, ``*`` and
``?`` within one path element, ``**`` across elements, ``!`` re-includes, the
last matching pattern wins, and excluding a directory excludes its content.
"""
from __future__ import annotations

import fnmatch
import glob as globmod
import os
import re
from dataclasses import dataclass
from pathlib import Path

from gitopslab.registry.layers import Files, read_tree


def read_patterns(context: Path) -> list[tuple[bool, re.Pattern]]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    patterns = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        line = os.path.normpath(line[1:].strip() if negate else line).lstrip("/")
        patterns.append((negate, _compile(line)))
    return patterns


def _compile(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):
                out, i = out[:-2] + "(?:.*/)?", i + 1
            continue
        out += "[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c)
        i += 1
    return re.compile(f"^{out}(?:/.*)?$")


def excluded(path: str, patterns: list[tuple[bool, re.Pattern]]) -> bool:
    result = False
    for negate, pattern in patterns:
        if pattern.match(path):
            result = not negate
    return result


@dataclass
class BuildContext:
    root: Path
    files: Files

    @property
    def size(self) -> int:
        return sum(len(e.data) for e in self.files.values())

    @classmethod
    def load(cls, root: Path) -> "BuildContext":
        patterns = read_patterns(root)
        files = {p: e for p, e in read_tree(root).items() if not excluded(p, patterns)}
        return cls(root, files)

    def select(self, source: str) -> Files | None:
        """Entries for one COPY source, relative to what they copy; None if nothing matches.

        A file maps to its base name, a directory to its content, a wildcard to
        every match (each by base name).
        """
        clean = os.path.normpath(source).lstrip("/")
        if clean in (".", ""):
            return dict(self.files)
        if any(ch in clean for ch in "*?["):
            matches = sorted(p for p in self.files if fnmatch.fnmatchcase(p, clean) and "/" not in p[len(os.path.dirname(clean)) + 1 if os.path.dirname(clean) else 0:])
            if not matches:
                return None
            selected: Files = {}
            for match in matches:
                selected.update(self._one(match) or {})
            return selected
        return self._one(clean)

    def is_file(self, source: str) -> bool:
        """A single non-directory source (copied to the destination path itself)."""
        clean = os.path.normpath(source).lstrip("/")
        entry = self.files.get(clean)
        return entry is not None and entry.kind != "dir"

    def _one(self, path: str) -> Files | None:
        entry = self.files.get(path)
        if entry is None:
            return None
        if entry.kind != "dir":
            return {os.path.basename(path): entry}
        prefix = path + "/"
        return {p[len(prefix):]: e for p, e in self.files.items() if p.startswith(prefix)} or {}


def has_glob(path: str) -> bool:
    return globmod.has_magic(path)
