"""Pushes start runs: the lab's version of GitHub's ``on: push`` dispatch.

``on_push(home, event)`` takes the Git server's push event (``repository``,
``ref``, ``before``, ``after``), reads the workflows of the pushed commit,
and starts a run for each one whose ``on.push`` filters match. Every
cluster daemon receives the same webhook, so each (push, workflow) is
claimed once per home before a run is created.

``run(ctx)`` is the cluster daemon component (``gitopslab.ci.trigger:run``):
it subscribes to the daemon's Git webhook hub and runs each matching
workflow in a background process. It also watches the bare repositories'
refs (a stat of ``refs/`` and ``packed-refs`` every few seconds, ``git
for-each-ref`` only when they changed), so pushes start runs even when a
webhook delivery is lost; the claim makes both paths start a run once.
"""
from __future__ import annotations

import asyncio
import logging
import os
import subprocess

from gitopslab.ci import filters, runner, workflow as workflowmod
from gitopslab.ci.store import RunStore
from gitopslab.home import Home

log = logging.getLogger(__name__)
REAP_SECONDS = 5.0
POLL_SECONDS = 2.0


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
        if not store.claim(_claim_key(repository, ref, after, path)):
            continue
        record = runner.create_run(home, repository, path, ref=ref, sha=after, before=before)
        records.append(record)
        if start and record["status"] != "completed":
            _children.append(runner.spawn(home, record["id"], time_scale=time_scale))
    return records


def mark_as_past(home: Home, repository: str, ref: str, sha: str) -> None:
    """Pushes of ``sha`` to ``ref`` start no run: the course's seeded history, which on GitHub
    was pushed long before the learner forked it."""
    store = RunStore(home)
    for path in runner.workflow_files(home, repository, sha):
        store.claim(_claim_key(repository, ref, sha, path))


def _claim_key(repository: str, ref: str, sha: str, path: str) -> str:
    return f"{repository}@{sha}@{ref}@{path}"


_children: list[subprocess.Popen] = []


def reap() -> None:
    _children[:] = [p for p in _children if p.poll() is None]


def _signature(repos: list) -> tuple:
    stamps = []
    for info in repos:
        for sub in ("refs", "packed-refs"):
            path = info.path / sub
            if path.is_dir():
                for root, _, files in os.walk(path):
                    stamps += [os.stat(os.path.join(root, f)).st_mtime_ns for f in files]
                    stamps.append(os.stat(root).st_mtime_ns)
            elif path.exists():
                stamps.append(path.stat().st_mtime_ns)
    return (len(repos), tuple(sorted(stamps)))


def ref_snapshot(home: Home) -> tuple[tuple, dict[tuple[str, str], str]]:
    """(signature, {(repository, ref): sha}) of every branch and tag of the lab Git server."""
    from gitopslab.gitserver.repos import RepoStore

    repos = RepoStore(home).list()
    refs = {}
    for info in repos:
        out = subprocess.run(["git", "--git-dir", str(info.path), "for-each-ref", "--format=%(objectname) %(refname)",
                              "refs/heads", "refs/tags"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            sha, _, ref = line.partition(" ")
            refs[(info.full_name, ref)] = sha
    return _signature(repos), refs


def changed_refs(before: dict, after: dict) -> list[dict]:
    """Push events for refs created or moved between two snapshots (pure)."""
    return [{"repository": repo, "ref": ref, "before": before.get((repo, ref), runner.ZERO_SHA), "after": sha}
            for (repo, ref), sha in sorted(after.items()) if before.get((repo, ref)) != sha]


async def _poll(home: Home, scale: float | None) -> None:
    from gitopslab.gitserver.repos import RepoStore

    signature, seen = await asyncio.to_thread(ref_snapshot, home)
    while True:
        await asyncio.sleep(POLL_SECONDS)
        current = await asyncio.to_thread(lambda: _signature(RepoStore(home).list()))
        if current == signature:
            continue
        signature, refs = await asyncio.to_thread(ref_snapshot, home)
        for event in changed_refs(seen, refs):
            try:
                await asyncio.to_thread(on_push, home, event, time_scale=scale)
            except Exception:  # noqa: BLE001 - one bad push never stops the trigger
                log.exception("CI trigger failed for %s", event["repository"])
        seen = refs
        reap()


async def run(ctx) -> None:
    """Cluster daemon component: start the workflows of every push (webhook, or a moved ref)."""
    scale = getattr(ctx.clock, "scale", None)
    poller = asyncio.create_task(_poll(ctx.home, scale))
    try:
        await _listen(ctx, scale)
        await poller
    finally:
        poller.cancel()


async def _listen(ctx, scale: float | None) -> None:
    hub = (ctx.extras or {}).get("git_webhooks")
    if hub is None:
        return
    queue = hub.subscribe()
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
