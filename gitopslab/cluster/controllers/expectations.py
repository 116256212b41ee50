"""What a controller is waiting to see in its informer cache (``controller.UIDTrackingControllerExpectations``).

A controller that reads pods from a cache must not act on a cache that has
not yet caught up with its own writes: after creating 10 pods, a sync that
sees only 7 of them would create 3 more. So before creating ``n`` pods it
expects ``n`` additions, before deleting pods it expects their deletions,
and it manages replicas again only once the informer reported them all
(``satisfied``) or the expectations are older than five minutes (a watch
event can be lost: the controller must not wait forever).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

EXPECTATIONS_TIMEOUT_SECONDS = 300.0  # ExpectationsTimeout


@dataclass
class _Expected:
    adds: int
    deleting: set[str] = field(default_factory=set)
    since: float = 0.0


class Expectations:
    """Per controller key: creations still to observe, and the keys of pods whose deletion is awaited.

    ``timeout`` is in real seconds (the caller scales the lab's five minutes).
    """

    def __init__(self, timeout: float = EXPECTATIONS_TIMEOUT_SECONDS, now: Callable[[], float] = time.monotonic):
        self.timeout = timeout
        self.now = now
        self._by_key: dict[str, _Expected] = {}

    def satisfied(self, key: str) -> bool:
        """True when the cache can be trusted for ``key``: nothing awaited, or waited too long."""
        exp = self._by_key.get(key)
        if exp is None:
            return True
        return (exp.adds <= 0 and not exp.deleting) or self.now() - exp.since > self.timeout

    def expect_creations(self, key: str, n: int) -> None:
        self._by_key[key] = _Expected(n, set(), self.now())

    def expect_deletions(self, key: str, pod_keys: list[str]) -> None:
        self._by_key[key] = _Expected(0, set(pod_keys), self.now())

    def creation_observed(self, key: str) -> None:
        exp = self._by_key.get(key)
        if exp is not None:
            exp.adds -= 1

    def deletion_observed(self, key: str, pod_key: str) -> None:
        exp = self._by_key.get(key)
        if exp is not None:
            exp.deleting.discard(pod_key)

    def forget(self, key: str) -> None:
        """The controller object is gone: nothing is awaited for it any more."""
        self._by_key.pop(key, None)
