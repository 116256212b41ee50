"""Pushes start runs: the lab's version of GitHub's ``on: push`` dispatch.

``on_push(home, event)`` takes the Git server's push event (``repository``,
``ref``, ``before``, ``after``), reads the workflows of the pushed commit,
and starts a run for each one whose ``on.push`` filters match. Every
cluster daemon receives the same webhook, so each (push, workflow) is
claimed once per home before a run is created.

``run(ctx)`` is the cluster daemon component (``gitopslab.ci.trigger:run``):
it subscribes to the daemon's Git webhook hub and runs each matching
workflow in a background process.
"""
from __future__ import annotations

import asyncio
import logging
import subprocess

from gitopslab.ci import filters, runner, workflow as workflowmod
from gitopslab.ci.store import RunStore
from gitopslab.home import Home

log = logging.getLogger(__name__)
REAP_SECONDS = 5.0


def matching_workflows(home: Home, repository: str, ref: str, before: str, after: str) -> list[str]:
    if not after or after == runner.ZERO_SHA:
        return []
    changed = runner.changed_files(home, repository, before, after)
    found = []
    for path in runner.workflow_files(home, repository, after):
        try:
            flow = workflowmod.parse(runner.read_workflow(home, repository, after, path), path)
        except workflowmod.WorkflowError:
            found.append(path)  # GitHub shows an invalid workflow as a failed run of the push
            continue
        if filters.push_triggers(flow.on, ref, changed):
            found.append(path)
    return found


def on_push(home: Home, event: dict, *, start: bool = True, time_scale: float | None = None) -> list[dict]:
    """Create (and start, unless ``start=False``) the runs a push triggers; returns their records."""
    repository, ref = event.get("repository", ""), event.get("ref", "")
    before, after = event.get("before", ""), event.get("after", "")
    try:
        paths = matching_workflows(home, repository, ref, before, after)
    except runner.RunError:
        return []
    store = RunStore(home)
    records = []
    for path in paths:
        if not store.claim(f"{repository}@{after}@{ref}@{path}"):
            continue
        record = runner.create_run(home, repository, path, ref=ref, sha=after, before=before)
        records.append(record)
        if start and record["status"] != "completed":
            _children.append(runner.spawn(home, record["id"], time_scale=time_scale))
    return records


_children: list[subprocess.Popen] = []


def reap() -> None:
    _children[:] = [p for p in _children if p.poll() is None]


async def run(ctx) -> None:
    """Cluster daemon component: start the workflows of every push the lab Git server reports."""
    hub = (ctx.extras or {}).get("git_webhooks")
    if hub is None:
        return
    queue = hub.subscribe()
    scale = getattr(ctx.clock, "scale", None)
    try:
        while True:
            try:
                payload = await asyncio.wait_for(queue.get(), REAP_SECONDS)
            except asyncio.TimeoutError:
                reap()
                continue
            if isinstance(payload, dict):
                try:
                    await asyncio.to_thread(on_push, ctx.home, payload, time_scale=scale)
                except Exception:  # noqa: BLE001 - one bad push never stops the trigger
                    log.exception("CI trigger failed for %s", payload.get("repository"))
            reap()
    finally:
        hub.unsubscribe(queue)
