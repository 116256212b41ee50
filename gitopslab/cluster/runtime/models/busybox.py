"""busybox / alpine: whatever shell command the container runs (see ``shell``)."""
from __future__ import annotations

from gitopslab.cluster.runtime.models import footprints
from gitopslab.cluster.runtime.models.base import Model
from gitopslab.cluster.runtime.models.shell import run_shell_main


class ShellModel(Model):
    # PID 1 is sh or sleep, which install no SIGTERM handler: only SIGKILL stops them
    ignores_sigterm = True
    memory_bytes = footprints.SHELL

    async def run(self) -> int:
        return await run_shell_main(self)


class GenericModel(Model):
    """A catalog image without a richer model: accepts TCP on its declared ports and runs."""

    async def run(self) -> int:
        async def accept(reader, writer):
            writer.close()

        for p in self.config.ports:
            if (p.get("protocol") or "TCP") == "TCP" and p.get("containerPort"):
                await self.listen_tcp(int(p["containerPort"]), accept)
        return await self.forever()
