"""``pods/log``: which container run's file to read, with the kubelet's
wording when there is none, and the streaming handler.

``resolve_log`` is shared by the HTTP handler and ``InProcessClient.read_log``.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiohttp import web

from gitopslab.cluster import errors as E
from gitopslab.cluster import podlogs
from gitopslab.cluster.registry import Registry
from gitopslab.home import ClusterPaths


@dataclass
class LogTarget:
    path: Path
    container: str
    pod_uid: str


def _statuses(pod: dict) -> dict[str, dict]:
    status = pod.get("status") or {}
    out = {}
    for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or []:
            out[cs.get("name")] = cs
    return out


def choose_container(pod: dict, container: str | None) -> str:
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    containers = [c.get("name") for c in spec.get("containers") or []]
    inits = [c.get("name") for c in spec.get("initContainers") or []]
    ephemeral = [c.get("name") for c in spec.get("ephemeralContainers") or []]
    if container:
        if container not in containers + inits + ephemeral:
            raise E.bad_request(f"container {container} is not valid for pod {name}")
        return container
    if len(containers) == 1:
        return containers[0]
    msg = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
    if inits:
        msg += f" or one of the init containers: [{' '.join(inits)}]"
    raise E.bad_request(msg)


def resolve_log(paths: ClusterPaths, pod: dict, container: str | None, previous: bool) -> LogTarget:
    """The file holding the requested run of ``container``, or the kubelet's 400."""
    meta = pod["metadata"]
    name, uid = meta["name"], meta.get("uid", "")
    cname = choose_container(pod, container)
    cs = _statuses(pod).get(cname)
    if cs is None:
        raise E.bad_request(f'container "{cname}" in pod "{name}" is waiting to start: ContainerCreating')
    state, last = cs.get("state") or {}, cs.get("lastState") or {}
    restarts = int(cs.get("restartCount") or 0)
    run = restarts
    if previous:
        if not (last.get("terminated") or {}).get("containerID"):
            raise E.bad_request(f'previous terminated container "{cname}" in pod "{name}" not found')
        run = restarts - 1
    elif state.get("running"):
        pass
    elif state.get("terminated"):
        if not state["terminated"].get("containerID") and not (last.get("terminated") or {}).get("containerID"):
            raise E.bad_request(f'container "{cname}" in pod "{name}" is terminated')
    elif last.get("terminated"):
        if not last["terminated"].get("containerID"):
            raise E.bad_request(f'container "{cname}" in pod "{name}" is terminated')
    elif state.get("waiting") is not None:
        reason = (state.get("waiting") or {}).get("reason") or "ContainerCreating"
        if reason == "ErrImagePull":
            raise E.bad_request(f'container "{cname}" in pod "{name}" is waiting to start: image can\'t be pulled')
        if reason == "ImagePullBackOff":
            raise E.bad_request(f'container "{cname}" in pod "{name}" is waiting to start: '
                                "trying and failing to pull image")
        raise E.bad_request(f'container "{cname}" in pod "{name}" is waiting to start: {reason}')
    else:
        raise E.bad_request(f'container "{cname}" in pod "{name}" is waiting to start - no logs yet')
    path = podlogs.log_path(paths, meta.get("namespace", ""), name, uid, cname, max(run, 0))
    return LogTarget(path, cname, uid)


def container_running(pod: dict | None, container: str, uid: str) -> bool:
    if pod is None or pod["metadata"].get("uid") != uid:
        return False
    cs = _statuses(pod).get(container) or {}
    return bool((cs.get("state") or {}).get("running"))


def since_from(since_seconds: int | None, since_time: str | None) -> datetime | None:
    if since_seconds is not None:
        return datetime.now(timezone.utc) - timedelta(seconds=since_seconds)
    if since_time:
        try:
            return datetime.fromisoformat(since_time.replace("Z", "+00:00"))
        except ValueError:
            raise E.bad_request(f'parsing time "{since_time}" as "2006-01-02T15:04:05Z07:00": cannot parse') from None
    return None


def _int_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise E.bad_request(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


def _flag(request: web.Request, name: str) -> bool:
    return (request.query.get(name) or "").lower() in ("true", "1")


async def handle(registry: Registry, paths: ClusterPaths, request: web.Request, namespace: str, name: str):
    res = registry.kinds.lookup("", "v1", "pods")
    pod = registry.get(res, namespace, name)
    previous = _flag(request, "previous")
    target = resolve_log(paths, pod, request.query.get("container"), previous)
    tail = _int_param(request, "tailLines")
    limit = _int_param(request, "limitBytes")
    for label, value in (("tailLines", tail), ("limitBytes", limit)):
        if value is not None and value < 0 or (label == "limitBytes" and value == 0):
            raise E.invalid("", "PodLogOptions", "", [E.Cause("FieldValueInvalid", f"Invalid value: {value}: "
                            "must be greater than 0" if label == "limitBytes" else
                            f"Invalid value: {value}: must be greater than or equal to 0", label)])
    since = since_from(_int_param(request, "sinceSeconds"), request.query.get("sinceTime"))
    timestamps = _flag(request, "timestamps")
    text, offset = podlogs.read_log_with_offset(target.path, tail_lines=tail, timestamps=timestamps,
                                                since=since, limit_bytes=limit)
    if not _flag(request, "follow") or previous:
        return web.Response(text=text, content_type="text/plain")
    resp = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    if text:
        await resp.write(text.encode())
    sent = len(text.encode())
    if limit is not None and sent >= limit:
        return resp

    async def still_running() -> bool:
        entry = registry.store.get(res.storage_key, namespace, name)
        return container_running(entry.obj if entry else None, target.container, target.pod_uid)

    try:
        async for chunk in podlogs.follow_log(target.path, offset, timestamps=timestamps, still_running=still_running,
                                              limit_bytes=None if limit is None else limit - sent):
            await resp.write(chunk.encode())
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    return resp
