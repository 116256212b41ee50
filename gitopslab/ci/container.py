"""One ``docker run`` container: ``python -m gitopslab.ci.container STATE_DIR``.

Runs the image with the cluster's container runtime (same models and real
processes as pods) on the container's own loopback address, forwards the
published ports from the job's address, writes ``ready`` (or ``failed``
with Docker's message), logs to ``log`` and records ``exit`` when it stops.
SIGTERM stops the container as ``docker stop`` does.
"""
from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

from gitopslab.home import Home, LabClock


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:  # noqa: BLE001
            pass


def _forwarder(ip: str, port: int):
    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(ip, port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
    return on_client


def _config(state: Path, config: dict, image, log_file) -> "object":
    from gitopslab.ci.machine import time_scale
    from gitopslab.cluster.runtime import ContainerConfig

    def log(stream: str, text: str) -> None:
        log_file.write(text.rstrip("\n") + "\n")
        log_file.flush()

    env = {**dict(image.env), **config["env"]}
    command = config["command"] or None
    return ContainerConfig(name=config["name"], pod_name=config["name"], namespace="ci", pod_uid=config["id"],
                           pod_ip=config["ip"], image=image, command=command, args=None, env=env,
                           working_dir=None, ports=[], mounts=[], pod_dir=state, log=log,
                           clock=LabClock(time_scale()))


async def main(state: Path) -> int:
    from gitopslab.cluster.runtime import create_container, target_port
    from gitopslab.registry.store import ImageStore

    config = json.loads((state / "config.json").read_text())
    image = ImageStore(Home.current()).resolve(config["image"], pulled_only=False)
    if image is None:
        (state / "failed").write_text(f"Unable to find image '{config['shown_image']}' locally\n")
        return 125
    servers = []
    for binding in config["ports"]:
        try:
            servers.append(await asyncio.start_server(_forwarder(config["ip"], target_port(binding["container_port"])),
                                                      binding["host_ip"], binding["host_port"]))
        except OSError:
            (state / "failed").write_text(
                f"docker: Error response from daemon: driver failed programming external connectivity on endpoint "
                f"{config['name']} ({config['id'][:64]}): Bind for 0.0.0.0:{binding['host_port']} failed: port is "
                "already allocated.")
            return 125
    with open(state / "log", "a", encoding="utf-8") as log_file:
        container = create_container(_config(state, config, image, log_file))
        try:
            await container.start()
        except Exception as e:  # noqa: BLE001 - Docker reports a start failure and exits 127/126
            (state / "failed").write_text(f"docker: Error response from daemon: {e}.")
            return 127
        (state / "ready").write_text("ok\n")
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stopping.set)
        loop.add_signal_handler(signal.SIGINT, stopping.set)
        waiter = asyncio.create_task(container.wait())
        stopper = asyncio.create_task(stopping.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper.done() and not waiter.done():
            result = await container.stop(10)
        else:
            result = waiter.result()
        for s in servers:
            s.close()
    (state / "exit").write_text(f"{result.code}\n")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]))))
