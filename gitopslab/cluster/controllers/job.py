"""Job controller (``pkg/controller/job``, 1.32 behaviour, non-indexed jobs):
completions and parallelism, pod failure back-off, backoffLimit and
activeDeadlineSeconds, FailureTarget/Failed and SuccessCriteriaMet/Complete
conditions, and ttlSecondsAfterFinished (the TTL-after-finished controller)."""
from __future__ import annotations

import copy
import logging

from gitopslab.cluster.controllers import pods as P
from gitopslab.cluster.controllers import timeutil
from gitopslab.cluster.controllers.base import Controller, owner_key
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import split_key

log = logging.getLogger(__name__)

BACKOFF_BASE, BACKOFF_MAX = 10.0, 360.0  # DefaultJobPodFailureBackOff, MaxJobPodFailureBackOff
BACKOFF_LIMIT_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"
COMPLETIONS_MESSAGE = "Reached expected number of succeeded pods"


def job_labels(job: dict) -> dict:
    uid, name = job["metadata"].get("uid"), job["metadata"]["name"]
    return {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
            "controller-uid": uid, "job-name": name}


def completions(job: dict) -> int:
    spec = job.get("spec") or {}
    c = spec.get("completions")
    return 1 if c is None else int(c)


def parallelism(job: dict) -> int:
    p = (job.get("spec") or {}).get("parallelism")
    return 1 if p is None else int(p)


def failure_count(job: dict, pods: list[dict]) -> int:
    """Failed pods, plus container restarts when restartPolicy is OnFailure."""
    failed = sum(1 for p in pods if P.phase(p) == "Failed")
    if ((job["spec"].get("template") or {}).get("spec") or {}).get("restartPolicy") == "OnFailure":
        failed += sum(c.get("restartCount", 0) for p in pods if P.is_active(p)
                      for c in (p.get("status") or {}).get("containerStatuses") or [])
    return failed


def finished_condition(job: dict) -> dict | None:
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return c
    return None


def _cond(type_: str, reason: str, message: str, now: str) -> dict:
    return {"type": type_, "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
            "reason": reason, "message": message}


class JobController(Controller):
    name = "job"
    component = "job-controller"
    workers = 2

    def setup(self) -> None:
        self.watch("batch/v1", "Job")
        self.watch("v1", "Pod", owner_key("Job"))

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        job = await self.get_or_none("batch/v1", "Job", name, ns)
        if job is None or P.is_terminating(job):
            return
        done = finished_condition(job)
        if done is not None:
            await self._ttl(job, key)
            return
        pods = [p for p in await self.list_items("v1", "Pod", ns) if P.is_owned_by(p, job)]
        status = copy.deepcopy(job.get("status") or {})
        now = timeutil.now_str()
        if not job["spec"].get("suspend"):
            status.setdefault("startTime", now)
        active = [p for p in pods if P.is_active(p)]
        succeeded = sum(1 for p in pods if P.phase(p) == "Succeeded")
        failed = failure_count(job, pods)
        reason = self._failure_reason(job, failed, status)
        if reason is not None:
            await self._fail(job, status, active, succeeded, failed, reason, now)
            return
        if succeeded >= completions(job):
            await self._complete(job, status, active, succeeded, failed, now)
            return
        if not job["spec"].get("suspend"):
            active = await self._manage(job, key, active, succeeded, failed, pods)
        await self._write(job, status, active, succeeded, failed)
        deadline = job["spec"].get("activeDeadlineSeconds")
        if deadline and status.get("startTime"):
            left = deadline - (timeutil.age_seconds(status["startTime"]) or 0) * self.clock.scale
            self.requeue_after(key, max(left, 0) + 0.5)

    def _failure_reason(self, job: dict, failed: int, status: dict) -> tuple[str, str] | None:
        if failed > int(job["spec"].get("backoffLimit", 6)):
            return "BackoffLimitExceeded", BACKOFF_LIMIT_MESSAGE
        deadline = job["spec"].get("activeDeadlineSeconds")
        if deadline and status.get("startTime"):
            if (timeutil.age_seconds(status["startTime"]) or 0) * self.clock.scale >= deadline:
                return "DeadlineExceeded", DEADLINE_MESSAGE
        return None

    async def _manage(self, job: dict, key: str, active: list[dict], succeeded: int, failed: int,
                      pods: list[dict]) -> list[dict]:
        want = min(parallelism(job), completions(job) - succeeded)
        if len(active) > want:
            for pod in sorted(active, key=lambda p: P.is_ready(p))[: len(active) - want]:
                if await self.delete_quietly("v1", "Pod", pod["metadata"]["name"], pod["metadata"]["namespace"]):
                    await self.recorder.event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")
            return active[: want]
        missing = want - len(active)
        if missing <= 0:
            return active
        wait = self._backoff_remaining(failed, pods)
        if wait > 0:
            self.requeue_after(key, wait)
            return active
        template = copy.deepcopy(job["spec"].get("template") or {})
        template.setdefault("metadata", {}).setdefault("labels", {}).update(job_labels(job))
        created = list(active)
        for _ in range(missing):
            pod = P.pod_from_template(template, job)
            try:
                made = await self.client.create(pod, namespace=job["metadata"]["namespace"])
            except ApiError as e:
                await self.recorder.event(job, "Warning", "FailedCreate", f"Error creating: {e.message}")
                break
            created.append(made)
            await self.recorder.event(job, "Normal", "SuccessfulCreate", f"Created pod: {made['metadata']['name']}")
        return created

    def _backoff_remaining(self, failed: int, pods: list[dict]) -> float:
        """Lab seconds before the next pod may be created after ``failed`` failures."""
        if failed == 0:
            return 0.0
        delay = min(BACKOFF_BASE * 2 ** (failed - 1), BACKOFF_MAX)
        finished = [timeutil.parse(_finish_time(p)) for p in pods if P.phase(p) == "Failed"]
        finished = [f for f in finished if f is not None]
        if not finished:
            return 0.0
        since = (timeutil.now() - max(finished)).total_seconds() * self.clock.scale
        return max(delay - since, 0.0)

    async def _fail(self, job, status, active, succeeded, failed, reason, now) -> None:
        for pod in active:
            await self.delete_quietly("v1", "Pod", pod["metadata"]["name"], pod["metadata"]["namespace"])
        type_reason, message = reason
        conds = status.get("conditions") or []
        conds = P.set_condition(conds, _cond("FailureTarget", type_reason, message, now))
        conds = P.set_condition(conds, _cond("Failed", type_reason, message, now))
        status["conditions"] = conds
        await self._write(job, status, [], succeeded, failed)
        await self.recorder.event(job, "Warning", type_reason, message)

    async def _complete(self, job, status, active, succeeded, failed, now) -> None:
        for pod in active:
            await self.delete_quietly("v1", "Pod", pod["metadata"]["name"], pod["metadata"]["namespace"])
        conds = status.get("conditions") or []
        conds = P.set_condition(conds, _cond("SuccessCriteriaMet", "CompletionsReached", COMPLETIONS_MESSAGE, now))
        conds = P.set_condition(conds, _cond("Complete", "CompletionsReached", COMPLETIONS_MESSAGE, now))
        status["conditions"] = conds
        status["completionTime"] = now
        await self._write(job, status, [], succeeded, failed)
        await self.recorder.event(job, "Normal", "Completed", "Job completed")

    async def _write(self, job: dict, status: dict, active: list[dict], succeeded: int, failed: int) -> None:
        status.update({"active": len(active), "succeeded": succeeded, "failed": failed,
                       "ready": sum(1 for p in active if P.is_ready(p)), "terminating": 0,
                       "uncountedTerminatedPods": {}})
        for k in ("active", "succeeded", "failed"):
            if not status[k]:
                del status[k]  # omitempty
        if status == (job.get("status") or {}):
            return
        job = copy.deepcopy(job)
        job["status"] = status
        await self.client.replace(job, subresource="status")

    async def _ttl(self, job: dict, key: str) -> None:
        ttl = job["spec"].get("ttlSecondsAfterFinished")
        done = finished_condition(job) or {}
        finished_at = (job.get("status") or {}).get("completionTime") or done.get("lastTransitionTime")
        if ttl is None or not finished_at:
            return
        left = ttl - (timeutil.age_seconds(finished_at) or 0) * self.clock.scale
        if left > 0:
            self.requeue_after(key, left)
            return
        await self.delete_quietly("batch/v1", "Job", job["metadata"]["name"], job["metadata"]["namespace"],
                                  propagation_policy="Foreground")


def _finish_time(pod: dict) -> str | None:
    times = [((c.get("state") or {}).get("terminated") or {}).get("finishedAt")
             for c in (pod.get("status") or {}).get("containerStatuses") or []]
    times = [t for t in times if t]
    if times:
        return max(times)
    ready = P.condition(pod, "Ready") or {}
    return ready.get("lastTransitionTime") or (pod.get("metadata") or {}).get("creationTimestamp")
