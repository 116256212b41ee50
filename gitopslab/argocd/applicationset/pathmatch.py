"""Path patterns: Go's ``path.Match`` (git directories) and git pathspecs (git files), pure."""
from __future__ import annotations

import fnmatch
import re


class BadPattern(Exception):
    """Go's ``path.ErrBadPattern``."""

    def __str__(self) -> str:
        return "syntax error in pattern"


def go_path_match(pattern: str, name: str) -> bool:
    """``path.Match``: ``*`` and ``?`` never match ``/``; ``[...]`` classes (``^`` negates); ``\\`` escapes.

    Raises ``BadPattern`` for a malformed pattern."""
    return re.fullmatch(_go_pattern_regex(pattern), name, re.DOTALL) is not None


def _go_pattern_regex(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            if i + 1 >= len(pattern):
                raise BadPattern()
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            i, cls = _char_class(pattern, i + 1)
            out.append(cls)
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _char_class(pattern: str, i: int) -> tuple[int, str]:
    negate = i < len(pattern) and pattern[i] == "^"
    if negate:
        i += 1
    ranges: list[str] = []
    first = True
    while True:
        if i >= len(pattern):
            raise BadPattern()
        c = pattern[i]
        if c == "]" and not first:
            i += 1
            break
        first = False
        lo, i = _class_char(pattern, i)
        if i < len(pattern) and pattern[i] == "-" and i + 1 < len(pattern) and pattern[i + 1] != "]":
            hi, i = _class_char(pattern, i + 1)
            if hi < lo:
                raise BadPattern()
            ranges.append(f"{re.escape(lo)}-{re.escape(hi)}")
        else:
            ranges.append(re.escape(lo))
    body = "".join(ranges)
    return i, (f"[^{body}]" if negate else f"[{body}]")


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    c = pattern[i]
    if c == "\\":
        if i + 1 >= len(pattern):
            raise BadPattern()
        return pattern[i + 1], i + 2
    if c in "-]":
        raise BadPattern()
    return c, i + 1


def git_pathspec_match(pathspec: str, path: str) -> bool:
    """Whether ``git ls-files -- <pathspec>`` lists ``path`` (default pathspec magic: wildcards match ``/``,
    a leading directory matches everything under it)."""
    spec = pathspec.removeprefix("./") if pathspec not in (".", "./") else ""
    if spec in ("", "."):
        return True
    spec = spec.rstrip("/") if spec.endswith("/") and not _has_wildcard(spec) else spec
    if path == spec or path.startswith(spec.rstrip("/") + "/"):
        return True
    if not _has_wildcard(spec):
        return False
    return fnmatch.fnmatchcase(path, spec)


def _has_wildcard(text: str) -> bool:
    return any(c in text for c in "*?[\\")
