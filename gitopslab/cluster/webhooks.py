"""In-process pub/sub for the lab's ``POST /gitopslab/v1/webhooks/git`` endpoint.

The daemon puts one ``WebhookHub`` in ``ctx.extras["git_webhooks"]``; the
Argo CD controller subscribes and receives each JSON payload (a GitHub-style
push event) as it arrives.
"""
from __future__ import annotations

import asyncio


class WebhookHub:
    def __init__(self, backlog: int = 1000):
        self._queues: set[asyncio.Queue] = set()
        self._backlog = backlog

    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=self._backlog)
        self._queues.add(q)
        return q

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._queues.discard(queue)

    def publish(self, payload, headers: dict | None = None) -> int:
        """Hand ``payload`` to every subscriber; returns how many got it."""
        delivered = 0
        for q in list(self._queues):
            try:
                q.put_nowait(payload)
                delivered += 1
            except asyncio.QueueFull:
                pass
        return delivered

    @property
    def subscribers(self) -> int:
        return len(self._queues)
