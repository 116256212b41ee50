"""The kubelet's words: event reasons and messages as Kubernetes 1.32 prints them.

Pure functions; the sources are kubelet/events/event.go,
kuberuntime_container.go, images/image_manager.go, prober/prober.go and
lifecycle/handlers.go.
"""
from __future__ import annotations

from gitopslab.cluster.admission.fields import go_quote

# event reasons (pkg/kubelet/events/event.go)
CREATED = "Created"
STARTED = "Started"
FAILED = "Failed"
KILLING = "Killing"
BACKOFF = "BackOff"
PULLING = "Pulling"
PULLED = "Pulled"
UNHEALTHY = "Unhealthy"
FAILED_MOUNT = "FailedMount"
INSPECT_FAILED = "InspectFailed"
PROBE_WARNING = "ProbeWarning"
FAILED_POST_START_HOOK = "FailedPostStartHook"
FAILED_PRE_STOP_HOOK = "FailedPreStopHook"

# hook failures: the event carries no detail ("so that secrets won't leak from the server"),
# the PostStartHookError waiting message does (the handler's message)
POST_START_HOOK_FAILED = "PostStartHook failed"
PRE_STOP_HOOK_FAILED = "PreStopHook failed"

# container waiting/terminated reasons
CONTAINER_CREATING = "ContainerCreating"
POD_INITIALIZING = "PodInitializing"
ERR_IMAGE_PULL = "ErrImagePull"
IMAGE_PULL_BACKOFF = "ImagePullBackOff"
CRASH_LOOP_BACKOFF = "CrashLoopBackOff"
CREATE_CONFIG_ERROR = "CreateContainerConfigError"
INVALID_IMAGE_NAME = "InvalidImageName"
RUN_CONTAINER_ERROR = "RunContainerError"
COMPLETED = "Completed"
ERROR = "Error"
OOM_KILLED = "OOMKilled"
POST_START_HOOK_ERROR = "PostStartHookError"


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()``: 10s, 1m20s, 5m0s, 1.286s, 500ms, 0s."""
    if seconds == 0:
        return "0s"
    neg = seconds < 0
    seconds = abs(seconds)
    if seconds < 1:
        ms = seconds * 1000
        if ms >= 1:
            text = f"{ms:.6f}".rstrip("0").rstrip(".") + "ms"
        else:
            text = f"{seconds * 1e6:.3f}".rstrip("0").rstrip(".") + "µs"
        return ("-" if neg else "") + text
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    sec_text = f"{secs:.9f}".rstrip("0").rstrip(".")
    if hours:
        text = f"{int(hours)}h{int(minutes)}m{sec_text}s"
    elif minutes:
        text = f"{int(minutes)}m{sec_text}s"
    else:
        text = f"{sec_text}s"
    return ("-" if neg else "") + text


def truncate_ms(seconds: float) -> float:
    return int(seconds * 1000) / 1000


def format_pod(name: str, namespace: str, uid: str) -> str:
    """kubelet's ``format.Pod``: ``name_namespace(uid)``."""
    return f"{name}_{namespace}({uid})"


def pulling(image: str) -> str:
    return f'Pulling image "{image}"'


def pulled(image: str, pull_seconds: float, total_seconds: float, size: int) -> str:
    return (f'Successfully pulled image "{image}" in {go_duration(truncate_ms(pull_seconds))} '
            f'({go_duration(truncate_ms(total_seconds))} including waiting). Image size: {size} bytes.')


def already_present(image: str) -> str:
    return f'Container image "{image}" already present on machine'


def failed_to_pull(image: str, err: str) -> str:
    return f'Failed to pull image "{image}": {err}'


def backoff_pulling(image: str) -> str:
    return f'Back-off pulling image "{image}"'


def error_event(reason_or_message: str) -> str:
    return f"Error: {reason_or_message}"


def created(container: str) -> str:
    return f"Created container: {container}"


def started(container: str) -> str:
    return f"Started container {container}"


def stopping(container: str) -> str:
    return f"Stopping container {container}"


def failed_probe_restart(container: str, probe_type: str) -> str:
    """``probe_type`` is "liveness" or "startup"."""
    return f"Container {container} failed {probe_type} probe, will be restarted"


def backoff_restart_event(container: str, pod: str) -> str:
    return f"Back-off restarting failed container {container} in pod {pod}"


def crash_loop_message(backoff_seconds: float, container: str, pod: str) -> str:
    return f"back-off {go_duration(backoff_seconds)} restarting failed container={container} pod={pod}"


def probe_failed(probe_type: str, output: str) -> str:
    """``probe_type`` is "Liveness", "Readiness" or "Startup"."""
    return f"{probe_type} probe failed: {output}"


def probe_errored(probe_type: str, err: str) -> str:
    return f"{probe_type} probe errored: {err}"


def go_string_slice(items: list[str]) -> str:
    """Go's ``%v`` of a ``[]string``: ``[sh -c exit 1]``."""
    return "[" + " ".join(items) + "]"


def exec_exited(command: list[str], code: int, stderr: str = "") -> str:
    """The CRI's ExecSync error for a non-zero exit (remote runtime service)."""
    return f"command '{' '.join(command)}' exited with {code}: {stderr}"


def exec_hook_failed(command: list[str], container: str, pod: str, err: str, output: str) -> str:
    return (f"Exec lifecycle hook ({go_string_slice(command)}) for Container {go_quote(container)} in Pod "
            f"{go_quote(pod)} failed - error: {err}, message: {go_quote(output)}")


def http_hook_failed(path: str, container: str, pod: str, err: str) -> str:
    return (f"HTTP lifecycle hook ({path}) for Container {go_quote(container)} in Pod {go_quote(pod)} "
            f"failed - error: {err}")


def sleep_hook_failed(seconds: int, container: str, pod: str, err: str) -> str:
    return (f"Sleep lifecycle hook ({seconds}) for Container {go_quote(container)} in Pod {go_quote(pod)} "
            f"failed - error: {err}")


def field_path(container: str, init: bool = False) -> str:
    return f"spec.{'initContainers' if init else 'containers'}{{{container}}}"
