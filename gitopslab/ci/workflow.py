"""Workflow files: ``.github/workflows/*.yml`` parsed into jobs and steps (pure).

PyYAML reads the ``on:`` key as the boolean ``True`` (YAML 1.1); it is
mapped back. Errors use GitHub's "The workflow is not valid." framing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

WORKFLOWS_DIR = ".github/workflows"


class WorkflowError(Exception):
    pass


@dataclass
class Step:
    index: int
    id: str | None
    name: str | None
    uses: str | None
    run: str | None
    with_: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    if_: Any = None
    shell: str | None = None
    working_directory: str | None = None
    continue_on_error: Any = False

    @property
    def display_name(self) -> str:
        """What GitHub shows for an unnamed step: ``Run <first line>`` or ``Run <action>``."""
        if self.name:
            return str(self.name)
        if self.uses:
            return f"Run {self.uses}"
        first = (self.run or "").strip().splitlines()
        return f"Run {first[0] if first else ''}"


@dataclass
class Job:
    id: str
    name: str | None
    runs_on: Any
    needs: list[str]
    steps: list[Step]
    if_: Any = None
    env: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    defaults_run: dict = field(default_factory=dict)
    continue_on_error: Any = False
    timeout_minutes: float = 360

    @property
    def display_name(self) -> str:
        return str(self.name) if self.name else self.id


@dataclass
class Workflow:
    path: str
    name: str
    on: dict
    jobs: dict[str, Job]
    env: dict = field(default_factory=dict)
    defaults_run: dict = field(default_factory=dict)

    def levels(self) -> list[list[str]]:
        """Jobs grouped by dependency depth: every job comes after all of its ``needs``."""
        done: list[str] = []
        levels = []
        remaining = dict(self.jobs)
        while remaining:
            ready = [j for j, job in remaining.items() if all(n in done for n in job.needs)]
            if not ready:
                raise WorkflowError(self._invalid(f"Job '{sorted(remaining)[0]}' has a circular dependency"))
            levels.append(ready)
            done += ready
            for j in ready:
                del remaining[j]
        return levels

    def _invalid(self, detail: str) -> str:
        return f"Invalid workflow file: {self.path}\nThe workflow is not valid. {self.path}: {detail}"


def _normalize_on(value: Any) -> dict:
    if isinstance(value, str):
        return {value: {}}
    if isinstance(value, list):
        return {str(v): {} for v in value}
    if isinstance(value, dict):
        return {str(k): (v or {}) for k, v in value.items()}
    return {}


def _env(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WorkflowError("env must be a mapping")
    return {str(k): v for k, v in value.items()}


def _needs(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _step(index: int, raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise WorkflowError(f"{where}: a step must be a mapping")
    uses, run = raw.get("uses"), raw.get("run")
    if (uses is None) == (run is None):
        raise WorkflowError(f"{where}: every step must define a `uses` or `run` key")
    return Step(index=index, id=None if raw.get("id") is None else str(raw["id"]), name=raw.get("name"),
                uses=None if uses is None else str(uses), run=None if run is None else str(run),
                with_=dict(raw.get("with") or {}), env=_env(raw.get("env")), if_=raw.get("if"),
                shell=raw.get("shell"), working_directory=raw.get("working-directory"),
                continue_on_error=raw.get("continue-on-error", False))


def _job(job_id: str, raw: Any, path: str) -> Job:
    if not isinstance(raw, dict):
        raise WorkflowError(f"{path}: job '{job_id}' must be a mapping")
    if "uses" in raw:
        raise WorkflowError(f"{path}: job '{job_id}': reusable workflows (jobs.<id>.uses) "
                            "ne sont pas pris en charge par le runner du labo")
    if (raw.get("strategy") or {}).get("matrix"):
        raise WorkflowError(f"{path}: job '{job_id}': strategy.matrix n'est pas pris en charge par le runner du labo")
    if "runs-on" not in raw:
        raise WorkflowError(f"{path}: Required property is missing: runs-on (job '{job_id}')")
    steps = raw.get("steps") or []
    if not isinstance(steps, list) or not steps:
        raise WorkflowError(f"{path}: job '{job_id}': Required property is missing: steps")
    return Job(id=job_id, name=raw.get("name"), runs_on=raw.get("runs-on"), needs=_needs(raw.get("needs")),
               steps=[_step(i, s, f"{path}: job '{job_id}' step {i + 1}") for i, s in enumerate(steps)],
               if_=raw.get("if"), env=_env(raw.get("env")),
               outputs={str(k): v for k, v in (raw.get("outputs") or {}).items()},
               defaults_run=dict((raw.get("defaults") or {}).get("run") or {}),
               continue_on_error=raw.get("continue-on-error", False),
               timeout_minutes=float(raw.get("timeout-minutes") or 360))


def parse(text: str, path: str = f"{WORKFLOWS_DIR}/workflow.yml") -> Workflow:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise WorkflowError(f"Invalid workflow file: {path}\n{e}") from e
    if not isinstance(raw, dict):
        raise WorkflowError(f"Invalid workflow file: {path}\nThe workflow is not valid. "
                            f"{path}: the file must be a YAML mapping")
    on = raw.get("on", raw.get(True))
    if on is None:
        raise WorkflowError(f"Invalid workflow file: {path}\nThe workflow is not valid. "
                            f"{path}: Required property is missing: on")
    jobs_raw = raw.get("jobs")
    if not isinstance(jobs_raw, dict) or not jobs_raw:
        raise WorkflowError(f"Invalid workflow file: {path}\nThe workflow is not valid. "
                            f"{path}: Required property is missing: jobs")
    try:
        jobs = {str(j): _job(str(j), spec, path) for j, spec in jobs_raw.items()}
    except WorkflowError as e:
        raise WorkflowError(f"Invalid workflow file: {path}\nThe workflow is not valid. {e}") from e
    workflow = Workflow(path=path, name=str(raw.get("name") or path), on=_normalize_on(on), jobs=jobs,
                        env=_env(raw.get("env")), defaults_run=dict((raw.get("defaults") or {}).get("run") or {}))
    for job in jobs.values():
        for need in job.needs:
            if need not in jobs:
                raise WorkflowError(workflow._invalid(f"Job '{job.id}' depends on unknown job '{need}'."))
    workflow.levels()
    return workflow
