"""A workflow run: read the workflow at the pushed commit, run its jobs in ``needs`` order.

Jobs of one dependency level run one after the other (a 2-core lab has no
spare runners); a job whose ``needs`` did not all succeed is skipped unless
its ``if:`` uses a status function (``always()``, ``failure()``…). The run
concludes ``failure`` when a job failed, ``success`` otherwise.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

from gitopslab.ci import expressions, secrets as secretsmod, workflow as workflowmod
from gitopslab.ci.exprvalues import truthy
from gitopslab.ci.jobs import JobRunner, clean_machine
from gitopslab.ci.machine import RUNNER_NETWORK, Machine, allocate_address
from gitopslab.ci.store import RunStore, now_iso
from gitopslab.home import Home

ZERO_SHA = "0" * 40


class RunError(Exception):
    pass


def bare_repo(home: Home, repository: str) -> Path:
    from gitopslab.gitserver.repos import RepoStore

    store = RepoStore(home)
    if not store.exists(repository):
        raise RunError(f"dépôt inconnu du serveur Git du labo : {repository}")
    return store.path(repository)


def git(home: Home, repository: str, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", "--git-dir", str(bare_repo(home, repository)), *args], capture_output=True,
                          text=True, env=dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1"))
    if check and done.returncode != 0:
        raise RunError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout


def default_branch(home: Home, repository: str) -> str:
    return git(home, repository, "symbolic-ref", "--short", "HEAD").strip()


def resolve(home: Home, repository: str, ref: str) -> str:
    return git(home, repository, "rev-parse", "--verify", f"{ref}^{{commit}}").strip()


def workflow_files(home: Home, repository: str, sha: str) -> list[str]:
    out = git(home, repository, "ls-tree", "--name-only", f"{sha}:{workflowmod.WORKFLOWS_DIR}", check=False)
    return [f"{workflowmod.WORKFLOWS_DIR}/{n}" for n in out.split() if n.endswith((".yml", ".yaml"))]


def read_workflow(home: Home, repository: str, sha: str, path: str) -> str:
    return git(home, repository, "show", f"{sha}:{path}")


def changed_files(home: Home, repository: str, before: str, after: str) -> list[str] | None:
    if not before or before == ZERO_SHA:
        return None
    out = git(home, repository, "diff", "--name-only", before, after, check=False)
    return [line for line in out.splitlines() if line]


def push_payload(home: Home, repository: str, ref: str, before: str, after: str) -> dict:
    fmt = "%H%x00%s%n%b%x00%an%x00%ae%x00%cI"
    sha, message, name, email, date = (git(home, repository, "show", "-s", f"--format={fmt}", after)
                                       .rstrip("\n").split("\x00") + [""] * 5)[:5]
    owner, name_only = repository.split("/")
    head = {"id": sha, "message": message.strip(), "timestamp": date, "author": {"name": name, "email": email},
            "url": f"https://github.com/{repository}/commit/{sha}"}
    return {"ref": ref, "before": before, "after": after, "head_commit": head, "commits": [head],
            "pusher": {"name": owner}, "sender": {"login": owner},
            "repository": {"full_name": repository, "name": name_only, "owner": {"login": owner, "name": owner},
                           "html_url": f"https://github.com/{repository}",
                           "clone_url": f"https://github.com/{repository}.git",
                           "default_branch": default_branch(home, repository)}}


def create_run(home: Home, repository: str, workflow_path: str, *, ref: str, sha: str, event: str = "push",
               before: str = "") -> dict:
    text = read_workflow(home, repository, sha, workflow_path)
    try:
        name = workflowmod.parse(text, workflow_path).name
        error = None
    except workflowmod.WorkflowError as e:
        name, error = workflow_path, str(e)
    payload = push_payload(home, repository, ref, before, sha)
    record = RunStore(home).create({
        "repository": repository, "workflow": workflow_path, "name": name, "event": event, "ref": ref,
        "head_branch": ref.rsplit("/", 1)[-1], "sha": sha, "actor": payload["sender"]["login"],
        "display_title": payload["head_commit"]["message"].splitlines()[0] if payload["head_commit"]["message"] else name,
        "event_payload": payload,
    })
    if error:
        record.update(status="completed", conclusion="failure", error=error, completed_at=now_iso())
        RunStore(home).save(record)
    return record


def _job_condition(job, needs: dict, github: dict) -> bool:
    needs_ok = all(n["result"] == "success" for n in needs.values())
    functions = {"success": lambda: needs_ok, "failure": lambda: any(n["result"] == "failure" for n in needs.values()),
                 "always": lambda: True, "cancelled": lambda: False}
    contexts = {"github": github, "needs": needs, "vars": {}, "inputs": {}}
    try:
        return truthy(expressions.evaluate(expressions.condition_source(job.if_), contexts, functions))
    except expressions.ExpressionError:
        return False


def execute(home: Home, run_id: int, *, echo: Callable[[str], None] | None = None, keep_workspaces: bool = False) -> dict:
    """Run every job of run ``run_id``; returns the completed record."""
    store = RunStore(home)
    record = store.load(run_id)
    if record is None:
        raise RunError(f"exécution inconnue : {run_id}")
    if record["status"] == "completed":
        return record
    paths = store.paths(run_id)
    record.update(status="in_progress", started_at=now_iso(), pid=os.getpid())
    store.save(record)
    try:
        flow = workflowmod.parse(read_workflow(home, record["repository"], record["sha"], record["workflow"]),
                                 record["workflow"])
    except (workflowmod.WorkflowError, RunError) as e:
        record.update(status="completed", conclusion="failure", error=str(e), completed_at=now_iso())
        store.save(record)
        return record
    secrets = {**secretsmod.load(home, record["repository"]), "GITHUB_TOKEN": _github_token(home)}
    results: dict[str, dict] = {}
    for level in flow.levels():
        for job_id in level:
            job = flow.jobs[job_id]
            needs = {n: results[n] for n in job.needs}
            github = {"repository": record["repository"], "sha": record["sha"], "ref": record["ref"],
                      "event_name": record["event"], "run_number": str(record["run_number"])}
            if not _job_condition(job, needs, github):
                record["jobs"].append({"id": job_id, "name": job.display_name, "status": "completed",
                                       "conclusion": "skipped", "steps": [], "outputs": {}})
                store.save(record)
                results[job_id] = {"result": "skipped", "outputs": {}}
                if echo:
                    echo(f"\x00skipped {job_id}")
                continue
            machine = Machine(paths.machine(job_id), record["repository"], allocate_address(home, RUNNER_NETWORK))
            runner = JobRunner(home=home, workflow=flow, job=job, run=record, paths=paths, needs=needs,
                               secrets=secrets, machine=machine, save=lambda: store.save(record), echo=echo)
            result = runner.execute()
            results[job_id] = {"result": result.conclusion, "outputs": result.outputs}
            if not keep_workspaces:
                clean_machine(machine)
    failed = any(r["result"] == "failure" for r in results.values())
    record.update(status="completed", conclusion="failure" if failed else "success", completed_at=now_iso())
    store.save(record)
    return record


def _github_token(home: Home) -> str:
    from gitopslab.gitserver.auth import ensure_token
    from gitopslab.gitserver.layout import GitPaths

    return ensure_token(GitPaths.of(home).token_file)


def spawn(home: Home, run_id: int, *, time_scale: float | None = None) -> subprocess.Popen:
    """Run ``run_id`` in a background process (``python -m gitopslab.ci execute RUN``)."""
    env = dict(os.environ, GITOPSLAB_HOME=str(home.root))
    if time_scale:
        env["GITOPSLAB_TIME_SCALE"] = str(time_scale)
    log_path = RunStore(home).paths(run_id).root / "runner.log"
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "gitopslab.ci", "execute", str(run_id)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, close_fds=True)
