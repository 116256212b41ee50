"""Daemon entry: ``python -m gitopslab.gitserver [--home PATH]``."""
from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from gitopslab.gitserver import gitconfig
from gitopslab.gitserver.layout import GitPaths
from gitopslab.gitserver.server import GitServer
from gitopslab.home import Home


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gitopslab.gitserver")
    parser.add_argument("--home", help="GITOPSLAB_HOME (par défaut : la variable d'environnement)")
    args = parser.parse_args(argv)
    home = (Home(Path(args.home)) if args.home else Home.current()).ensure()
    paths = GitPaths.of(home)
    server = _bind(home, paths.read_port())
    _seed(home)
    gitconfig.write(home, server.base_url)
    _write_atomic(paths.port_file, f"{server.port}\n")
    _write_atomic(paths.pid_file, f"{os.getpid()}\n")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    server.start()
    stopping.wait()
    server.stop()
    if paths.read_pid() == os.getpid():
        paths.pid_file.unlink(missing_ok=True)


def _bind(home: Home, previous_port: int | None) -> GitServer:
    if previous_port:
        try:
            return GitServer(home, port=previous_port)
        except OSError:
            pass
    return GitServer(home)


def _seed(home: Home) -> None:
    from gitopslab.content import seed

    seed.seed_once(home)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


if __name__ == "__main__":
    main()
