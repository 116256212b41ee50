"""What the ``argocd`` CLI prints, as pure functions of Application objects (``cmd/argocd/commands/app.go``).

Go's ``text/tabwriter`` (``tabwrite``), Go time and duration formatting, and
the tables of ``app list``, ``app get``, ``app history``, the operation
summary and the ``TIMESTAMP …`` lines ``app sync`` prints while it waits.
Everything takes plain dicts (the objects as the API returns them) and
returns text; the command module does the I/O.
"""
from __future__ import annotations

from datetime import datetime, timezone

PRINT_OP_WIDTH = 20
WAIT_FORMAT = ("{}\t{:>5}\t{:>10}\t{:>10}\t{:>20}\t{:>8}\t{:>7}\t{:>10}\t{}")
LIST_HEADERS = ["NAME", "CLUSTER", "NAMESPACE", "PROJECT", "STATUS", "HEALTH", "SYNCPOLICY", "CONDITIONS"]
MAX_REVISION_CHARS = 7


# --- Go text/tabwriter ---------------------------------------------------------

def tabwrite(text: str, *, minwidth: int = 0, padding: int = 2) -> str:
    """``tabwriter.NewWriter(w, minwidth, 0, padding, ' ', 0)`` fed with ``text`` then flushed."""
    raw_lines = text.split("\n")
    trailing_newline = text.endswith("\n")
    if trailing_newline:
        raw_lines = raw_lines[:-1]
    lines = [line.split("\t") for line in raw_lines]
    out: list[str] = []
    widths: list[int] = []

    def write_lines(start: int, end: int) -> None:
        for line in lines[start:end]:
            parts = []
            for j, cell in enumerate(line):
                if j < len(widths):
                    parts.append(cell + " " * max(0, widths[j] - len(cell)))
                else:
                    parts.append(cell)
            out.append("".join(parts))

    def fmt(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    fmt(0, len(lines))
    return "\n".join(out) + ("\n" if trailing_newline else "")


# --- Go formatting ------------------------------------------------------------

def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def go_time(text: str | None, *, tz=None) -> str:
    """``metav1.Time.String()``: ``2026-01-02 15:04:05 +0100 CET`` (local time); nil → ``<nil>``."""
    when = parse_time(text)
    if when is None:
        return "<nil>"
    local = when.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M:%S %z ") + (local.tzname() or "UTC")


def go_timestamp(now: datetime | None = None) -> str:
    """``time.Now().Format("2006-01-02T15:04:05-07:00")``."""
    local = (now or datetime.now(timezone.utc)).astimezone()
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%dT%H:%M:%S") + offset[:3] + ":" + offset[3:]


def go_duration(seconds: float) -> str:
    """``time.Duration.String()`` of whole seconds: ``0s``, ``5s``, ``1m5s``, ``2h0m3s``."""
    seconds = int(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{sign}{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{sign}{minutes}m{secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}h{minutes}m{secs}s"


def op_line(label: str, value) -> str:
    return f"{label:<{PRINT_OP_WIDTH}}{value}\n"


# --- helpers on Application dicts -----------------------------------------------

def qualified_name(app: dict) -> str:
    meta = app.get("metadata") or {}
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta.get("name", "")


def _spec(app: dict) -> dict:
    return app.get("spec") or {}


def _status(app: dict) -> dict:
    return app.get("status") or {}


def source_of(app: dict) -> dict:
    spec = _spec(app)
    if spec.get("source"):
        return spec["source"]
    sources = spec.get("sources") or []
    return sources[0] if sources else {}


def server_of(app: dict) -> str:
    dest = _spec(app).get("destination") or {}
    return dest.get("server") or dest.get("name") or ""


def automated_enabled(app: dict) -> bool:
    automated = (_spec(app).get("syncPolicy") or {}).get("automated")
    return automated is not None and automated.get("enabled") is not False


def format_sync_policy(app: dict) -> str:
    if not automated_enabled(app):
        return "Manual"
    return "Auto-Prune" if _spec(app)["syncPolicy"]["automated"].get("prune") else "Auto"


def format_conditions_summary(app: dict) -> str:
    counts: dict[str, int] = {}
    for condition in _status(app).get("conditions") or []:
        counts[condition.get("type", "")] = counts.get(condition.get("type", ""), 0) + 1
    items = sorted(f"{t}({n})" if n > 1 else t for t, n in counts.items())
    return ",".join(items) if items else "<none>"


def is_commit_sha(revision: str) -> bool:
    import re
    return bool(re.fullmatch(r"[0-9a-f]{40}", revision or "")) or bool(re.fullmatch(r"[0-9a-f]{7,40}", revision or ""))


# --- app list -----------------------------------------------------------------

def app_list_table(apps: list[dict], output: str = "wide") -> str:
    headers = list(LIST_HEADERS) + (["REPO", "PATH", "TARGET"] if output == "wide" else [])
    rows = ["\t".join(headers)]
    for app in apps:
        source = source_of(app)
        values = [qualified_name(app), server_of(app), (_spec(app).get("destination") or {}).get("namespace", ""),
                  _spec(app).get("project") or "default", (_status(app).get("sync") or {}).get("status", ""),
                  (_status(app).get("health") or {}).get("status", ""), format_sync_policy(app),
                  format_conditions_summary(app)]
        if output == "wide":
            values += [source.get("repoURL", ""), source.get("path", ""), source.get("targetRevision", "")]
        rows.append("\t".join(str(v) for v in values))
    return tabwrite("\n".join(rows) + "\n")


# --- cluster list ---------------------------------------------------------------

def cluster_list_table(rows: list[dict]) -> str:
    """``printClusterTable``: SERVER NAME VERSION STATUS MESSAGE PROJECT (tabwriter, padding 2)."""
    lines = ["SERVER\tNAME\tVERSION\tSTATUS\tMESSAGE\tPROJECT"]
    lines += ["\t".join(row[k] for k in ("server", "name", "version", "status", "message", "project"))
              for row in rows]
    return tabwrite("\n".join(lines) + "\n", padding=2)


# --- app get ------------------------------------------------------------------

def app_summary(app: dict, app_url: str) -> str:
    spec, status = _spec(app), _status(app)
    out = op_line("Name:", qualified_name(app))
    out += op_line("Project:", spec.get("project") or "default")
    out += op_line("Server:", server_of(app))
    out += op_line("Namespace:", (spec.get("destination") or {}).get("namespace", ""))
    out += op_line("URL:", app_url)
    sources = spec.get("sources") if not spec.get("source") else None
    out += "Sources:\n" if sources else "Source:\n"
    for source in sources or [spec.get("source") or {}]:
        out += _source_details(source)
    out += op_line("SyncWindow:", "Sync Allowed")
    policy = "Manual"
    if automated_enabled(app):
        policy = "Automated" + (" (Prune)" if spec["syncPolicy"]["automated"].get("prune") else "")
    out += op_line("Sync Policy:", policy)
    sync = status.get("sync") or {}
    target = source_of(app).get("targetRevision", "")
    text = sync.get("status", "")
    if text == "Synced":
        text += " to " + target
    elif text == "OutOfSync":
        text += " from " + target
    revision = sync.get("revision") or ""
    if not is_commit_sha(target) and len(revision) > MAX_REVISION_CHARS:
        text += f" ({revision[:MAX_REVISION_CHARS]})"
    out += op_line("Sync Status:", text)
    out += op_line("Health Status:", (status.get("health") or {}).get("status", ""))
    return out


def _source_details(source: dict) -> str:
    out = op_line("- Repo:", source.get("repoURL", ""))
    out += op_line("  Target:", source.get("targetRevision", ""))
    if source.get("path"):
        out += op_line("  Path:", source["path"])
    if source.get("ref"):
        out += op_line("  Ref:", source["ref"])
    value_files = (source.get("helm") or {}).get("valueFiles") or []
    if value_files:
        out += op_line("  Helm Values:", ",".join(value_files))
    prefix = (source.get("kustomize") or {}).get("namePrefix")
    if prefix:
        out += op_line("  Name Prefix:", prefix)
    return out


def conditions_table(app: dict) -> str:
    rows = ["CONDITION\tMESSAGE\tLAST TRANSITION"]
    for c in _status(app).get("conditions") or []:
        rows.append(f"{c.get('type', '')}\t{c.get('message', '')}\t{go_time(c.get('lastTransitionTime'))}")
    return tabwrite("\n".join(rows) + "\n")


def operation_result(state: dict | None, *, now: datetime | None = None) -> str:
    if not state:
        return ""
    out = ""
    if state.get("syncResult") is not None:
        out += op_line("Operation:", "Sync")
        out += op_line("Sync Revision:", state["syncResult"].get("revision", ""))
    out += op_line("Phase:", state.get("phase", ""))
    out += op_line("Start:", go_time(state.get("startedAt")))
    out += op_line("Finished:", go_time(state.get("finishedAt")))
    started = parse_time(state.get("startedAt"))
    finished = parse_time(state.get("finishedAt")) or now or datetime.now(timezone.utc)
    out += op_line("Duration:", go_duration((finished - started).total_seconds() if started else 0))
    if state.get("message"):
        out += op_line("Message:", state["message"])
    return out


def header(app: dict, app_url: str, *, show_operation: bool = False) -> str:
    """``printHeader``: summary, conditions, operation."""
    out = app_summary(app, app_url)
    if _status(app).get("conditions"):
        out += "\n" + conditions_table(app) + "\n"
    if show_operation and _status(app).get("operationState"):
        out += "\n" + operation_result(_status(app)["operationState"])
    return out


def _key(r: dict) -> tuple[str, str, str, str]:
    return r.get("group", ""), r.get("kind", ""), r.get("namespace", ""), r.get("name", "")


def _key_string(key: tuple[str, str, str, str]) -> str:
    """``kube.ResourceKey.String()``: ``group/kind/namespace/name``."""
    return "/".join(key)


def resource_states(app: dict, health: dict | None = None) -> list[dict]:
    """``getResourceStates``: last operation results first, then the other resources sorted by key.

    ``health`` maps (group, kind, namespace, name) to a health status
    (argocd-server fills it from the resource tree in 3.x).
    """
    health = health or {}
    by_key = {_key(r): r for r in _status(app).get("resources") or []}
    states = []
    result = ((_status(app).get("operationState") or {}).get("syncResult") or {})
    for res in result.get("resources") or []:
        key = _key(res)
        sync, res_health = res.get("hookPhase", ""), res.get("status", "")
        if key in by_key and not res.get("hookType"):
            resource = by_key[key]
            res_health = health.get(key) or ((resource.get("health") or {}).get("status", ""))
            sync = resource.get("status", "")
        states.append({"group": key[0], "kind": key[1], "namespace": key[2], "name": key[3], "status": sync,
                       "health": res_health, "hook": res.get("hookType", ""), "message": res.get("message", "")})
        by_key.pop(key, None)
    for key in sorted(by_key, key=_key_string):
        res = by_key[key]
        states.append({"group": key[0], "kind": key[1], "namespace": key[2], "name": key[3],
                       "status": res.get("status", ""),
                       "health": health.get(key) or ((res.get("health") or {}).get("status", "")),
                       "hook": "", "message": ""})
    return states


def resources_table(app: dict, health: dict | None = None) -> str:
    rows = ["GROUP\tKIND\tNAMESPACE\tNAME\tSTATUS\tHEALTH\tHOOK\tMESSAGE"]
    for s in resource_states(app, health):
        rows.append("\t".join([s["group"], s["kind"], s["namespace"], s["name"], s["status"], s["health"],
                               s["hook"], s["message"]]))
    return tabwrite("\n".join(rows) + "\n")


def app_get(app: dict, app_url: str, health: dict | None = None, *, show_operation: bool = False) -> str:
    out = header(app, app_url, show_operation=show_operation)
    if _status(app).get("resources"):
        out += "\n" + resources_table(app, health)
    return out


# --- app history ----------------------------------------------------------------

def history_table(history: list[dict]) -> str:
    groups: dict[str, list[tuple[int, str, str]]] = {}
    for entry in history or []:
        source = entry.get("source") or {}
        revision = source.get("targetRevision", "")
        sha = entry.get("revision") or ""
        if len(sha) >= MAX_REVISION_CHARS:
            revision = f"{revision} ({sha[:MAX_REVISION_CHARS]})"
        groups.setdefault(source.get("repoURL", ""), []).append(
            (entry.get("id", 0), go_time(entry.get("deployedAt")), revision))
    rows = []
    for i, (repo, entries) in enumerate(groups.items()):
        rows.append(f"SOURCE\t{repo}")
        rows.append("ID\tDATE\tREVISION")
        rows += [f"{id_}\t{date}\t{rev}" for id_, date, rev in entries]
        if i < len(groups) - 1:
            rows.append("")
    return tabwrite("\n".join(rows) + "\n") if rows else ""


def find_history(app: dict, history_id: int) -> dict:
    """``findRevisionHistory``: -1 = the previous deployment; ValueError with Argo CD's message."""
    history = _status(app).get("history") or []
    name = (app.get("metadata") or {}).get("name", "")
    if history_id == -1:
        if len(history) < 2:
            raise ValueError(f"application '{name}' should have at least two successful deployments")
        return history[-2]
    for entry in history:
        if entry.get("id") == history_id:
            return entry
    raise ValueError(f"application '{name}' does not have deployment id '{history_id}' in history")


# --- app sync / wait ------------------------------------------------------------

def wait_header() -> str:
    return WAIT_FORMAT.format("TIMESTAMP", "GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK", "MESSAGE")


def wait_line(state: dict, timestamp: str) -> str:
    return WAIT_FORMAT.format(timestamp, state["group"], state["kind"], state["namespace"], state["name"],
                              state["status"], state["health"], state["hook"], state["message"])


def merge_state(previous: dict, new: dict) -> bool:
    """``resourceState.Merge``: non-blank new fields overwrite; True when something changed."""
    updated = False
    for key in ("status", "health", "hook", "message"):
        if new.get(key) and previous.get(key) != new[key]:
            previous[key] = new[key]
            updated = True
    return updated


def operation_in_progress(app: dict) -> bool:
    """``checkAppWaitConditions``: an operation is requested, running, or not yet followed by a reconcile."""
    if app.get("operation"):
        return True
    state = _status(app).get("operationState")
    if not state:
        return False
    if not state.get("finishedAt"):
        return True
    dry_run = ((state.get("operation") or {}).get("sync") or {}).get("dryRun")
    reconciled = parse_time(_status(app).get("reconciledAt"))
    finished = parse_time(state.get("finishedAt"))
    return not dry_run and (reconciled is None or (finished is not None and reconciled < finished))
