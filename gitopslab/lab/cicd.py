"""The CI/CD workshop from a notebook: the ``gitopslab`` command, pipeline runs, the GitOps repository.

``gitopslab(...)`` runs the lab's command line exactly as a terminal would
(``gitopslab ci secret set …``, ``gitopslab ci list``) and prints its output.
``wait_for_run`` follows the GitHub Actions run a push started, the way the
"Actions" tab shows it, in French.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

from gitopslab.home import Home


class CommandOutput(str):
    """What a command printed; already shown, so a notebook does not display it a second time."""

    def _ipython_display_(self) -> None:
        pass


def gitopslab(*args: str, input: str | None = None, echo: bool = True, check: bool = True) -> CommandOutput:
    """Run ``gitopslab ARGS…`` (this Python's package) and print what it prints; ``input`` goes to stdin."""
    proc = subprocess.run([sys.executable, "-m", "gitopslab", *args], capture_output=True, text=True,
                          input=input, env=dict(os.environ))
    out = proc.stdout + proc.stderr
    if echo and out:
        print(out, end="" if out.endswith("\n") else "\n")
    if check and proc.returncode != 0:
        raise RuntimeError(f"gitopslab {' '.join(args)} a échoué (code {proc.returncode})")
    return CommandOutput(proc.stdout)


def find_run(repository: str, sha: str, home: Home | None = None) -> dict | None:
    from gitopslab.ci.store import RunStore

    for record in RunStore(home or Home.current()).list():
        if record.get("repository") == repository and record.get("sha") == sha:
            return record
    return None


def wait_for_run(repository: str, sha: str, *, timeout: float = 900, home: Home | None = None) -> dict | None:
    """Wait for the run a push of ``sha`` started, printing each job's state as it changes."""
    start = time.monotonic()
    shown: dict[str, str] = {}
    record = None
    announced = False
    while time.monotonic() - start < timeout:
        record = find_run(repository, sha, home)
        if record is not None:
            if not announced:
                print(f"Exécution {record['id']} « {record['name']} » déclenchée par le push de {sha[:7]}")
                announced = True
            for job in record.get("jobs") or []:
                state = job.get("conclusion") or job.get("status") or ""
                if state and shown.get(job["id"]) != state:
                    shown[job["id"]] = state
                    print(f"[{time.monotonic() - start:5.0f} s] {job['id']} : {state}", flush=True)
            if record.get("status") == "completed":
                icon = "✅" if record.get("conclusion") == "success" else "❌"
                print(f"{icon} Exécution {record['id']} terminée : {record.get('conclusion')}")
                return record
        time.sleep(0.5)
    print(f"❌ Pas d'exécution terminée pour {repository}@{sha[:7]} après {timeout:.0f} s.")
    return record


def head_commit(repository: str, branch: str | None = None, home: Home | None = None) -> str:
    """The commit a branch of a lab repository points to (default branch when ``branch`` is None)."""
    from gitopslab.ci import runner

    home = home or Home.current()
    return runner.resolve(home, repository, branch or runner.default_branch(home, repository))
