"""A small POSIX-shell model (busybox ``sh``) for modelled containers.

It runs what Kubernetes examples run in busybox/alpine: ``sleep``, ``echo``,
``exit N``, ``cat`` of mounted files, ``env``, ``wget -qO- URL``, ``test``,
``&&``/``||``/``;``, ``while``/``for``/``if`` loops and ``$VAR``
expansion. Anything else answers ``sh: X: not found`` (exit 127), as a
real busybox would for a missing applet.
"""
from __future__ import annotations

import asyncio
import os
import re
import shlex
import time
from typing import TYPE_CHECKING

from gitopslab.cluster.runtime.models.http import http_get

if TYPE_CHECKING:
    from gitopslab.cluster.runtime.models.base import Model

SHELLS = {"sh", "ash", "bash", "dash"}
NOOP_COMMANDS = {"cp", "ln", "mkdir", "chmod", "chown", "touch", "rm", "mv", "trap", "kill", "sync", "export",
                 "set", "cd", "umask", "ulimit"}


class ShellExit(Exception):
    def __init__(self, code: int):
        self.code = code


class Shell:
    def __init__(self, model: "Model", *, capture: bool = True):
        self.model = model
        self.capture = capture
        self.out: list[str] = []
        self.vars: dict[str, str] = dict(model.env)
        self.status = 0

    # --- output -------------------------------------------------------------
    def write(self, text: str, stream: str = "stdout") -> None:
        if self.capture:
            self.out.append(text + "\n")
        else:
            self.model.log(text, stream)

    # --- entry points -------------------------------------------------------
    async def run_argv(self, argv: list[str]) -> tuple[int, str]:
        try:
            if argv and os.path.basename(argv[0]) in SHELLS:
                if len(argv) >= 3 and argv[1] == "-c":
                    code = await self.run_script(argv[2])
                elif len(argv) >= 2 and argv[1].startswith("-") and "c" in argv[1] and len(argv) >= 3:
                    code = await self.run_script(argv[2])
                else:
                    code = 0  # an interactive shell without a terminal exits at once
            elif argv:
                code = await self.command([os.path.basename(argv[0])] + argv[1:])
            else:
                code = 0
        except ShellExit as e:
            code = e.code
        return code, "".join(self.out)

    async def run_script(self, script: str) -> int:
        tokens = self._tokenize(script)
        nodes, _ = self._parse_list(tokens, 0, ())
        return await self._run_list(nodes)

    # --- parsing ------------------------------------------------------------
    def _expand(self, text: str) -> str:
        out, quote = [], False
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "'":
                quote = not quote
                out.append(ch)
                i += 1
                continue
            if ch == "$" and not quote:
                m = re.match(r"\$(\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*)|\?)", text[i:])
                if m:
                    name = m.group(2) or m.group(3)
                    value = str(self.status) if m.group(1) == "?" else self.vars.get(name, "")
                    out.append(value.replace("'", ""))
                    i += m.end()
                    continue
            out.append(ch)
            i += 1
        return "".join(out)

    def _tokenize(self, script: str) -> list[str]:
        lexer = shlex.shlex(script.replace("\n", ";"), posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        return list(lexer)

    def _parse_list(self, tokens: list[str], i: int, stops: tuple[str, ...]) -> tuple[list, int]:
        nodes: list = []
        while i < len(tokens):
            tok = tokens[i]
            if tok in stops:
                return nodes, i
            if tok in (";", ";;"):
                i += 1
                continue
            node, i = self._parse_and_or(tokens, i, stops)
            nodes.append(node)
        return nodes, i

    def _parse_and_or(self, tokens: list[str], i: int, stops: tuple[str, ...]):
        left, i = self._parse_command(tokens, i, stops)
        while i < len(tokens) and tokens[i] in ("&&", "||"):
            op = tokens[i]
            right, i = self._parse_command(tokens, i + 1, stops)
            left = ("and" if op == "&&" else "or", left, right)
        return left, i

    def _parse_command(self, tokens: list[str], i: int, stops: tuple[str, ...]):
        tok = tokens[i] if i < len(tokens) else ""
        if tok in ("while", "until"):
            cond, i = self._parse_list(tokens, i + 1, ("do",))
            body, i = self._parse_list(tokens, i + 1, ("done",))
            return (tok, cond, body), i + 1
        if tok == "for":
            var = tokens[i + 1]
            j = i + 2
            words = []
            if j < len(tokens) and tokens[j] == "in":
                j += 1
                while j < len(tokens) and tokens[j] not in (";", "do"):
                    words.append(tokens[j])
                    j += 1
            while j < len(tokens) and tokens[j] == ";":
                j += 1
            body, j = self._parse_list(tokens, j + 1, ("done",))
            return ("for", var, words, body), j + 1
        if tok == "if":
            cond, i = self._parse_list(tokens, i + 1, ("then",))
            then, i = self._parse_list(tokens, i + 1, ("else", "fi"))
            other = []
            if tokens[i] == "else":
                other, i = self._parse_list(tokens, i + 1, ("fi",))
            return ("if", cond, then, other), i + 1
        words = []
        while i < len(tokens) and tokens[i] not in (";", "&&", "||", "|", "&") and tokens[i] not in stops:
            words.append(tokens[i])
            i += 1
        while i < len(tokens) and tokens[i] in ("|", "&"):
            i += 1  # pipes and background jobs: run the first command only
            while i < len(tokens) and tokens[i] not in (";", "&&", "||") and tokens[i] not in stops:
                i += 1
        return ("cmd", words), i

    # --- execution ------------------------------------------------------------
    async def _run_list(self, nodes: list) -> int:
        for node in nodes:
            self.status = await self._run(node)
        return self.status

    async def _run(self, node) -> int:
        kind = node[0]
        if kind == "cmd":
            words = [self._expand_word(w) for w in node[1]]
            if not words:
                return 0
            return await self.command(words)
        if kind == "and":
            code = await self._run(node[1])
            return await self._run(node[2]) if code == 0 else code
        if kind == "or":
            code = await self._run(node[1])
            return code if code == 0 else await self._run(node[2])
        if kind in ("while", "until"):
            code = 0
            while True:
                ok = await self._run_list(node[1]) == 0
                if ok != (kind == "while"):
                    return code
                code = await self._run_list(node[2])
                await asyncio.sleep(0)
        if kind == "for":
            code = 0
            for word in node[2]:
                self.vars[node[1]] = self._expand_word(word)
                code = await self._run_list(node[3])
            return code
        if kind == "if":
            if await self._run_list(node[1]) == 0:
                return await self._run_list(node[2])
            return await self._run_list(node[3])
        return 0

    def _expand_word(self, word: str) -> str:
        return self._expand(word) if "$" in word else word

    async def command(self, words: list[str]) -> int:
        name, args = words[0], words[1:]
        if "=" in name and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", name):
            key, _, value = name.partition("=")
            self.vars[key] = value
            return await self.command(args) if args else 0
        base = {":": "true", "[": "test"}.get(name, os.path.basename(name))
        handler = getattr(self, f"_cmd_{base.replace('-', '_')}", None)
        if handler is not None:
            return await handler(args)
        if base in NOOP_COMMANDS:
            return 0
        model_handler = getattr(self.model, "shell_command", None)
        if model_handler is not None:
            result = await model_handler(base, args, self)
            if result is not None:
                return result
        self.write(f"sh: {name}: not found", "stderr")
        return 127

    # --- applets --------------------------------------------------------------
    async def _cmd_echo(self, args: list[str]) -> int:
        if args and args[0] == "-n":
            args = args[1:]
        self.write(" ".join(args))
        return 0

    async def _cmd_printf(self, args: list[str]) -> int:
        if args:
            fmt = args[0].replace("\\n", "\n")
            try:
                text = fmt % tuple(args[1:]) if "%" in fmt else fmt
            except TypeError:
                text = fmt
            for line in text.rstrip("\n").split("\n"):
                self.write(line)
        return 0

    async def _cmd_sleep(self, args: list[str]) -> int:
        total = 0.0
        for a in args or ["0"]:
            if a == "infinity":
                total = float("inf")
                break
            m = re.fullmatch(r"([0-9.]+)([smhd]?)", a)
            if not m:
                self.write(f"sleep: invalid number '{a}'", "stderr")
                return 1
            total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        if total == float("inf"):
            while True:
                await asyncio.sleep(3600)
        await self.model.sleep(total)
        return 0

    async def _cmd_exit(self, args: list[str]) -> int:
        raise ShellExit(int(args[0]) if args and args[0].lstrip("-").isdigit() else self.status)

    async def _cmd_true(self, args: list[str]) -> int:
        return 0

    async def _cmd_false(self, args: list[str]) -> int:
        return 1

    async def _cmd_cat(self, args: list[str]) -> int:
        code = 0
        for a in args:
            p = self.model.path(a)
            try:
                if p is None:
                    raise FileNotFoundError
                for line in p.read_text(errors="replace").splitlines():
                    self.write(line)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                self.write(f"cat: can't open '{a}': No such file or directory", "stderr")
                code = 1
        return code

    async def _cmd_ls(self, args: list[str]) -> int:
        targets = [a for a in args if not a.startswith("-")] or ["/"]
        code = 0
        for t in targets:
            p = self.model.path(t)
            if p is None or not p.exists():
                self.write(f"ls: {t}: No such file or directory", "stderr")
                code = 1
            elif p.is_dir():
                for child in sorted(os.listdir(p)):
                    if not child.startswith("..") or "-a" in args:
                        self.write(child)
            else:
                self.write(t)
        return code

    async def _cmd_env(self, args: list[str]) -> int:
        for k, v in self.vars.items():
            self.write(f"{k}={v}")
        return 0

    async def _cmd_printenv(self, args: list[str]) -> int:
        if not args:
            return await self._cmd_env(args)
        code = 0
        for a in args:
            if a in self.vars:
                self.write(self.vars[a])
            else:
                code = 1
        return code

    async def _cmd_hostname(self, args: list[str]) -> int:
        self.write(self.model.config.pod_name)
        return 0

    async def _cmd_date(self, args: list[str]) -> int:
        self.write(time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime()))
        return 0

    async def _cmd_test(self, args: list[str]) -> int:
        if args and args[-1] == "]":
            args = args[:-1]
        if not args:
            return 1
        if len(args) == 1:
            return 0 if args[0] else 1
        if args[0] == "!":
            return 1 - await self._cmd_test(args[1:])
        if len(args) == 2:
            op, operand = args
            if op == "-z":
                return 0 if not operand else 1
            if op == "-n":
                return 0 if operand else 1
            p = self.model.path(operand)
            exists = p is not None and p.exists()
            if op == "-e":
                return 0 if exists else 1
            if op == "-f":
                return 0 if exists and p.is_file() else 1
            if op == "-d":
                return 0 if exists and p.is_dir() else 1
            return 1
        if len(args) == 3:
            a, op, b = args
            if op in ("=", "=="):
                return 0 if a == b else 1
            if op == "!=":
                return 0 if a != b else 1
            try:
                x, y = int(a), int(b)
            except ValueError:
                return 2
            return 0 if {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y,
                         "-gt": x > y, "-ge": x >= y}.get(op, False) else 1
        return 2

    async def _cmd_wget(self, args: list[str]) -> int:
        url = next((a for a in args if "://" in a or (not a.startswith("-") and "." in a)), None)
        quiet = any(a.startswith("-q") for a in args)
        if url is None:
            self.write("BusyBox v1.37.0 (2024-09-26 21:31:42 UTC) multi-call binary.", "stderr")
            return 1
        m = re.match(r"^(?:http://)?([^/:]+)(?::(\d+))?(/.*)?$", url)
        if not m:
            self.write(f"wget: bad address '{url}'", "stderr")
            return 1
        host, port, path = m.group(1), int(m.group(2) or 80), m.group(3) or "/"
        services = self.model.config.services
        ip, real_port = (services.route(host, port, self.model.config.namespace, self.model.config.pod_ip)
                         if services is not None else (host, port))
        if ip is None:
            self.write(f"wget: bad address '{host}:{port}'", "stderr")
            return 1
        if not quiet:
            self.write(f"Connecting to {host}:{port} ({ip}:{port})", "stderr")
        try:
            status, body = await http_get(ip, real_port, path, timeout=5)
        except (OSError, asyncio.TimeoutError):
            self.write(f"wget: can't connect to remote host ({ip}): Connection refused", "stderr")
            return 1
        if status >= 400:
            self.write(f"wget: server returned error: HTTP/1.1 {status}", "stderr")
            return 1
        for line in body.decode("utf-8", "replace").splitlines():
            self.write(line)
        return 0


async def run_shell_main(model: "Model") -> int:
    """Run the container's argv as busybox would, logging its output."""
    code, _ = await Shell(model, capture=False).run_argv(model.argv)
    return code
