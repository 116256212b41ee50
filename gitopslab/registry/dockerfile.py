"""Read a Dockerfile with dockerfile-parse and check it as Docker's parser does.

Errors carry the line and Docker's wording: ``dockerfile parse error on line
3: unknown instruction: FORM (did you mean FROM?)``.
"""
from __future__ import annotations

import difflib
import io
import json
import re
from dataclasses import dataclass, field

from dockerfile_parse import DockerfileParser

INSTRUCTIONS = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")


class DockerfileError(Exception):
    pass


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    line: int                                   # 1-based, where the instruction starts
    original: str                               # as written, continuation lines joined
    flags: dict[str, str] = field(default_factory=dict)

    @property
    def json_args(self) -> list[str] | None:
        """The exec (JSON array) form's arguments, or None for the shell form."""
        text = self.value.strip()
        if not text.startswith("["):
            return None
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        return parsed if isinstance(parsed, list) and all(isinstance(a, str) for a in parsed) else None

    def display(self) -> str:
        """``Step n/m : <this>`` text, as the classic builder prints it."""
        flags = "".join(f"--{k}={v} " if v else f"--{k} " for k, v in self.flags.items())
        return f"{self.keyword} {flags}{self.value}".strip()


_FLAG = re.compile(r"^--([a-z-]+)(?:=(\S*))?\s*")


def parse(text: str, name: str = "Dockerfile") -> list[Instruction]:
    if not text.strip():
        raise DockerfileError(f"the Dockerfile ({name}) cannot be empty")
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode()))
    instructions = []
    for item in parser.structure:
        if item["instruction"] == "COMMENT":
            continue
        line = item["startline"] + 1
        written = item["content"].strip().split(None, 1)[0] if item["content"].strip() else item["instruction"]
        keyword = item["instruction"].upper()
        if keyword not in INSTRUCTIONS:
            raise DockerfileError(_at(line, f"unknown instruction: {written}{_suggest(written)}"))
        value, flags = _split_flags(item["value"].strip())
        instruction = Instruction(keyword, value, line, " ".join(item["content"].split()), flags)
        _check_arguments(instruction)
        instructions.append(instruction)
    if not instructions or instructions[0].keyword not in ("FROM", "ARG"):
        raise DockerfileError("no build stage in current context")
    if not any(i.keyword == "FROM" for i in instructions):
        raise DockerfileError("no build stage in current context")
    return instructions


def _at(line: int, message: str) -> str:
    return f"dockerfile parse error on line {line}: {message}"


def _suggest(word: str) -> str:
    match = difflib.get_close_matches(word.upper(), INSTRUCTIONS, n=1, cutoff=0.6)
    if not match:
        return ""
    suggestion = match[0] if word.isupper() else match[0].lower()
    return f" (did you mean {suggestion}?)"


def _split_flags(value: str) -> tuple[str, dict[str, str]]:
    flags = {}
    while value.startswith("--"):
        m = _FLAG.match(value)
        if not m:
            break
        flags[m.group(1)] = m.group(2) or ""
        value = value[m.end():]
    return value, flags


def _check_arguments(ins: Instruction) -> None:
    words = ins.json_args if ins.json_args is not None else ins.value.split()
    count = len(words)
    kw = ins.keyword
    problem = None
    if kw == "FROM" and count not in (1, 3):
        problem = "FROM requires either one or three arguments"
    elif kw in ("COPY", "ADD") and count < 2:
        problem = (f"{kw} requires at least two arguments, but only one was provided. Destination could not be determined"
                   if count == 1 else f"{kw} requires at least two arguments")
    elif kw in ("WORKDIR", "USER", "STOPSIGNAL") and count != 1:
        problem = f"{kw} requires exactly one argument"
    elif kw in ("RUN", "CMD", "ENTRYPOINT", "EXPOSE", "VOLUME", "LABEL", "ARG", "ENV", "MAINTAINER",
                "HEALTHCHECK", "SHELL", "ONBUILD") and count == 0:
        problem = f"{kw} requires at least one argument"
    elif kw == "ENV" and "=" not in words[0] and count < 2:
        problem = "ENV must have two arguments"
    elif kw == "LABEL" and "=" not in ins.value:
        problem = "LABEL requires at least one argument"
    if problem:
        raise DockerfileError(_at(ins.line, problem))


_VAR = re.compile(r"\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def expand(text: str, variables: dict[str, str]) -> str:
    """Docker's variable substitution: ``$V``, ``${V}``, ``${V:-default}``, ``${V:+alt}``, ``\\$``."""
    def replace(m: re.Match) -> str:
        if m.group(0) == "\\$":
            return "$"
        name = m.group(1) or m.group(4)
        value = variables.get(name, "")
        if m.group(2) == "-":
            return value or m.group(3) or ""
        if m.group(2) == "+":
            return m.group(3) if value else ""
        return value
    return _VAR.sub(replace, text)


def key_values(text: str) -> list[tuple[str, str]]:
    """``K=V K2="two words"`` (ENV, LABEL, ARG) into pairs; legacy ``ENV K value`` too."""
    import shlex

    words = shlex.split(text, posix=True)
    if words and "=" not in words[0]:
        return [(words[0], text.split(None, 1)[1].strip() if len(words) > 1 else "")]
    pairs = []
    for word in words:
        key, _, value = word.partition("=")
        pairs.append((key, value))
    return pairs
