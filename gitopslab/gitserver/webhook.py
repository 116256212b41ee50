"""Push notifications: what a GitHub webhook does, for the lab.

After a successful push, the Git server POSTs, for each updated ref, the JSON
``{"repository": "OWNER/REPO", "url": "<lab url>", "github_url":
"https://github.com/OWNER/REPO", "ref": "refs/heads/main", "before": sha,
"after": sha}`` to every cluster daemon of the home, at
``https://127.0.0.1:<port>/gitopslab/v1/webhooks/git`` (trusting the cluster's own CA) with
``Authorization: Bearer <token>``. A cluster that is down is skipped:
failures are ignored. Creations and deletions use GitHub's all-zero SHA.

In-process subscribers (``subscribe``) get the same events, which is what
tests and an in-process server use.
"""
from __future__ import annotations

import json
import ssl
import threading
import urllib.request
from dataclasses import asdict, dataclass
from typing import Callable

from gitopslab.home import Home

WEBHOOK_PATH = "/gitopslab/v1/webhooks/git"
ZERO_SHA = "0" * 40
DELIVERY_TIMEOUT = 2.0

# Cluster daemons listen on loopback: never route deliveries through a proxy.


@dataclass(frozen=True)
class PushEvent:
    repository: str
    url: str
    github_url: str
    ref: str
    before: str
    after: str

    def payload(self) -> bytes:
        return json.dumps(asdict(self)).encode()


Subscriber = Callable[[PushEvent], None]
_subscribers: list[Subscriber] = []
_lock = threading.Lock()


def subscribe(callback: Subscriber) -> Callable[[], None]:
    """Call ``callback(event)`` on every push served by this process; returns an unsubscribe function."""
    with _lock:
        _subscribers.append(callback)

    def unsubscribe() -> None:
        with _lock:
            if callback in _subscribers:
                _subscribers.remove(callback)

    return unsubscribe


def parse_push_record(text: str) -> list[tuple[str, str, str]]:
    """Lines ``<before> <after> <ref>`` as a post-receive hook reads them on stdin."""
    updates = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            before, after, ref = parts
            updates.append((before, after, ref))
    return updates


def cluster_endpoints(home: Home) -> list[tuple[str, str, ssl.SSLContext | None]]:
    """(url, token, TLS context trusting its CA) of every cluster daemon that wrote its port and token."""
    from gitopslab.cluster import lifecycle, tls

    endpoints = []
    for name in home.cluster_names():
        cluster = home.cluster(name)
        base, token = lifecycle.server_url(cluster), cluster.read_token()
        if base and token:
            pem = tls.ca_pem(cluster)
            endpoints.append((base + WEBHOOK_PATH, token, tls.client_context(pem) if pem else None))
    return endpoints


def deliver(home: Home, events: list[PushEvent], *, timeout: float = DELIVERY_TIMEOUT) -> None:
    """Notify subscribers and every cluster daemon; returns when all deliveries ended."""
    if not events:
        return
    with _lock:
        subscribers = list(_subscribers)
    for event in events:
        for callback in subscribers:
            try:
                callback(event)
            except Exception:  # a subscriber's bug must not fail the push
                pass
    threads = [threading.Thread(target=_post, args=(url, token, context, event, timeout), daemon=True)
               for url, token, context in cluster_endpoints(home) for event in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)


def _post(url: str, token: str, context: ssl.SSLContext | None, event: PushEvent, timeout: float) -> None:
    request = urllib.request.Request(url, data=event.payload(), method="POST", headers={
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
        "X-GitHub-Event": "push",
        "User-Agent": "GitHub-Hookshot/gitopslab",
    })
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=context))
        with opener.open(request, timeout=timeout) as response:
            response.read()
    except Exception:  # the cluster may be down or busy; GitHub does not retry either
        pass
