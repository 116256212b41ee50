"""CronJob controller (``pkg/controller/cronjob``, v2): Jobs ``<cronjob>-<minutes
since epoch>`` on schedule, concurrency policies, history limits.

Schedules run on the lab clock: with ``--time-scale X`` a lab minute lasts
60/X real seconds, counted from the controller's start.
"""
from __future__ import annotations

import copy
import logging
from datetime import datetime, timedelta

from gitopslab.cluster.controllers import cron, timeutil
from gitopslab.cluster.controllers import pods as P
from gitopslab.cluster.controllers.base import Controller, owner_key
from gitopslab.cluster.controllers.job import finished_condition
from gitopslab.cluster.errors import ApiError
from gitopslab.cluster.informer import split_key

log = logging.getLogger(__name__)

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def job_name(cronjob: str, scheduled: datetime) -> str:
    return f"{cronjob}-{int(scheduled.timestamp()) // 60}"


def job_from_template(cj: dict, scheduled: datetime) -> dict:
    tpl = copy.deepcopy((cj.get("spec") or {}).get("jobTemplate") or {})
    tmeta = tpl.get("metadata") or {}
    annotations = dict(tmeta.get("annotations") or {})
    annotations[SCHEDULED_TIMESTAMP] = timeutil.fmt(scheduled)
    meta = {"name": job_name(cj["metadata"]["name"], scheduled), "namespace": cj["metadata"]["namespace"],
            "annotations": annotations, "ownerReferences": [P.controller_ref(cj)]}
    if tmeta.get("labels"):
        meta["labels"] = dict(tmeta["labels"])
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": tpl.get("spec") or {}}


def jobs_to_clean(jobs: list[dict], success_limit: int, failed_limit: int) -> list[dict]:
    """Finished jobs beyond the history limits, oldest first."""
    out = []
    for type_, limit in (("Complete", success_limit), ("Failed", failed_limit)):
        done = [j for j in jobs if (finished_condition(j) or {}).get("type") == type_]
        done.sort(key=lambda j: ((j.get("status") or {}).get("startTime") or j["metadata"].get("creationTimestamp") or ""))
        out += done[: max(len(done) - limit, 0)]
    return out


class CronJobController(Controller):
    name = "cronjob"
    component = "cronjob-controller"

    def __init__(self, ctx, informers, **kw):
        super().__init__(ctx, informers, **kw)
        self._anchor = timeutil.now()

    def lab_now(self) -> datetime:
        real = timeutil.now()
        return self._anchor + (real - self._anchor) * self.clock.scale

    def setup(self) -> None:
        self.watch("batch/v1", "CronJob")
        self.watch("batch/v1", "Job", owner_key("CronJob"))

    async def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        cj = await self.get_or_none("batch/v1", "CronJob", name, ns)
        if cj is None or P.is_terminating(cj):
            return
        jobs = [j for j in await self.list_items("batch/v1", "Job", ns) if P.is_owned_by(j, cj)]
        status = copy.deepcopy(cj.get("status") or {})
        await self._track_active(cj, status, jobs)
        await self._maybe_start(cj, key, status, jobs)
        await self._cleanup(cj, jobs)
        if status != (cj.get("status") or {}):
            cj = copy.deepcopy(cj)
            cj["status"] = status
            await self.client.replace(cj, subresource="status")

    async def _track_active(self, cj: dict, status: dict, jobs: list[dict]) -> None:
        by_uid = {j["metadata"]["uid"]: j for j in jobs}
        active = []
        for ref in status.get("active") or []:
            job = by_uid.get(ref.get("uid"))
            if job is None:
                await self.recorder.event(cj, "Normal", "MissingJob", f"Active job went missing: {ref.get('name')}")
                continue
            done = finished_condition(job)
            if done is not None:
                await self.recorder.event(cj, "Normal", "SawCompletedJob",
                                          f"Saw completed job: {job['metadata']['name']}, condition: {done['type']}")
                if done["type"] == "Complete":
                    status["lastSuccessfulTime"] = (job.get("status") or {}).get("completionTime") or timeutil.now_str()
                continue
            active.append(ref)
        known = {r.get("uid") for r in active}
        for job in jobs:  # jobs we created but not yet recorded (e.g. after a restart)
            if finished_condition(job) is None and job["metadata"]["uid"] not in known and not P.is_terminating(job):
                active.append(_ref(job))
        if active:
            status["active"] = active
        else:
            status.pop("active", None)

    async def _maybe_start(self, cj: dict, key: str, status: dict, jobs: list[dict]) -> None:
        spec = cj.get("spec") or {}
        try:
            schedule = cron.parse(spec.get("schedule", ""), spec.get("timeZone"))
        except cron.CronError as e:
            await self.recorder.event(cj, "Warning", "UnparseableSchedule",
                                      f'unparseable schedule: "{spec.get("schedule")}" : {e}')
            return
        now = self.lab_now()
        if spec.get("suspend"):
            return
        earliest = timeutil.parse(status.get("lastScheduleTime")) or timeutil.parse(cj["metadata"].get("creationTimestamp")) or now
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, now - timedelta(seconds=int(deadline)))
        scheduled, missed = schedule.last_before(earliest, now)
        self._requeue_next(key, schedule, now)
        if scheduled is None:
            return
        if missed > 100:
            await self.recorder.event(cj, "Warning", "TooManyMissedTimes",
                                      "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
        if deadline is not None and scheduled + timedelta(seconds=int(deadline)) < now:
            await self.recorder.event(cj, "Warning", "MissSchedule",
                                      f"Missed scheduled time to start a job: {scheduled.strftime('%a, %d %b %Y %H:%M:%S +0000')}")
            return
        name = job_name(cj["metadata"]["name"], scheduled)
        if any(r.get("name") == name for r in status.get("active") or []):
            return
        policy = spec.get("concurrencyPolicy", "Allow")
        if policy == "Forbid" and status.get("active"):
            await self.recorder.event(cj, "Normal", "JobAlreadyActive",
                                      "Not starting job because prior execution is running and concurrency policy is Forbid")
            return
        if policy == "Replace":
            for ref in status.get("active") or []:
                if await self.delete_quietly("batch/v1", "Job", ref["name"], ref.get("namespace"), propagation_policy="Background"):
                    await self.recorder.event(cj, "Normal", "SuccessfulDelete", f"Deleted job {ref['name']}")
            status.pop("active", None)
        await self._create_job(cj, status, scheduled)

    async def _create_job(self, cj: dict, status: dict, scheduled: datetime) -> None:
        try:
            job = await self.client.create(job_from_template(cj, scheduled), namespace=cj["metadata"]["namespace"])
        except ApiError as e:
            if e.code != 409:
                await self.recorder.event(cj, "Warning", "FailedCreate", f"Error creating job: {e.message}")
                raise
            job = await self.get_or_none("batch/v1", "Job", job_name(cj["metadata"]["name"], scheduled),
                                         cj["metadata"]["namespace"])
            if job is None or not P.is_owned_by(job, cj):
                return
        else:
            await self.recorder.event(cj, "Normal", "SuccessfulCreate", f"Created job {job['metadata']['name']}")
        job.setdefault("apiVersion", "batch/v1")
        job.setdefault("kind", "Job")
        if finished_condition(job) is None and not any(r.get("uid") == job["metadata"]["uid"] for r in status.get("active") or []):
            status.setdefault("active", []).append(_ref(job))
        status["lastScheduleTime"] = timeutil.fmt(scheduled)

    def _requeue_next(self, key: str, schedule: cron.Schedule, now: datetime) -> None:
        nxt = schedule.next_after(now)
        self.requeue_after(key, (nxt - now).total_seconds() + 0.1)

    async def _cleanup(self, cj: dict, jobs: list[dict]) -> None:
        spec = cj.get("spec") or {}
        for job in jobs_to_clean(jobs, int(spec.get("successfulJobsHistoryLimit", 3)),
                                 int(spec.get("failedJobsHistoryLimit", 1))):
            if await self.delete_quietly("batch/v1", "Job", job["metadata"]["name"], job["metadata"]["namespace"],
                                         propagation_policy="Background"):
                await self.recorder.event(cj, "Normal", "SuccessfulDelete", f"Deleted job {job['metadata']['name']}")


def _ref(job: dict) -> dict:
    m = job["metadata"]
    return {"apiVersion": "batch/v1", "kind": "Job", "name": m["name"], "namespace": m["namespace"],
            "resourceVersion": m.get("resourceVersion"), "uid": m["uid"]}

