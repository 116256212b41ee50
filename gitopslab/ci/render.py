"""Runs as a learner reads them (French framing, GitHub's step logs kept as printed). Pure."""
from __future__ import annotations

from datetime import datetime

from gitopslab.ci.logbook import read_lines
from gitopslab.ci.store import RunPaths

ICONS = {"success": "✓", "failure": "✗", "skipped": "⊘", "cancelled": "⊘", None: "●"}
WORDS = {"success": "succès", "failure": "échec", "skipped": "ignoré", "cancelled": "annulé",
         "in_progress": "en cours", "queued": "en file d'attente", "completed": "terminé"}


def icon(conclusion: str | None) -> str:
    return ICONS.get(conclusion, "●")


def state_word(record: dict) -> str:
    if record.get("status") == "completed":
        return WORDS.get(record.get("conclusion") or "", record.get("conclusion") or "?")
    return WORDS.get(record.get("status") or "", record.get("status") or "?")


def duration(start: str | None, end: str | None) -> str:
    if not start or not end:
        return ""
    try:
        seconds = (datetime.fromisoformat(end.replace("Z", "+00:00")) -
                   datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
    except ValueError:
        return ""
    return f"{int(seconds // 60)} min {int(seconds % 60)} s" if seconds >= 60 else f"{int(seconds)} s"


def summary(record: dict) -> list[str]:
    lines = [f"{icon(record.get('conclusion'))} {record['name']} · exécution n° {record['run_number']} "
             f"(id {record['id']}) : {state_word(record)}",
             f"  dépôt {record['repository']} · branche {record.get('head_branch', '')} · commit "
             f"{record['sha'][:7]} · déclencheur {record['event']}",
             f"  « {record.get('display_title', '')} »  {duration(record.get('started_at'), record.get('completed_at'))}"]
    if record.get("error"):
        lines += ["  " + line for line in record["error"].splitlines()]
    for job in record.get("jobs", []):
        took = duration(job.get("started_at"), job.get("completed_at"))
        lines.append(f"  {icon(job.get('conclusion'))} {job['name']}" + (f" ({took})" if took else ""))
    return lines


def _step_lines(raw: list[str]) -> list[str]:
    shown = []
    for line in raw:
        if line.startswith("##[group]"):
            shown.append("▸ " + line[len("##[group]"):])
        elif line.startswith("##[endgroup]"):
            continue
        elif line.startswith("##[error]"):
            shown.append("Error: " + line[len("##[error]"):])
        elif line.startswith("##[warning]"):
            shown.append("Warning: " + line[len("##[warning]"):])
        elif line.startswith("##[notice]"):
            shown.append("Notice: " + line[len("##[notice]"):])
        else:
            shown.append(line)
    return shown


def job_logs(paths: RunPaths, job: dict) -> list[str]:
    lines = [f"── Job « {job['name']} » : {icon(job.get('conclusion'))} "
             f"{WORDS.get(job.get('conclusion') or job.get('status') or '', '')}"]
    if job.get("conclusion") == "skipped" and not job.get("steps"):
        lines.append("   (job ignoré : une dépendance « needs » n'a pas réussi, ou sa condition « if » est fausse)")
    for step in job.get("steps", []):
        lines.append(f"{icon(step.get('conclusion'))} {step['name']}")
        if step.get("conclusion") == "skipped":
            continue
        path = paths.step_log(job["id"], step["number"], step["name"])
        lines += ["    " + line for line in _step_lines(read_lines(path))]
    return lines


def run_logs(paths: RunPaths, record: dict, job_id: str | None = None) -> list[str]:
    lines = summary(record) + [""]
    for job in record.get("jobs", []):
        if job_id and job["id"] != job_id:
            continue
        lines += job_logs(paths, job) + [""]
    return lines


def table(records: list[dict]) -> list[str]:
    rows = [("ID", "ÉTAT", "WORKFLOW", "DÉPÔT", "BRANCHE", "COMMIT", "N°", "DURÉE")]
    for r in records:
        rows.append((str(r["id"]), f"{icon(r.get('conclusion'))} {state_word(r)}", r["name"][:40], r["repository"],
                     r.get("head_branch", ""), r["sha"][:7], str(r["run_number"]),
                     duration(r.get("started_at"), r.get("completed_at"))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]

