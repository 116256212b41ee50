"""redis: start lines, RESP on 6379 (PING, AUTH, GET/SET/DEL/EXISTS), redis-cli for probes."""
from __future__ import annotations

import asyncio
import re
from datetime import datetime, timezone

from gitopslab.cluster.runtime.models import footprints
from gitopslab.cluster.runtime.models.base import Model

START_SECONDS = 0.1


def redis_time() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%d %b %Y %H:%M:%S.") + f"{now.microsecond // 1000:03d}"


def version_of(image) -> str:
    tag = str(getattr(image, "ref", "")).rpartition(":")[2]
    m = re.match(r"^(\d+\.\d+\.\d+)", tag)
    return m.group(1) if m else "7.4.2"


def encode(value) -> bytes:
    if value is None:
        return b"$-1\r\n"
    if isinstance(value, int):
        return f":{value}\r\n".encode()
    if isinstance(value, bytes):
        return b"$" + str(len(value)).encode() + b"\r\n" + value + b"\r\n"
    return f"+{value}\r\n".encode()


async def read_command(reader: asyncio.StreamReader) -> list[bytes] | None:
    line = await reader.readline()
    if not line:
        return None
    if not line.startswith(b"*"):
        return line.strip().split()  # inline command (telnet, nc)
    count = int(line[1:].strip())
    parts = []
    for _ in range(count):
        size = int((await reader.readline())[1:].strip())
        parts.append((await reader.readexactly(size + 2))[:-2])
    return parts


def requirepass_of(argv: list[str]) -> str | None:
    words = " ".join(argv[1:]).split()
    for i, w in enumerate(words):
        if w == "--requirepass" and i + 1 < len(words):
            return words[i + 1]
    return None


class RedisModel(Model):
    memory_bytes = footprints.REDIS

    def __init__(self, config, argv):
        super().__init__(config, argv)
        self.data: dict[bytes, bytes] = {}
        self.password = requirepass_of(argv)
        self.version = version_of(config.image)

    def rlog(self, role: str, mark: str, text: str) -> None:
        self.log(f"1:{role} {redis_time()} {mark} {text}")

    async def run(self) -> int:
        self.rlog("C", "#", "WARNING Memory overcommit must be enabled! Without it, a background save or "
                  "replication may fail under low memory condition. Being disabled, it can also cause failures "
                  "without low memory condition, see https://github.com/jemalloc/jemalloc/issues/1328. To fix "
                  "this issue add 'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the "
                  "command 'sysctl vm.overcommit_memory=1' for this to take effect.")
        self.rlog("C", "*", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
        self.rlog("C", "*", f"Redis version={self.version}, bits=64, commit=00000000, modified=0, pid=1, just started")
        self.rlog("C", "*", "Configuration loaded")
        await self.sleep(START_SECONDS)
        await self.listen_tcp(6379, self._client)
        self.rlog("M", "*", "monotonic clock: POSIX clock_gettime")
        self.rlog("M", "*", "Running mode=standalone, port=6379.")
        self.rlog("M", "*", "Server initialized")
        self.rlog("M", "*", "Ready to accept connections tcp")
        return await self.forever()

    def answer(self, cmd: list[bytes], state: dict) -> bytes:
        name = cmd[0].decode(errors="replace").upper()
        args = cmd[1:]
        if name == "AUTH":
            if self.password is None:
                return b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
            if args and args[-1].decode(errors="replace") == self.password:
                state["auth"] = True
                return encode("OK")
            return b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        if self.password is not None and not state.get("auth") and name not in ("HELLO", "QUIT"):
            return b"-NOAUTH Authentication required.\r\n"
        if name == "PING":
            return encode(args[0]) if args else encode("PONG")
        if name == "SET" and len(args) >= 2:
            self.data[args[0]] = args[1]
            return encode("OK")
        if name == "GET" and args:
            return encode(self.data.get(args[0]))
        if name == "DEL":
            return encode(sum(1 for a in args if self.data.pop(a, None) is not None))
        if name == "EXISTS":
            return encode(sum(1 for a in args if a in self.data))
        if name == "INFO":
            return encode(f"# Server\r\nredis_version:{self.version}\r\nredis_mode:standalone\r\n".encode())
        if name == "QUIT":
            return encode("OK")
        return f"-ERR unknown command '{name.lower()}', with args beginning with: \r\n".encode()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state: dict = {}
        try:
            while True:
                cmd = await read_command(reader)
                if not cmd:
                    break
                writer.write(self.answer(cmd, state))
                await writer.drain()
                if cmd[0].upper() == b"QUIT":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def shell_command(self, name: str, args: list[str], shell) -> int | None:
        if name != "redis-cli":
            return None
        words = [a for a in args if not a.startswith("-")]
        cmd = [w.encode() for w in (words or ["PING"])]
        state = {"auth": "-a" in args or bool(shell.vars.get("REDISCLI_AUTH"))}
        reply = self.answer(cmd, state).decode(errors="replace").rstrip("\r\n")
        shell.write(reply.lstrip("+:-$").replace("\r\n", "\n") if not reply.startswith("-") else
                    "(error) " + reply[1:])
        return 0

    async def on_term(self) -> int:
        self.rlog("M", "#", "Received SIGTERM scheduling shutdown...")
        self.rlog("M", "*", "User requested shutdown...")
        self.rlog("M", "*", "Removing the pid file.")
        self.rlog("M", "#", "Redis is now ready to exit, bye bye...")
        return 0


