"""One job on its runner machine: set up, steps in order, post steps, outputs, clean up.

Step semantics from GitHub's documentation: ``if:`` defaults to
``success()`` and is implied around conditions without a status function;
``continue-on-error`` turns a failure's conclusion into success (its outcome
stays failure); ``run:`` scripts have their ``${{ }}`` substituted, then run
with ``bash -e {0}`` (``shell: bash`` adds ``--noprofile --norc -eo
pipefail``); ``$GITHUB_OUTPUT``/``$GITHUB_ENV``/``$GITHUB_PATH`` are read
after each step.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from gitopslab.ci import actions as actionsmod
from gitopslab.ci import engine, expressions, filecommands
from gitopslab.ci.actions.base import ActionContext, StepFailure
from gitopslab.ci.exprvalues import to_string, truthy
from gitopslab.ci.logbook import Masker, StepLog
from gitopslab.ci.machine import IMAGE_VERSION, RUNNER_VERSION, Machine
from gitopslab.ci.store import RunPaths, now_iso
from gitopslab.ci.workflow import Job, Step, Workflow
from gitopslab.home import Home

SHELLS = {
    None: ("bash -e {0}", ["bash", "-e"]),
    "bash": ("bash --noprofile --norc -eo pipefail {0}", ["bash", "--noprofile", "--norc", "-eo", "pipefail"]),
    "sh": ("sh -e {0}", ["sh", "-e"]),
    "python": ("python {0}", ["python3"]),
}


@dataclass
class JobResult:
    conclusion: str                         # success, failure, skipped, cancelled
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobRunner:
    home: Home
    workflow: Workflow
    job: Job
    run: dict                               # the run record (updated in place)
    paths: RunPaths
    needs: dict[str, dict]                  # needs context: {job: {result, outputs}}
    secrets: dict[str, str]
    machine: Machine
    save: Callable[[], None]                # persist the run record
    echo: Callable[[str], None] | None = None

    def __post_init__(self):
        self.masker = Masker(list(self.secrets.values()))
        self.env: dict[str, str] = {}       # GITHUB_ENV exports
        self.extra_path: list[str] = []
        self.steps_ctx: dict[str, dict] = {}
        self.failed = False
        self.record: dict = {}
        self.posts: list[tuple[str, ActionContext, Callable]] = []

    # --- contexts -------------------------------------------------------------
    def github(self) -> dict[str, Any]:
        r = self.run
        ref = r["ref"]
        return {
            "sha": r["sha"], "ref": ref, "ref_name": ref.rsplit("/", 1)[-1] if ref.startswith("refs/") else ref,
            "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
            "repository": r["repository"], "repository_owner": r["repository"].split("/")[0],
            "run_id": str(r["id"]), "run_number": str(r["run_number"]), "run_attempt": "1",
            "workflow": self.workflow.name, "workflow_ref": f"{r['repository']}/{r['workflow']}@{ref}",
            "job": self.job.id, "event_name": r["event"], "event": r.get("event_payload") or {},
            "actor": r.get("actor", "nzapanarcisse"), "triggering_actor": r.get("actor", "nzapanarcisse"),
            "workspace": str(self.machine.workspace), "action": "", "server_url": "https://github.com",
            "api_url": "https://api.github.com", "graphql_url": "https://api.github.com/graphql",
            "token": self.secrets.get("GITHUB_TOKEN", ""), "head_ref": "", "base_ref": "",
            "retention_days": "90",
        }

    def contexts(self, step_env: dict[str, str] | None = None) -> dict[str, Any]:
        env = {**self._declared_env(), **(step_env or {})}
        return {
            "github": self.github(), "env": env, "secrets": self.secrets, "vars": {}, "inputs": {},
            "matrix": {}, "strategy": {}, "steps": self.steps_ctx, "needs": self.needs,
            "job": {"status": "failure" if self.failed else "success", "services": {}, "container": {}},
            "runner": {"os": "Linux", "arch": "X64", "name": "GitHub Actions 1000000001",
                       "temp": str(self.machine.temp), "tool_cache": str(self.machine.root / "hostedtoolcache"),
                       "environment": "github-hosted"},
        }

    def _declared_env(self) -> dict[str, str]:
        return {**self._interpolated(self.workflow.env, {}), **self._interpolated(self.job.env, {}), **self.env}

    def _interpolated(self, env: dict, contexts: dict | None) -> dict[str, str]:
        ctx = contexts if contexts else self._base_contexts()
        return {k: to_string(expressions.interpolate_value(v, ctx, self.status_functions())) for k, v in env.items()}

    def _base_contexts(self) -> dict[str, Any]:
        return {"github": self.github(), "secrets": self.secrets, "vars": {}, "needs": self.needs,
                "env": dict(self.env), "steps": self.steps_ctx, "matrix": {}, "inputs": {},
                "runner": {"os": "Linux", "arch": "X64", "temp": str(self.machine.temp)}}

    def status_functions(self) -> dict[str, Callable]:
        return {"success": lambda: not self.failed, "failure": lambda: self.failed,
                "always": lambda: True, "cancelled": lambda: False,
                "hashFiles": lambda *patterns: ""}

    # --- the job --------------------------------------------------------------
    def execute(self) -> JobResult:
        self.record = {"id": self.job.id, "name": self.job.display_name, "status": "in_progress",
                       "conclusion": None, "started_at": now_iso(), "completed_at": None,
                       "steps": [], "outputs": {}}
        self.run["jobs"].append(self.record)
        self.save()
        started = time.monotonic()
        try:
            self._set_up()
            for step in self.job.steps:
                self._step(step)
            for name, ctx, post in reversed(self.posts):
                self._post_step(name, ctx, post)
            outputs = self._outputs()
        finally:
            self._complete(time.monotonic() - started)
        self.record["outputs"] = outputs
        self.save()
        return JobResult(self.record["conclusion"], outputs)

    def _new_step(self, name: str) -> tuple[dict, StepLog]:
        number = len(self.record["steps"]) + 1
        entry = {"number": number, "name": name, "status": "in_progress", "conclusion": None,
                 "started_at": now_iso(), "completed_at": None}
        self.record["steps"].append(entry)
        self.save()
        if self.echo:
            self.echo(f"\x00step {self.job.id} {name}")
        return entry, StepLog(self.paths.step_log(self.job.id, number, name), self.masker, self.echo)

    def _end_step(self, entry: dict, log: StepLog, conclusion: str) -> None:
        log.close()
        entry.update(status="completed", conclusion=conclusion, completed_at=now_iso())
        self.save()
        if self.echo:
            self.echo(f"\x00end {self.job.id} {conclusion}")

    def _set_up(self) -> None:
        entry, log = self._new_step("Set up job")
        self.machine.provision(self.home)
        log.line(f"Current runner version: '{RUNNER_VERSION}'")
        log.line("Runner name: 'GitHub Actions 1000000001'")
        log.line("Machine name: 'gitopslab'")
        log.group("Operating System")
        log.line("Ubuntu\n24.04.3\nLTS")
        log.endgroup()
        log.group("Runner Image")
        log.line(f"Image: ubuntu-24.04\nVersion: {IMAGE_VERSION}")
        log.endgroup()
        log.line("Secret source: Actions")
        log.line("Prepare workflow directory")
        log.line("Prepare all required actions")
        uses = [s.uses for s in self.job.steps if s.uses]
        if uses:
            log.line("Getting action download info")
        for action in dict.fromkeys(uses):
            log.line(f"Download action repository '{action}' (modèle du labo)")
        log.line(f"Complete job name: {self.job.display_name}")
        self._end_step(entry, log, "success")

    def _complete(self, seconds: float) -> None:
        entry, log = self._new_step("Complete job")
        log.line("Cleaning up orphan processes")
        for name in engine.stop_all(self.machine):
            log.line(f"Terminate orphan process: conteneur {name} (la machine du job est détruite)")
        self._end_step(entry, log, "success")
        self.record.update(status="completed", conclusion="failure" if self.failed else "success",
                           completed_at=now_iso(), seconds=round(seconds, 1))

    # --- steps ------------------------------------------------------------------
    def _step_condition(self, step: Step) -> tuple[bool, str | None]:
        try:
            source = expressions.condition_source(step.if_)
            value = expressions.evaluate(source, self.contexts(), self.status_functions())
            return truthy(value), None
        except expressions.ExpressionError as e:
            return False, str(e)

    def _step(self, step: Step) -> None:
        name = step.display_name
        if step.name and expressions.has_template(str(step.name)):
            name = expressions.interpolate(str(step.name), self.contexts(), self.status_functions())
        run_it, error = self._step_condition(step)
        if not run_it and error is None:
            entry = {"number": len(self.record["steps"]) + 1, "name": name, "status": "completed",
                     "conclusion": "skipped", "started_at": None, "completed_at": None}
            self.record["steps"].append(entry)
            self.save()
            self._remember(step, "skipped", "skipped", {})
            return
        entry, log = self._new_step(name)
        outcome = "failure"
        outputs: dict[str, str] = {}
        try:
            if error:
                raise StepFailure(error)
            step_env = self._interpolated(step.env, self.contexts())
            if step.run is not None:
                outputs = self._run_script(step, step_env, log)
            else:
                outputs = self._run_action(step, name, step_env, log)
            outcome = "success"
        except StepFailure as e:
            log.error(str(e))
        except Exception as e:  # noqa: BLE001 - a runner bug fails the step, never the run
            log.error(f"{type(e).__name__}: {e}")
        continue_on_error = bool(expressions.interpolate_value(step.continue_on_error, self.contexts(),
                                                               self.status_functions()))
        conclusion = "success" if outcome == "success" or continue_on_error else "failure"
        if conclusion == "failure":
            self.failed = True
        self._remember(step, outcome, conclusion, outputs)
        self._end_step(entry, log, conclusion)

    def _remember(self, step: Step, outcome: str, conclusion: str, outputs: dict[str, str]) -> None:
        if step.id:
            self.steps_ctx[step.id] = {"outputs": outputs, "outcome": outcome, "conclusion": conclusion}

    def _process_env(self, step_env: dict[str, str]) -> dict[str, str]:
        env = self.machine.environment(self.home)
        env.update({
            "GITHUB_SHA": self.run["sha"], "GITHUB_REF": self.run["ref"],
            "GITHUB_REF_NAME": self.github()["ref_name"], "GITHUB_REF_TYPE": self.github()["ref_type"],
            "GITHUB_REPOSITORY": self.run["repository"],
            "GITHUB_REPOSITORY_OWNER": self.run["repository"].split("/")[0],
            "GITHUB_RUN_ID": str(self.run["id"]), "GITHUB_RUN_NUMBER": str(self.run["run_number"]),
            "GITHUB_RUN_ATTEMPT": "1", "GITHUB_WORKFLOW": self.workflow.name, "GITHUB_JOB": self.job.id,
            "GITHUB_EVENT_NAME": self.run["event"], "GITHUB_ACTOR": self.run.get("actor", "nzapanarcisse"),
            "GITHUB_WORKSPACE": str(self.machine.workspace), "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": "https://api.github.com", "GITHUB_ACTION": "",
        })
        env.update(self._declared_env())
        env.update(step_env)
        if self.extra_path:
            env["PATH"] = os.pathsep.join([*reversed(self.extra_path), env["PATH"]])
        return env

    def _file_commands(self, env: dict[str, str]) -> dict[str, str]:
        folder = self.machine.temp / "_runner_file_commands"
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for var, prefix in (("GITHUB_OUTPUT", "set_output"), ("GITHUB_ENV", "set_env"),
                            ("GITHUB_PATH", "add_path"), ("GITHUB_STEP_SUMMARY", "step_summary"),
                            ("GITHUB_STATE", "save_state")):
            path = folder / f"{prefix}_{uuid.uuid4()}"
            path.touch()
            files[var] = str(path)
        env.update(files)
        return files

    def _read_file_commands(self, files: dict[str, str]) -> dict[str, str]:
        def text(var: str) -> str:
            try:
                with open(files[var], encoding="utf-8") as f:
                    return f.read()
            except OSError:
                return ""
        try:
            outputs = filecommands.parse_key_values(text("GITHUB_OUTPUT"))
            self.env.update(filecommands.parse_key_values(text("GITHUB_ENV")))
        except filecommands.FileCommandError as e:
            raise StepFailure(str(e)) from e
        self.extra_path += filecommands.parse_paths(text("GITHUB_PATH"))
        for path in files.values():
            try:
                os.unlink(path)
            except OSError:
                pass
        return outputs

    def _run_script(self, step: Step, step_env: dict[str, str], log: StepLog) -> dict[str, str]:
        contexts = self.contexts(step_env)
        script = expressions.interpolate(step.run, contexts, self.status_functions())
        shell = step.shell or self.job.defaults_run.get("shell") or self.workflow.defaults_run.get("shell")
        shown, argv = SHELLS.get(shell, (f"{shell}", None))
        lines = script.rstrip("\n").splitlines() or [""]
        log.group(f"Run {lines[0]}")
        for line in lines:
            log.line(line)
        log.line(f"shell: /usr/bin/{shown}")
        shown_env = {**self._declared_env(), **step_env}
        if shown_env:
            log.line("env:")
            for k, v in shown_env.items():
                log.line(f"  {k}: {v}")
        log.endgroup()
        env = self._process_env(step_env)
        files = self._file_commands(env)
        path = self.machine.temp / f"{uuid.uuid4()}.sh"
        path.write_text(script if script.endswith("\n") else script + "\n")
        if argv is None:
            parts = shlex.split(shell.replace("{0}", str(path)))
            argv = parts if "{0}" in shell else parts + [str(path)]
        else:
            argv = argv + [str(path)]
        workdir = step.working_directory or self.job.defaults_run.get("working-directory") or \
            self.workflow.defaults_run.get("working-directory")
        cwd = self.machine.workspace / workdir if workdir else self.machine.workspace
        code = self._stream(argv, cwd, env, log, timeout=self.job.timeout_minutes * 60)
        outputs = self._read_file_commands(files)
        if code != 0:
            raise StepFailure(f"Process completed with exit code {code}.")
        return outputs

    def _stream(self, argv: list[str], cwd, env: dict[str, str], log: StepLog, *, timeout: float) -> int:
        if not cwd.is_dir():
            raise StepFailure(f"An error occurred trying to start process '/usr/bin/bash' with working directory "
                              f"'{cwd}'. No such file or directory")
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")
        deadline = time.monotonic() + timeout
        assert proc.stdout is not None
        for line in proc.stdout:
            log.output(line.rstrip("\n"))
            if time.monotonic() > deadline:
                proc.kill()
                raise StepFailure(f"The job running on runner GitHub Actions has exceeded the maximum execution "
                                  f"time of {int(timeout // 60)} minutes.")
        return proc.wait()

    def _run_action(self, step: Step, name: str, step_env: dict[str, str], log: StepLog) -> dict[str, str]:
        contexts = self.contexts(step_env)
        inputs = {str(k): to_string(expressions.interpolate_value(v, contexts, self.status_functions()))
                  for k, v in step.with_.items()}
        handler = actionsmod.resolve(step.uses)
        log.group(f"Run {step.uses}")
        shown = {**handler.defaults(inputs, self.github()), **inputs} if handler else inputs
        if shown:
            log.line("with:")
            for k, v in shown.items():
                log.line(f"  {k}: {v}")
        declared = {**self._declared_env(), **step_env}
        if declared:
            log.line("env:")
            for k, v in declared.items():
                log.line(f"  {k}: {v}")
        log.endgroup()
        if handler is None:
            raise StepFailure(f"Unable to resolve action `{step.uses}`, repository not found "
                              "(action non modélisée par le runner du labo)")
        env = self._process_env(step_env)
        files = self._file_commands(env)
        ctx = ActionContext(home=self.home, uses=step.uses, inputs=inputs, log=log, machine=self.machine,
                            env=env, github=self.github(), run_root=self.paths.root)
        for token_input in ("token", "password", "github-token"):
            if ctx.inputs.get(token_input):
                self.masker.add(ctx.inputs[token_input])
        handler.run(ctx)
        outputs = {**self._read_file_commands(files), **ctx.outputs}
        for post in ctx.post:
            self.posts.append((f"Post {name}", ctx, post))
        return outputs

    def _post_step(self, name: str, ctx: ActionContext, post: Callable) -> None:
        entry, log = self._new_step(name)
        ctx.log = log
        log.line("Post job cleanup.")
        try:
            post(ctx)
            conclusion = "success"
        except StepFailure as e:
            log.error(str(e))
            conclusion = "failure"
        self._end_step(entry, log, conclusion)

    def _outputs(self) -> dict[str, str]:
        contexts = self.contexts()
        result = {}
        for key, value in self.job.outputs.items():
            try:
                result[key] = to_string(expressions.interpolate_value(value, contexts, self.status_functions()))
            except expressions.ExpressionError:
                result[key] = ""
        return {k: v for k, v in result.items() if v != ""}


def clean_machine(machine: Machine) -> None:
    """Free the disk a finished job used (its workspace), keeping nothing the logs need."""
    shutil.rmtree(machine.root / "_work", ignore_errors=True)
