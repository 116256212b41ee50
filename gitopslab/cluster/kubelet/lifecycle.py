"""Container lifecycle hooks (``lifecycle.postStart`` / ``lifecycle.preStop``): running one handler.

As the kubelet's ``lifecycle/handlers.go``: ``exec`` runs the command in the
container (the runtime's exec, no timeout of its own), ``httpGet`` sends one
request (User-Agent ``kube-lifecycle/1.32``; any response is a success, only
a failed request is an error), ``sleep`` waits (PodLifecycleSleepAction, on
by default in 1.32). A failure returns the handler's message, worded as the
kubelet words it; the caller decides what it means (a PostStartHookError
waiting message, or only a FailedPreStopHook event without it).
"""
from __future__ import annotations

import asyncio

from gitopslab.cluster.kubelet import messages as M
from gitopslab.cluster.kubelet.probes import http_probe, resolve_port

USER_AGENT = "kube-lifecycle/1.32"


async def run_handler(handler: dict, container_spec: dict, container, pod_ip: str, pod: str, clock) -> str | None:
    """Run one hook handler against a started container; None on success, else the kubelet's message.

    ``container`` is the runtime's Container, ``pod`` the pod as ``format.Pod`` prints it.
    """
    name = container_spec.get("name", "")
    if handler.get("exec"):
        command = list(handler["exec"].get("command") or [])
        try:
            code, output = await container.exec(command, None)
        except Exception as e:  # noqa: BLE001 - the container went away under the exec
            return M.exec_hook_failed(command, name, pod, str(e) or type(e).__name__, "")
        if code != 0:
            return M.exec_hook_failed(command, name, pod, M.exec_exited(command, code), output)
        return None
    if handler.get("httpGet"):
        action = handler["httpGet"]
        path = action.get("path") or ""
        port = resolve_port(action.get("port"), container_spec)
        if port is None:
            return M.http_hook_failed(path, name, pod, f"couldn't find port: {action.get('port')} in {name}")
        result = await http_probe(action.get("host") or pod_ip, port, path, None, action.get("scheme") or "HTTP",
                                  action.get("httpHeaders"), user_agent=USER_AGENT)
        return M.http_hook_failed(path, name, pod, result.output) if result.status is None else None
    if handler.get("sleep"):
        await clock.sleep(float(handler["sleep"].get("seconds") or 0))
        return None
    return f"Cannot run handler: invalid handler: {handler}"


async def run_pre_stop(handler: dict, container_spec: dict, container, pod_ip: str, pod: str, clock,
                       grace_seconds: float) -> tuple[float, asyncio.Task]:
    """Start the preStop handler and wait for it at most ``grace_seconds`` (lab seconds).

    Returns the lab seconds it took, truncated to whole seconds as the kubelet
    subtracts them from the grace period, and the handler's task (still
    running when the grace ran out).
    """
    loop = asyncio.get_running_loop()
    began = loop.time()
    task = asyncio.create_task(run_handler(handler, container_spec, container, pod_ip, pod, clock))
    await asyncio.wait({task}, timeout=clock.delay(grace_seconds))
    return float(int((loop.time() - began) * clock.scale)), task
