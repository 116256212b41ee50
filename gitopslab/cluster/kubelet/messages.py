"""The kubelet's words: event reasons and messages as Kubernetes 1.32 prints them.

Pure functions; the sources are kubelet/events/event.go,
kuberuntime_container.go, images/image_manager.go and prober/prober.go.
"""
from __future__ import annotations

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


def field_path(container: str, init: bool = False) -> str:
    return f"spec.{'initContainers' if init else 'containers'}{{{container}}}"
