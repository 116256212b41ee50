"""postgres (docker library image): the entrypoint's checks, initdb, the server on 5432."""
from __future__ import annotations

import asyncio

from datetime import datetime, timezone

from gitopslab.cluster.runtime.models import footprints
from gitopslab.cluster.runtime.models.base import Model

START_SECONDS = 1.5
DEFAULT_PGDATA = "/var/lib/postgresql/data"

NO_PASSWORD = """Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.

       See PostgreSQL documentation about "trust":
       https://www.postgresql.org/docs/current/auth-trust.html"""

INITDB = """The files belonging to this database system will be owned by user "postgres".
This user must also own the server process.

The database cluster will be initialized with locale "en_US.utf8".
The default database encoding has accordingly been set to "UTF8".
The default text search configuration will be set to "english".

Data page checksums are disabled.

fixing permissions on existing directory {pgdata} ... ok
creating subdirectories ... ok
selecting dynamic shared memory implementation ... posix
selecting default max_connections ... 100
selecting default shared_buffers ... 128MB
selecting default time zone ... Etc/UTC
creating configuration files ... ok
running bootstrap script ... ok
performing post-bootstrap initialization ... ok
syncing data to disk ... ok


Success. You can now start the database server using:

    pg_ctl -D {pgdata} -l logfile start
"""


def major_version(image) -> str:
    tag = str(getattr(image, "ref", "")).rpartition(":")[2]
    head = tag.split(".")[0].split("-")[0]
    return head if head.isdigit() else "17"


def pg_time() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d} UTC"


class PostgresModel(Model):
    memory_bytes = footprints.POSTGRES

    def __init__(self, config, argv):
        super().__init__(config, argv)
        self.major = major_version(config.image)
        self.accepting = False

    def pglog(self, text: str, pid: int = 1) -> None:
        self.log(f"{pg_time()} [{pid}] {text}", "stderr")

    async def run(self) -> int:
        pgdata = self.env.get("PGDATA") or DEFAULT_PGDATA
        data_dir = self.path(pgdata)
        initialized = data_dir is not None and (data_dir / "PG_VERSION").exists()
        if not initialized:
            if not self.env.get("POSTGRES_PASSWORD") and self.env.get("POSTGRES_HOST_AUTH_METHOD") != "trust":
                for line in NO_PASSWORD.split("\n"):
                    self.log(line, "stderr")
                return 1
            for line in INITDB.format(pgdata=pgdata).split("\n"):
                self.log(line)
            await self.sleep(START_SECONDS * 0.6)
            if data_dir is not None:
                data_dir.mkdir(parents=True, exist_ok=True)
                (data_dir / "PG_VERSION").write_text(self.major + "\n")
            self.log("PostgreSQL init process complete; ready for start up.")
            self.log("")
        else:
            self.log("")
            self.log("PostgreSQL Database directory appears to contain a database; Skipping initialization")
            self.log("")
        await self.sleep(START_SECONDS * 0.4)
        await self.listen_tcp(5432, self._client)
        self.pglog(f"LOG:  starting PostgreSQL {self.major}.2 (Debian {self.major}.2-1.pgdg120+1) on "
                   "x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit")
        self.pglog('LOG:  listening on IPv4 address "0.0.0.0", port 5432')
        self.pglog('LOG:  listening on IPv6 address "::", port 5432')
        self.pglog('LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"')
        self.pglog(f"LOG:  database system was shut down at {pg_time()[:-8]} UTC", 64)
        self.pglog("LOG:  database system is ready to accept connections")
        self.accepting = True
        return await self.forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # enough of the protocol for "is it up": answer SSLRequest with 'N', then close
        try:
            data = await asyncio.wait_for(reader.read(8), 5)
            if len(data) == 8 and data[4:8] == b"\x04\xd2\x16\x2f":
                writer.write(b"N")
                await writer.drain()
                await asyncio.wait_for(reader.read(1024), 5)
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def shell_command(self, name: str, args: list[str], shell) -> int | None:
        if name == "pg_isready":
            if self.accepting:
                shell.write("/var/run/postgresql:5432 - accepting connections")
                return 0
            shell.write("/var/run/postgresql:5432 - no response")
            return 2
        if name in ("psql", "postgres"):
            return 0 if self.accepting else 2
        return None

    async def on_term(self) -> int:
        self.pglog("LOG:  received smart shutdown request")
        self.pglog("LOG:  background worker \"logical replication launcher\" (PID 70) exited with exit code 1")
        self.pglog("LOG:  shutting down", 65)
        self.pglog("LOG:  checkpoint starting: shutdown immediate", 65)
        self.pglog("LOG:  database system is shut down")
        return 0


