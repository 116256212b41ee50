"""The pod network: pod IPs on the host's loopback and the low-port mapping.

All of 127.0.0.0/8 is loopback on Linux, so every pod gets its own address
in 127.42.0.0/16 without root, and two pods can both listen on :5000.

Ports below 1024 need privileges, so a container port ``p < 1024`` is
served on ``p + LOW_PORT_OFFSET`` of the pod IP (80 -> 20080, 443 -> 20443).
Probes, Services, NodePorts and the process hook all go through
``target_port`` so the mapping is applied exactly once, consistently.

Allocations are persisted (JSON next to the store) so a daemon restart keeps
every pod's IP; an IP is released when its pod is deleted.

The loopback is shared by every lab on the machine (prod and staging, two
learners on one JupyterHub, graded submissions side by side), so each
cluster starts its search at its own place in the range and skips any
address the kernel already has a socket on.
"""
from __future__ import annotations

import ipaddress
import json
import os
import threading
import time
import zlib
from pathlib import Path

POD_CIDR = ipaddress.ip_network("127.42.0.0/16")
_POD_HEX_SUFFIX = "2A7F"  # 127.42 as /proc/net/tcp prints it (little-endian hex)
LOW_PORT_OFFSET = 20000


def target_port(port: int) -> int:
    """The host port a container port is really served on."""
    port = int(port)
    return port + LOW_PORT_OFFSET if 0 < port < 1024 else port


def container_port(host_port: int) -> int:
    """Inverse of ``target_port`` (for messages that show the container port)."""
    host_port = int(host_port)
    if LOW_PORT_OFFSET < host_port < LOW_PORT_OFFSET + 1024:
        return host_port - LOW_PORT_OFFSET
    return host_port


_IN_USE_TTL = 1.0
_in_use_cache: tuple[float, set[str]] = (-_IN_USE_TTL, set())


def addresses_in_use(tables: tuple[str, ...] = ("/proc/net/tcp", "/proc/net/udp")) -> set[str]:
    """IPv4 addresses some socket of this host is bound to (any lab, any process).

    Read at most once a second: allocating a burst of pods must not re-read
    the kernel's socket tables for each one.
    """
    global _in_use_cache
    now = time.monotonic()
    if now - _in_use_cache[0] < _IN_USE_TTL:
        return _in_use_cache[1]
    raw: set[str] = set()
    for table in tables:
        try:
            with open(table, "rb") as f:
                data = f.read()
        except OSError:
            continue
        for line in data.split(b"\n")[1:]:
            fields = line.split(None, 2)
            if len(fields) > 1:
                raw.add(fields[1][:8].decode("ascii"))
    used = {decode_proc_address(h) for h in raw if h.endswith(_POD_HEX_SUFFIX)}
    _in_use_cache = (now, used)
    return used


def decode_proc_address(field: str) -> str:
    """``0100007F:1F90`` (as /proc/net/tcp prints it, little-endian) -> ``127.0.0.1``."""
    packed = bytes.fromhex(field.partition(":")[0])
    return str(ipaddress.IPv4Address(packed[::-1]))


def start_offset(state_file: Path) -> int:
    """Where this cluster starts looking in the range (stable for a cluster folder)."""
    key = str(Path(state_file).resolve()).encode()
    return 2 + zlib.crc32(key) % (POD_CIDR.num_addresses - 3)


def is_pod_ip(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in POD_CIDR
    except ValueError:
        return False


class PodNetwork:
    """Allocates one IP per pod UID, stable across daemon restarts.

    ``.0`` and ``.1`` of the range are never handed out (network and
    gateway, as a CNI bridge would keep them). Like the host-local IPAM, the
    search resumes after the last address handed out, so a freed IP is not
    reused at once; the first search starts at ``start_offset``.
    """

    def __init__(self, state_file: Path):
        self.state_file = Path(state_file)
        self._lock = threading.Lock()
        self._by_uid: dict[str, str] = {}
        self._last = start_offset(self.state_file) - 1
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return
        self._by_uid = {str(k): str(v) for k, v in data.get("allocations", {}).items()}
        self._last = int(data.get("last", self._last))

    def _save(self) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"cidr": str(POD_CIDR), "last": self._last,
                                   "allocations": self._by_uid}, indent=1))
        os.replace(tmp, self.state_file)

    def ip_of(self, uid: str) -> str | None:
        return self._by_uid.get(uid)

    def allocate(self, uid: str) -> str:
        with self._lock:
            if uid in self._by_uid:
                return self._by_uid[uid]
            used = set(self._by_uid.values()) | addresses_in_use()
            size = POD_CIDR.num_addresses - 3  # usable offsets 2 .. num-2
            for step in range(size):
                offset = 2 + (self._last - 2 + 1 + step) % size
                ip = str(POD_CIDR.network_address + offset)
                if ip not in used:
                    self._by_uid[uid] = ip
                    self._last = offset
                    self._save()
                    return ip
            raise RuntimeError(f"pod CIDR {POD_CIDR} exhausted")

    def release(self, uid: str) -> None:
        with self._lock:
            if self._by_uid.pop(uid, None) is not None:
                self._save()

    def retain_only(self, uids: set[str]) -> None:
        """Release the IPs of pods that no longer exist (after a daemon restart)."""
        with self._lock:
            gone = [u for u in self._by_uid if u not in uids]
            for u in gone:
                del self._by_uid[u]
            if gone:
                self._save()

    def allocations(self) -> dict[str, str]:
        return dict(self._by_uid)
