"""One pod on the node: sandbox, volumes, init containers, containers, probes, termination.

A ``PodWorker`` is the kubelet's per-pod loop. It keeps the container
statuses (dicts exactly as served), drives each container through pull,
config, create and start, restarts it per ``restartPolicy`` with the crash
back-off, runs its probes, and writes the pod status through the API.
Deleting the pod stops the containers (preStop hook, SIGTERM, then SIGKILL
after the grace period) and then removes the pod with ``gracePeriodSeconds=0``.
A container's postStart hook runs after its start; it is shown running once
the hook has succeeded, and killed and restarted when it fails. Every pod
resync (``RESYNC_SECONDS`` plus jitter, lab clock) writes its ConfigMap,
Secret, downwardAPI and projected volumes again: files whose source changed
are updated in place (``volumes.write_atomically``), subPath mounts are not.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import shutil
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from gitopslab.cluster import podlogs
from gitopslab.cluster.controllers import quantity
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.kubelet import messages as M
from gitopslab.cluster.kubelet.backoff import lab_now
from gitopslab.cluster.kubelet.envvars import ConfigError, PodFacts, build_env, referenced_objects
from gitopslab.cluster.kubelet.images import (InvalidImageName, PullError, default_pull_policy, image_id,
                                              normalized)
from gitopslab.cluster.kubelet.lifecycle import run_handler, run_pre_stop
from gitopslab.cluster.kubelet.probes import next_tick, probe_settings, run_probe
from gitopslab.cluster.kubelet.status import pod_conditions, pod_phase, qos_class
from gitopslab.cluster.kubelet.volumes import MountError, container_mounts, setup_volume
from gitopslab.cluster.runtime import ContainerConfig, Exit, StartError, create_container

if TYPE_CHECKING:
    from gitopslab.cluster.kubelet import Kubelet

log = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 30
CONFIG_RETRY_SECONDS = 10     # a CreateContainerConfigError is retried on the next pod sync
ERR_IMAGE_PULL_SHOWN_SECONDS = 2
MOUNT_RETRY_INITIAL = 0.5     # volume operations: exponential back-off 0.5 s .. 2m2s
MOUNT_RETRY_MAX = 122.0
# Real seconds from the deletion to the final delete at the least, as a real kubelet takes:
# sooner, `kubectl delete --wait` can miss the DELETED event of a pod recreated under its name.
MIN_TEARDOWN_SECONDS = 1.0
# a pod is synced again every --sync-frequency (1m) plus up to half of it (workerResyncIntervalJitterFactor)
RESYNC_SECONDS = 60.0
RESYNC_JITTER = 0.5
RESYNCED_VOLUMES = ("configMap", "secret", "downwardAPI", "projected")
MINIMUM_GRACE_SECONDS = 2.0   # minimumGracePeriodInSeconds: what is left to the container after a long preStop


def now_str() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def should_restart(policy: str, exit_code: int) -> bool:
    return policy == "Always" or (policy == "OnFailure" and exit_code != 0)


def memory_limit(container: dict) -> int | None:
    """``resources.limits.memory`` in bytes, the container cgroup's ``memory.max`` (None: unlimited)."""
    limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
    if limit is None:
        return None
    try:
        return quantity.value(limit)
    except ValueError:
        return None


class ContainerRun:
    """A running container and what its probes found."""

    def __init__(self, container, spec: dict, init: bool = False):
        self.container = container
        self.spec = spec
        self.init = init
        self.started = False
        self.ready = False
        self.started_at = 0.0          # time.monotonic() of the start
        self.kill_reason: str | None = None
        self.probe_tasks: list[asyncio.Task] = []

    def cancel_probes(self) -> None:
        for t in self.probe_tasks:
            t.cancel()


class PodWorker:
    def __init__(self, kubelet: "Kubelet", pod: dict):
        self.k = kubelet
        self.pod = pod
        meta = pod["metadata"]
        self.uid = meta["uid"]
        self.name = meta["name"]
        self.namespace = meta["namespace"]
        self.pod_dir = podlogs.pod_dir(kubelet.ctx.paths, self.namespace, self.name, self.uid)
        self.statuses: dict[str, dict] = {}
        self.init_statuses: dict[str, dict] = {}
        self.finished_at: dict[str, float] = {}     # lab time of each container's last exit
        self.runs: dict[str, ContainerRun] = {}
        self.prev_pull_error: dict[str, str] = {}
        self.volume_paths = {}
        self.pod_ip: str | None = None
        self.start_time: str | None = None
        self.sandbox_ready = False
        self.terminal = False
        self.conditions: list[dict] = list((pod.get("status") or {}).get("conditions") or [])
        self.probe_ticker_start = time.monotonic()  # the probe workers start with the pod's first sync
        self._dirty = asyncio.Event()
        self._deleting = asyncio.Event()
        self._gone = False
        self.task: asyncio.Task | None = None
        self._lifecycle: asyncio.Task | None = None
        self._volume_resync: asyncio.Task | None = None
        self._adopt_previous_status()

    # --- wiring ---------------------------------------------------------------
    @property
    def spec(self) -> dict:
        return self.pod.get("spec") or {}

    @property
    def formatted(self) -> str:
        return M.format_pod(self.name, self.namespace, self.uid)

    def start(self) -> None:
        self.task = asyncio.create_task(self.main(), name=f"pod {self.namespace}/{self.name}")

    def update(self, pod: dict) -> None:
        self.pod = pod
        if pod["metadata"].get("deletionTimestamp"):
            self._deleting.set()

    def removed(self) -> None:
        """The pod object is gone (force deletion): stop everything at once."""
        self._gone = True
        self.pod.setdefault("metadata", {})["deletionGracePeriodSeconds"] = 0
        self._deleting.set()

    def dirty(self) -> None:
        self._dirty.set()

    async def event(self, type_: str, reason: str, message: str, container: str | None = None,
                    init: bool = False) -> None:
        fp = M.field_path(container, init) if container else None
        await self.k.recorder.event(self.pod, type_, reason, message, field_path=fp)

    def _adopt_previous_status(self) -> None:
        """After a daemon restart: containers that were running are gone (exit 255, Unknown)."""
        status = self.pod.get("status") or {}
        for key, table in (("initContainerStatuses", self.init_statuses), ("containerStatuses", self.statuses)):
            for st in status.get(key) or []:
                st = dict(st)
                state = st.get("state") or {}
                if "running" in state:
                    st["state"] = {"terminated": {"exitCode": 255, "reason": "Unknown",
                                                  "startedAt": state["running"].get("startedAt"),
                                                  "finishedAt": now_str(), "containerID": st.get("containerID")}}
                    st["ready"] = False
                    st["started"] = False
                if "terminated" in (st.get("state") or {}) or (st.get("lastState") or {}).get("terminated"):
                    self.finished_at[st["name"]] = lab_now(self.k.clock.scale) - 3600
                table[st["name"]] = st
        if status.get("startTime"):
            self.start_time = status["startTime"]

    # --- status ---------------------------------------------------------------
    def _blank_status(self, c: dict, waiting_reason: str) -> dict:
        try:
            image = normalized(c.get("image", ""))
        except InvalidImageName:
            image = c.get("image", "")
        return {"name": c["name"], "state": {"waiting": {"reason": waiting_reason}}, "lastState": {},
                "ready": False, "restartCount": 0, "image": image, "imageID": "", "started": False,
                "volumeMounts": [{"name": vm.get("name"), "mountPath": vm.get("mountPath"),
                                  **({"readOnly": True, "recursiveReadOnly": "Disabled"} if vm.get("readOnly") else {})}
                                 for vm in c.get("volumeMounts") or []]}

    def _ensure_statuses(self) -> None:
        has_init = bool(self.spec.get("initContainers"))
        for c in self.spec.get("initContainers") or []:
            self.init_statuses.setdefault(c["name"], self._blank_status(c, M.POD_INITIALIZING))
        for c in self.spec.get("containers") or []:
            self.statuses.setdefault(c["name"], self._blank_status(c, M.POD_INITIALIZING if has_init else M.CONTAINER_CREATING))

    def build_status(self) -> dict:
        spec = self.spec
        inits = [self.init_statuses[c["name"]] for c in spec.get("initContainers") or [] if c["name"] in self.init_statuses]
        mains = [self.statuses[c["name"]] for c in spec.get("containers") or [] if c["name"] in self.statuses]
        phase = pod_phase(spec, inits, mains, self.terminal)
        scheduled = [c for c in (self.pod.get("status") or {}).get("conditions") or [] if c.get("type") == "PodScheduled"]
        previous = [c for c in self.conditions if c.get("type") != "PodScheduled"] + scheduled
        self.conditions = pod_conditions(spec, inits, mains, phase, self.sandbox_ready, previous, now_str())
        status = {"phase": phase, "conditions": self.conditions, "hostIP": self.k.host_ip,
                  "hostIPs": [{"ip": self.k.host_ip}], "startTime": self.start_time,
                  "qosClass": qos_class(spec), "containerStatuses": mains}
        if self.pod_ip:
            status["podIP"] = self.pod_ip
            status["podIPs"] = [{"ip": self.pod_ip}]
        if inits:
            status["initContainerStatuses"] = inits
        return status

    async def _status_writer(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            await self.flush_status()
            await asyncio.sleep(0.02)  # coalesce bursts of changes into one write

    async def flush_status(self) -> None:
        if self._gone:
            return
        status = self.build_status()
        try:
            updated = await self.k.client.patch("v1", "Pod", self.name, {"status": status}, self.namespace,
                                                patch_type="merge", subresource="status")
            if updated.get("metadata", {}).get("uid") == self.uid:
                self.pod = {**updated, "metadata": {**updated["metadata"],
                                                    **{k: v for k, v in self.pod["metadata"].items()
                                                       if k in ("deletionTimestamp", "deletionGracePeriodSeconds")}}}
        except ApiError as e:
            if e.code == 404:
                self._gone = True
            else:
                log.warning("status of pod %s/%s: %s", self.namespace, self.name, e)
        except Exception:  # noqa: BLE001 - keep the pod running; the next change retries
            log.exception("status of pod %s/%s", self.namespace, self.name)

    def _set_waiting(self, table: dict, name: str, reason: str, message: str | None = None) -> None:
        st = table[name]
        waiting = {"reason": reason}
        if message:
            waiting["message"] = message
        st["state"] = {"waiting": waiting}
        st["ready"] = False
        st["started"] = False
        self.dirty()

    # --- main loop ------------------------------------------------------------
    async def main(self) -> None:
        writer = asyncio.create_task(self._status_writer())
        try:
            self._lifecycle = asyncio.create_task(self._run_lifecycle())
            deleting = asyncio.create_task(self._deleting.wait())
            await asyncio.wait({self._lifecycle, deleting}, return_when=asyncio.FIRST_COMPLETED)
            if not self._deleting.is_set():
                with contextlib.suppress(Exception):
                    self._lifecycle.result()
                await self._deleting.wait()  # a terminal pod stays until it is deleted
            deleting.cancel()
            await self._terminate()
        finally:
            writer.cancel()
            if self._lifecycle is not None:
                self._lifecycle.cancel()
            self._stop_volume_resync()
            await self._kill_all_now()

    async def _run_lifecycle(self) -> None:
        self._ensure_statuses()
        self.pod_ip = self.k.network.allocate(self.uid)
        self.start_time = self.start_time or now_str()
        self.pod_dir.mkdir(parents=True, exist_ok=True)
        self.sandbox_ready = True
        self.dirty()
        await self._mount_volumes()
        self._volume_resync = asyncio.create_task(self._resync_volumes())
        if not await self._run_init_containers():
            self.terminal = True
            self.sandbox_ready = False
            self.dirty()
            return
        names = [c["name"] for c in self.spec.get("containers") or []]
        for c in self.spec.get("containers") or []:
            st = self.statuses[c["name"]]
            if (st.get("state") or {}).get("waiting", {}).get("reason") == M.POD_INITIALIZING:
                self._set_waiting(self.statuses, c["name"], M.CONTAINER_CREATING)
        await asyncio.gather(*(self._supervise(name) for name in names))
        # every container is done for good: the pod is terminal
        self.terminal = True
        self.sandbox_ready = False
        self.dirty()

    async def _mount_volumes(self) -> None:
        delay = MOUNT_RETRY_INITIAL
        facts = PodFacts(pod_ip=self.pod_ip or "", host_ip=self.k.host_ip)
        pending = list(self.spec.get("volumes") or [])
        while pending:
            failed = []
            for vol in pending:
                try:
                    self.volume_paths[vol["name"]] = await setup_volume(
                        self.k.client, self.pod, vol, self.pod_dir, facts, self.k.pv_root)
                except MountError as e:
                    failed.append(vol)
                    await self.event("Warning", M.FAILED_MOUNT, str(e))
                except ApiError as e:
                    failed.append(vol)
                    log.warning("volume %s of %s/%s: %s", vol.get("name"), self.namespace, self.name, e)
            pending = failed
            if pending:
                await self.k.clock.sleep(delay)
                delay = min(delay * 2, MOUNT_RETRY_MAX)

    async def _resync_volumes(self) -> None:
        """At each pod resync, the volumes projected from API objects follow their source."""
        facts = PodFacts(pod_ip=self.pod_ip or "", host_ip=self.k.host_ip)
        while not self.terminal:
            await self.k.clock.sleep(RESYNC_SECONDS * (1 + random.random() * RESYNC_JITTER))
            for vol in self.spec.get("volumes") or []:
                if self.terminal or self._deleting.is_set():
                    return
                if not any(kind in vol for kind in RESYNCED_VOLUMES):
                    continue
                try:
                    await setup_volume(self.k.client, self.pod, vol, self.pod_dir, facts, self.k.pv_root)
                except MountError as e:  # the source is gone: the files stay as they were
                    await self.event("Warning", M.FAILED_MOUNT, str(e))
                except ApiError as e:
                    log.warning("volume %s of %s/%s: %s", vol.get("name"), self.namespace, self.name, e)

    def _stop_volume_resync(self) -> None:
        if self._volume_resync is not None:
            self._volume_resync.cancel()

    # --- init containers -------------------------------------------------------
    async def _run_init_containers(self) -> bool:
        policy = self.spec.get("restartPolicy") or "Always"
        for c in self.spec.get("initContainers") or []:
            name = c["name"]
            while True:
                st = self.init_statuses[name]
                term = (st.get("state") or {}).get("terminated")
                if term and term.get("exitCode") == 0:
                    break
                if term and policy == "Never":
                    return False
                if term or (st.get("lastState") or {}).get("terminated"):
                    if await self._crash_backoff(self.init_statuses, name, init=True):
                        continue
                outcome = await self._start_and_wait(c, self.init_statuses, init=True)
                if outcome is None:
                    continue
        return True

    # --- one container ---------------------------------------------------------
    def _container_spec(self, name: str, init: bool = False) -> dict:
        key = "initContainers" if init else "containers"
        return next(c for c in self.spec.get(key) or [] if c["name"] == name)

    async def _supervise(self, name: str) -> None:
        policy = self.spec.get("restartPolicy") or "Always"
        while True:
            st = self.statuses[name]
            term = (st.get("state") or {}).get("terminated")
            if term is not None and not should_restart(policy, term.get("exitCode", 0)):
                return
            if name in self.finished_at:
                if await self._crash_backoff(self.statuses, name):
                    continue
            await self._start_and_wait(self._container_spec(name), self.statuses)

    async def _crash_backoff(self, table: dict, name: str, init: bool = False) -> bool:
        """True while waiting out the back-off (the caller loops), False to start now."""
        key = f"{self.uid}/{name}"
        finished = self.finished_at.get(name, 0.0)
        now = lab_now(self.k.clock.scale)
        backoff = self.k.crash_backoff
        if backoff.in_backoff_since(key, finished, now):
            st = table[name]
            if (st.get("state") or {}).get("terminated"):
                st["lastState"] = {"terminated": st["state"]["terminated"]}
            self._set_waiting(table, name, M.CRASH_LOOP_BACKOFF,
                              M.crash_loop_message(backoff.get(key), name, self.formatted))
            await self.event("Warning", M.BACKOFF, M.backoff_restart_event(name, self.formatted), name, init)
            await self.k.clock.sleep(backoff.remaining_since(key, finished, now))
            return True
        backoff.next(key, finished, now)
        return False

    async def _start_and_wait(self, c: dict, table: dict, init: bool = False) -> Exit | None:
        """Pull, configure, create and start one container, then wait for its exit.

        ``None`` when it could not be started yet (waiting reason set, retry
        delay already slept).
        """
        name = c["name"]
        image = await self._ensure_image(c, table, init)
        if image is None:
            return None
        try:
            env = await self._environment(c, image)
        except ConfigError as e:
            self._set_waiting(table, name, M.CREATE_CONFIG_ERROR, str(e))
            await self.event("Warning", M.FAILED, M.error_event(str(e)), name, init)
            await self.k.clock.sleep(CONFIG_RETRY_SECONDS)
            return None
        st = table[name]
        restarts = st.get("restartCount", 0) + (1 if name in self.finished_at else 0)
        log_path = podlogs.log_path(self.k.ctx.paths, self.namespace, self.name, self.uid, name, restarts)
        config = ContainerConfig(
            name=name, pod_name=self.name, namespace=self.namespace, pod_uid=self.uid, pod_ip=self.pod_ip,
            image=image, command=c.get("command"), args=c.get("args"), env=env,
            working_dir=c.get("workingDir"), ports=c.get("ports") or [],
            mounts=container_mounts(c, self.volume_paths, self.pod_dir / "volume-subpaths"),
            pod_dir=self.pod_dir,
            log=lambda stream, text, p=log_path: podlogs.append_log(p, stream, text),
            clock=self.k.clock, services=self.k.services, services_file=self.k.services_file,
            memory_limit=memory_limit(c))
        config.command = _expand_all(c.get("command"), env)
        config.args = _expand_all(c.get("args"), env)
        container = create_container(config)
        run = ContainerRun(container, c, init)
        self.runs[name] = run
        # the previous run moves to lastState when the new one is created
        if (st.get("state") or {}).get("terminated"):
            st["lastState"] = {"terminated": st["state"]["terminated"]}
        st.update({"restartCount": restarts, "containerID": f"containerd://{container.container_id}",
                   "imageID": image_id(image), "image": st.get("image")})
        await self.event("Normal", M.CREATED, M.created(name), name, init)
        started_at = now_str()
        try:
            await container.start()
        except StartError as e:
            self.runs.pop(name, None)
            exit = Exit(128, "StartError", str(e))
            await self.event("Warning", M.FAILED, M.error_event(str(e)), name, init)
            self._record_exit(table, name, exit, started_at="1970-01-01T00:00:00Z", container=container)
            return exit
        run.started_at = time.monotonic()
        await self.event("Normal", M.STARTED, M.started(name), name, init)
        post_start = (c.get("lifecycle") or {}).get("postStart")
        if post_start:
            failure = await run_handler(post_start, c, container, self.pod_ip or "", self.formatted, self.k.clock)
            if failure is not None:
                return await self._post_start_failed(run, table, failure, started_at)
        st["state"] = {"running": {"startedAt": started_at}}
        self._start_probes(run, table, init)
        self.dirty()
        exit = await container.wait()
        run.cancel_probes()
        self.runs.pop(name, None)
        self._record_exit(table, name, exit, started_at, container)
        return exit

    async def _post_start_failed(self, run: ContainerRun, table: dict, message: str, started_at: str) -> Exit:
        """startContainer's step 4 failing: FailedPostStartHook, the container killed, PostStartHookError."""
        name = run.spec["name"]
        await self.event("Warning", M.FAILED_POST_START_HOOK, M.POST_START_HOOK_FAILED, name, run.init)
        exit = await self._kill_container(run, self._grace_seconds(), M.FAILED_POST_START_HOOK)
        self.runs.pop(name, None)
        self._record_exit(table, name, exit, started_at, run.container)
        if should_restart(self.spec.get("restartPolicy") or "Always", exit.code):
            # until the next attempt runs, the status says why this one was killed
            st = table[name]
            st["lastState"] = {"terminated": st["state"]["terminated"]}
            self._set_waiting(table, name, M.POST_START_HOOK_ERROR, message)
        return exit

    def _record_exit(self, table: dict, name: str, exit: Exit, started_at: str, container) -> None:
        st = table[name]
        term = {"exitCode": exit.code, "reason": exit.reason, "startedAt": started_at, "finishedAt": now_str(),
                "containerID": f"containerd://{container.container_id}"}
        if exit.message:
            term["message"] = exit.message
        st["state"] = {"terminated": term}
        st["ready"] = False
        st["started"] = False
        self.finished_at[name] = lab_now(self.k.clock.scale)
        self.dirty()

    async def _environment(self, c: dict, image) -> dict[str, str]:
        cm_names, secret_names = referenced_objects({"spec": {"containers": [c]}})
        configmaps = {n: await self.k.client.get_or_none("v1", "ConfigMap", n, self.namespace) for n in cm_names}
        secrets = {n: await self.k.client.get_or_none("v1", "Secret", n, self.namespace) for n in secret_names}
        facts = PodFacts(pod_ip=self.pod_ip or "", host_ip=self.k.host_ip)
        env, warnings = build_env(c, self.pod, configmaps, secrets, facts, self.k.service_env(self.pod))
        for w in warnings:
            await self.k.recorder.event(self.pod, "Warning", "InvalidEnvironmentVariableNames", w)
        merged = dict(getattr(image, "env", None) or {})
        merged.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        merged["HOSTNAME"] = self.spec.get("hostname") or self.name
        merged.update(env)
        return merged

    # --- images -----------------------------------------------------------------
    async def _ensure_image(self, c: dict, table: dict, init: bool):
        name, ref = c["name"], c.get("image", "")
        images = self.k.images
        try:
            normalized(ref)
        except InvalidImageName as e:
            self._set_waiting(table, name, M.INVALID_IMAGE_NAME, str(e))
            await self.event("Warning", M.INSPECT_FAILED, str(e), name, init)
            await self.event("Warning", M.FAILED, M.error_event(M.INVALID_IMAGE_NAME), name, init)
            await self.k.clock.sleep(CONFIG_RETRY_SECONDS)
            return None
        policy = c.get("imagePullPolicy") or default_pull_policy(ref)
        present = images.present(ref, policy)
        if present is not None and policy != "Always":
            await self.event("Normal", M.PULLED, M.already_present(ref), name, init)
            return present
        if present is None and policy == "Never":
            msg = f'Container image "{ref}" is not present with pull policy of Never'
            self._set_waiting(table, name, "ErrImageNeverPull", msg)
            await self.event("Warning", "ErrImageNeverPull", msg, name, init)
            await self.event("Warning", M.FAILED, M.error_event("ErrImageNeverPull"), name, init)
            await self.k.clock.sleep(CONFIG_RETRY_SECONDS)
            return None
        key = f"{self.uid}_{ref}"
        backoff = self.k.pull_backoff
        now = lab_now(self.k.clock.scale)
        if backoff.in_backoff_since_update(key, now):
            msg = M.backoff_pulling(ref)
            await self.event("Normal", M.BACKOFF, msg, name, init)
            prev = self.prev_pull_error.get(key)
            self._set_waiting(table, name, M.IMAGE_PULL_BACKOFF, f"{msg}: {prev}" if prev else msg)
            await self.event("Warning", M.FAILED, M.error_event(M.IMAGE_PULL_BACKOFF), name, init)
            await self.k.clock.sleep(backoff.remaining_since_update(key, now))
            return None
        self.prev_pull_error.pop(key, None)
        await self.event("Normal", M.PULLING, M.pulling(ref), name, init)
        try:
            pulled = await images.pull(ref)
        except PullError as e:
            await self.event("Warning", M.FAILED, M.failed_to_pull(ref, str(e)), name, init)
            now = lab_now(self.k.clock.scale)
            backoff.next(key, now, now)
            self.prev_pull_error[key] = f"{M.ERR_IMAGE_PULL}: {e}"
            self._set_waiting(table, name, M.ERR_IMAGE_PULL, str(e))
            await self.event("Warning", M.FAILED, M.error_event(M.ERR_IMAGE_PULL), name, init)
            await self.k.clock.sleep(ERR_IMAGE_PULL_SHOWN_SECONDS)
            return None
        await self.event("Normal", M.PULLED, M.pulled(ref, pulled.pull_seconds, pulled.pull_seconds, pulled.size),
                         name, init)
        return pulled.image

    # --- probes -----------------------------------------------------------------
    def _start_probes(self, run: ContainerRun, table: dict, init: bool) -> None:
        c = run.spec
        st = table[c["name"]]
        if init:
            st["started"] = False
            return
        if c.get("startupProbe"):
            run.probe_tasks.append(asyncio.create_task(self._probe_loop(run, "Startup", c["startupProbe"], table)))
        else:
            self._on_started(run, table)

    def _on_started(self, run: ContainerRun, table: dict) -> None:
        c = run.spec
        st = table[c["name"]]
        run.started = True
        st["started"] = True
        if c.get("livenessProbe"):
            run.probe_tasks.append(asyncio.create_task(self._probe_loop(run, "Liveness", c["livenessProbe"], table)))
        if c.get("readinessProbe"):
            run.probe_tasks.append(asyncio.create_task(self._probe_loop(run, "Readiness", c["readinessProbe"], table)))
        else:
            run.ready = True
            st["ready"] = True
        self.dirty()

    async def _probe_loop(self, run: ContainerRun, kind: str, probe: dict, table: dict) -> None:
        s = probe_settings(probe)
        clock = self.k.clock
        name = run.spec["name"]
        current = kind == "Liveness"   # readiness and startup start as failing, liveness as passing
        streak_ok = streak_fail = 0
        period = clock.delay(s["periodSeconds"])
        first = max(self.k.relist_after(run.started_at), run.started_at + clock.delay(s["initialDelaySeconds"]))
        await asyncio.sleep(first - time.monotonic())
        while run.container.running and not self._deleting.is_set():
            began = time.monotonic()
            timeout = max(clock.delay(s["timeoutSeconds"]), min(s["timeoutSeconds"], 0.5))
            try:
                result = await run_probe(probe, run.spec, run.container, self.pod_ip, timeout)
            except Exception as e:  # noqa: BLE001 - a probe that errors is reported, not fatal
                from gitopslab.cluster.kubelet.probes import ProbeResult
                result = ProbeResult(False, str(e), errored=True)
            if not run.container.running or self._deleting.is_set():
                return
            if result.success:
                streak_ok, streak_fail = streak_ok + 1, 0
            else:
                streak_ok, streak_fail = 0, streak_fail + 1
                text = M.probe_errored(kind, result.output) if result.errored else M.probe_failed(kind, result.output)
                await self.event("Warning", M.UNHEALTHY, text, name)
            threshold_ok = s["successThreshold"] if kind == "Readiness" else 1
            if result.success and streak_ok >= threshold_ok:
                new = True
            elif not result.success and streak_fail >= s["failureThreshold"]:
                new = False
            else:
                new = current
            if new != current:
                current = new
                if kind == "Readiness":
                    run.ready = new
                    table[name]["ready"] = new
                    self.dirty()
                elif kind == "Startup" and new:
                    self._on_started(run, table)
                    return
                elif not new:   # liveness or startup failed: restart the container
                    await self._kill_for_probe(run, kind.lower())
                    return
            elif kind == "Startup" and not new and streak_fail >= s["failureThreshold"]:
                await self._kill_for_probe(run, "startup")
                return
            # a probe longer than the period leaves a tick pending: the next one runs at once
            await asyncio.sleep(next_tick(self.probe_ticker_start, period, began) - time.monotonic())

    async def _kill_for_probe(self, run: ContainerRun, probe_type: str) -> None:
        name = run.spec["name"]
        run.kill_reason = probe_type
        probe = run.spec.get(f"{probe_type}Probe") or {}
        grace = probe.get("terminationGracePeriodSeconds")
        if grace is None:
            grace = self.spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
        await self._kill_container(run, float(grace), M.failed_probe_restart(name, probe_type))

    async def _kill_container(self, run: ContainerRun, grace: float, message: str | None = None) -> Exit:
        """killContainer: the Killing event, the preStop hook within the grace period, then the stop signal.

        The hook's whole seconds are taken from the grace period, leaving the
        container at least ``MINIMUM_GRACE_SECONDS``. A hook still running when
        the grace is over is left behind; an exec or request still under way
        fails with its container (FailedPreStopHook), a sleep just ends.
        """
        name = run.spec["name"]
        if not self._gone:
            await self.event("Normal", M.KILLING, message or M.stopping(name), name, run.init)
        pre_stop = (run.spec.get("lifecycle") or {}).get("preStop")
        hook = None
        if pre_stop and grace > 0 and run.container.running:
            took, hook = await run_pre_stop(pre_stop, run.spec, run.container, self.pod_ip or "", self.formatted,
                                            self.k.clock, grace)
            if hook.done() and (hook.exception() is not None or hook.result() is not None):
                await self.event("Warning", M.FAILED_PRE_STOP_HOOK, M.PRE_STOP_HOOK_FAILED, name, run.init)
            grace = max(grace - took, MINIMUM_GRACE_SECONDS)
        exit = await run.container.stop(grace)
        if hook is not None and not hook.done():
            hook.cancel()
            if not pre_stop.get("sleep"):
                await self.event("Warning", M.FAILED_PRE_STOP_HOOK, M.PRE_STOP_HOOK_FAILED, name, run.init)
        return exit

    # --- termination --------------------------------------------------------------
    def _grace_seconds(self) -> float:
        meta = self.pod.get("metadata") or {}
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = self.spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
        return float(grace)

    async def _terminate(self) -> None:
        teardown_floor = asyncio.get_running_loop().time() + MIN_TEARDOWN_SECONDS
        grace = self._grace_seconds()
        self._stop_volume_resync()
        if self._lifecycle is not None:
            self._lifecycle.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._lifecycle
        runs = list(self.runs.items())

        async def stop(name: str, run: ContainerRun) -> None:
            run.cancel_probes()
            table = self.init_statuses if run.init else self.statuses
            started = ((table[name].get("state") or {}).get("running") or {}).get("startedAt", now_str())
            exit = await self._kill_container(run, grace)
            self._record_exit(table, name, exit, started, run.container)

        for st in self.statuses.values():
            st["ready"] = False
        self.dirty()
        await asyncio.gather(*(stop(n, r) for n, r in runs), return_exceptions=True)
        self.runs.clear()
        self.terminal = True
        self.sandbox_ready = False
        await self.flush_status()
        self.k.network.release(self.uid)
        shutil.rmtree(self.pod_dir, ignore_errors=True)
        if not self._gone:
            await asyncio.sleep(max(0.0, teardown_floor - asyncio.get_running_loop().time()))
            try:
                await self.k.client.delete("v1", "Pod", self.name, self.namespace, grace_period_seconds=0,
                                           preconditions={"uid": self.uid})
            except ApiError as e:
                if e.code not in (404, 409):
                    log.warning("deleting pod %s/%s: %s", self.namespace, self.name, e)

    async def _kill_all_now(self) -> None:
        for run in list(self.runs.values()):
            run.cancel_probes()
            with contextlib.suppress(Exception):
                await run.container.stop(0)
        self.runs.clear()

    def kill_now(self) -> None:
        """Synchronous last resort when the daemon stops."""
        for run in list(self.runs.values()):
            killer = getattr(run.container, "kill_now", None)
            if killer:
                killer()


def _expand_all(items: list[str] | None, env: dict[str, str]) -> list[str] | None:
    from gitopslab.cluster.kubelet.envvars import expand_args

    return expand_args(items, env) if items is not None else None
