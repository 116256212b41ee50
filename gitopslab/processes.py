"""Stopping a process the lab started, by its own pid: SIGTERM, a grace period, then SIGKILL."""
from __future__ import annotations

import os
import signal
import time
from typing import Callable


def terminate(pid: int, is_alive: Callable[[], bool], grace: float = 5.0, *, wait_after_kill: bool = False) -> None:
    """Ask ``pid`` to stop; kill it if ``is_alive()`` still says so after ``grace`` seconds."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and is_alive():
        time.sleep(0.02)
    if not is_alive():
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while wait_after_kill and is_alive():
        time.sleep(0.02)
