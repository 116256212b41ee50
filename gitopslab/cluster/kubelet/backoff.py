"""Per-key exponential back-off, as client-go's ``flowcontrol.Backoff``.

The kubelet keeps one for container restarts (key: pod UID + container
name) and one for image pulls (key: pod UID + image): 10 s doubling to
300 s, forgotten after twice the maximum (10 min) without a new failure.
Times are lab seconds (see ``lab_now``) so messages keep real values while
the waiting follows the lab clock.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

INITIAL_BACKOFF = 10.0
MAX_BACKOFF = 300.0


def lab_now(scale: float) -> float:
    """A monotonic clock that advances ``scale`` lab seconds per real second."""
    return time.monotonic() * scale


@dataclass
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    def __init__(self, initial: float = INITIAL_BACKOFF, maximum: float = MAX_BACKOFF):
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, _Entry] = {}

    def _expired(self, event_time: float, entry: _Entry) -> bool:
        return event_time - entry.last_update > self.maximum * 2

    def next(self, key: str, event_time: float, now: float) -> None:
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            entry = _Entry(self.initial, now)
        else:
            entry = _Entry(min(entry.backoff * 2, self.maximum), now)
        self._entries[key] = entry

    def get(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def in_backoff_since(self, key: str, event_time: float, now: float) -> bool:
        """Crash back-off: still waiting ``backoff`` after ``event_time`` (the container's finish)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return now - event_time < entry.backoff

    def in_backoff_since_update(self, key: str, event_time: float) -> bool:
        """Pull back-off: still waiting ``backoff`` after the last failure."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return event_time - entry.last_update < entry.backoff

    def remaining_since(self, key: str, event_time: float, now: float) -> float:
        entry = self._entries.get(key)
        return max(0.0, event_time + entry.backoff - now) if entry else 0.0

    def remaining_since_update(self, key: str, now: float) -> float:
        entry = self._entries.get(key)
        return max(0.0, entry.last_update + entry.backoff - now) if entry else 0.0

    def forget(self, key_prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(key_prefix)]:
            del self._entries[key]
