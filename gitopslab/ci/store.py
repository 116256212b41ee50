"""Workflow runs on disk: ``$GITOPSLAB_HOME/ci/runs/<id>/``.

Each run folder holds ``run.json`` (status, conclusion, jobs and steps, as
GitHub's REST API names them), ``logs/<job>/<n>_<step>.txt`` (the layout of
GitHub's log archive, lines prefixed by their timestamp), ``work/<job>/``
(the job's runner machine: workspace, temp, home) and ``artifacts/<name>/``.
Only the run's own process writes its ``run.json`` (atomically).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from gitopslab.home import Home
from gitopslab.locks import file_lock


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def safe_name(text: str) -> str:
    """A file name from a step or job name, as GitHub's log archive shapes them."""
    return re.sub(r"[/\\:*?\"<>|\x00-\x1f]", "", text).strip()[:90] or "step"


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def record(self) -> Path:
        return self.root / "run.json"

    def job_logs(self, job_id: str) -> Path:
        return self.root / "logs" / safe_name(job_id)

    def step_log(self, job_id: str, number: int, name: str) -> Path:
        return self.job_logs(job_id) / f"{number}_{safe_name(name)}.txt"

    def machine(self, job_id: str) -> Path:
        return self.root / "work" / safe_name(job_id)

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"


class RunStore:
    def __init__(self, home: Home):
        self.home = home
        self.root = home.root / "ci"
        self.runs_dir = self.root / "runs"

    def _locked(self):
        return file_lock(self.root / ".lock")

    def _counters(self) -> dict:
        try:
            return json.loads((self.root / "counters.json").read_text())
        except (OSError, ValueError):
            return {}

    def create(self, record: dict) -> dict:
        """Give ``record`` a run id and a run number (per repository and workflow) and store it."""
        with self._locked():
            counters = self._counters()
            run_id = int(counters.get("last_run_id", 0)) + 1
            key = f"{record['repository']}:{record['workflow']}"
            number = int(counters.get("run_numbers", {}).get(key, 0)) + 1
            counters["last_run_id"] = run_id
            counters.setdefault("run_numbers", {})[key] = number
            _write_json(self.root / "counters.json", counters)
            record = {**record, "id": run_id, "run_number": number, "run_attempt": 1,
                      "status": "queued", "conclusion": None, "created_at": now_iso(), "jobs": []}
            self.paths(run_id).root.mkdir(parents=True, exist_ok=True)
            self.save(record)
        return record

    def paths(self, run_id: int) -> RunPaths:
        return RunPaths(self.runs_dir / str(int(run_id)))

    def save(self, record: dict) -> None:
        _write_json(self.paths(record["id"]).record, record)

    def load(self, run_id: int) -> dict | None:
        try:
            return json.loads(self.paths(run_id).record.read_text())
        except (OSError, ValueError):
            return None

    def list(self) -> list[dict]:
        if not self.runs_dir.is_dir():
            return []
        ids = sorted((int(p.name) for p in self.runs_dir.iterdir() if p.name.isdigit()), reverse=True)
        return [r for r in (self.load(i) for i in ids) if r is not None]

    def claim(self, key: str) -> bool:
        """True once per ``key`` across every process of the home (two clusters get the same push)."""
        claims = self.root / "claims"
        claims.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(claims / re.sub(r"[^A-Za-z0-9._-]", "_", key), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        os.close(fd)
        return True


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False))
    os.replace(tmp, path)
