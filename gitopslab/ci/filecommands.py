"""Environment files a step writes: ``$GITHUB_OUTPUT``, ``$GITHUB_ENV``, ``$GITHUB_PATH`` (pure parsing).

Format from GitHub's "Workflow commands": ``name=value`` lines, or the
multiline form ``name<<DELIMITER`` … ``DELIMITER``.
"""
from __future__ import annotations


class FileCommandError(ValueError):
    pass


def parse_key_values(text: str) -> dict[str, str]:
    result: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if heredoc != -1 and (eq == -1 or heredoc < eq):
            name, delimiter = line[:heredoc], line[heredoc + 2:]
            if not name or not delimiter:
                raise FileCommandError(f"Invalid format '{line}'")
            body = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise FileCommandError(f"Matching delimiter not found '{delimiter}'")
            i += 1
            result[name] = "\n".join(body)
        elif eq > 0:
            result[line[:eq]] = line[eq + 1:]
        else:
            raise FileCommandError(f"Invalid format '{line}'")
    return result


def parse_paths(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]
