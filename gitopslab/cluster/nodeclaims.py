"""Node addresses claimed machine-wide, so two lab homes never serve NodePorts on the same address.

A running cluster daemon holds an ``flock`` on ``/tmp/gitopslab-node-addresses/<ip>.lock``
for its whole life; the kernel drops it when the daemon exits or dies, so a crash
leaves no stale claim. The folder is shared by every user of the machine (sticky and
world-writable, like /tmp), because their NodePorts would collide too. When the
folder cannot be used, nothing is claimed and every address reads as free.
"""
from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

CLAIMS_DIR = Path("/tmp/gitopslab-node-addresses")


def _claims_dir() -> Path | None:
    try:
        CLAIMS_DIR.mkdir(exist_ok=True)
        info = CLAIMS_DIR.stat()
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != 0o1777:
            CLAIMS_DIR.chmod(0o1777)
        return CLAIMS_DIR
    except OSError:
        return None


def _open(ip: str) -> int | None:
    folder = _claims_dir()
    if folder is None:
        return None
    try:
        fd = os.open(folder / f"{ip}.lock", os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        return None
    try:
        os.fchmod(fd, 0o644)
    except OSError:
        pass
    return fd


def claim(ip: str) -> int | None:
    """Claim ``ip`` for this process: the descriptor to keep open, or None if it cannot be claimed."""
    fd = _open(ip)
    if fd is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def is_claimed(ip: str) -> bool:
    """Does a running cluster daemon (of any lab home) serve its node on ``ip``?"""
    fd = _open(ip)
    if fd is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
