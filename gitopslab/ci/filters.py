"""Which pushes start a workflow: ``on.push`` branch, tag and path filters (pure).

Pattern syntax from GitHub's "Filter pattern cheat sheet": ``*`` matches any
characters but ``/``, ``**`` any characters, ``?`` makes the preceding
character optional, ``+`` repeats it, ``[…]`` is a character class and a
leading ``!`` negates; patterns are read in order and the last match wins.
"""
from __future__ import annotations

import re
from functools import lru_cache

ZERO_SHA = "0" * 40


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c in "?+":
            out.append(c)
        elif c == "[":
            end = pattern.find("]", i)
            if end == -1:
                out.append(re.escape(c))
            else:
                out.append(pattern[i:end + 1])
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def matches(patterns: list[str], value: str) -> bool:
    """Ordered include/exclude (``!``) patterns: the last one that matches decides."""
    result = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        if _regex(body).match(value):
            result = not negated
    return result


def _as_list(value) -> list[str] | None:
    if value is None:
        return None
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def ref_matches(push_filter: dict, ref: str) -> bool:
    """Branch and tag filters of ``on.push`` against a full ref name."""
    branches, branches_ignore = _as_list(push_filter.get("branches")), _as_list(push_filter.get("branches-ignore"))
    tags, tags_ignore = _as_list(push_filter.get("tags")), _as_list(push_filter.get("tags-ignore"))
    has_branch_filter = branches is not None or branches_ignore is not None
    has_tag_filter = tags is not None or tags_ignore is not None
    if ref.startswith("refs/heads/"):
        name = ref[len("refs/heads/"):]
        if branches is not None:
            return matches(branches, name)
        if branches_ignore is not None:
            return not matches(branches_ignore, name)
        return not has_tag_filter
    if ref.startswith("refs/tags/"):
        name = ref[len("refs/tags/"):]
        if tags is not None:
            return matches(tags, name)
        if tags_ignore is not None:
            return not matches(tags_ignore, name)
        return not has_branch_filter
    return False


def paths_match(push_filter: dict, changed: list[str] | None) -> bool:
    """``paths``/``paths-ignore``; ``changed=None`` (unknown, e.g. a new branch) runs the workflow."""
    paths, ignore = _as_list(push_filter.get("paths")), _as_list(push_filter.get("paths-ignore"))
    if changed is None or (paths is None and ignore is None):
        return True
    if paths is not None:
        return any(matches(paths, f) for f in changed)
    return any(not matches(ignore, f) for f in changed)


def push_triggers(on: dict, ref: str, changed: list[str] | None, *, deleted: bool = False) -> bool:
    """Does a push of ``ref`` (changing ``changed`` files) start a workflow whose ``on`` is ``on``?"""
    if deleted or "push" not in on:
        return False
    push_filter = on.get("push") or {}
    return ref_matches(push_filter, ref) and paths_match(push_filter, changed)
