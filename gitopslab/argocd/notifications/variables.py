"""What conditions and templates see (pure given its callbacks; AC ``util/notification/settings``, ``expression``).

``app`` (the Application as served), ``appProject`` (its AppProject or an
empty map), ``context`` (argocd-notifications-cm ``context`` plus the legacy
``notificationType`` = service name), ``secrets`` (the Secret's values, as
bytes), and the helper namespaces ``time``, ``strings`` and ``repo``
(``RepoURLToHTTPS``, ``FullNameByRepoURL``, ``QueryEscape``,
``GetCommitMetadata``). When sending, ``serviceType`` and ``recipient`` are
added.
"""
from __future__ import annotations

import re
import urllib.parse
from typing import Callable

from gitopslab.argocd import gotime
from gitopslab.argocd.gotemplate import GoStruct

CommitLookup = Callable[[str, str, str], dict]   # (repoURL, sha, project) -> {author, date, message, tags}

_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^:/]+):(?P<path>(?!//).*)$")


class CommitMetadata(GoStruct):
    go_type = "shared.CommitMetadata"


def _split_repo_url(raw: str) -> tuple[str, str]:
    """(host[:port], path) of a Git URL in URL or scp-like (``git@host:org/repo``) form."""
    if "://" not in raw:
        m = _SCP_LIKE.match(raw)
        if m:
            return m.group("host"), "/" + m.group("path").lstrip("/")
        return "", raw
    parsed = urllib.parse.urlsplit(raw)
    host = parsed.hostname or ""
    if parsed.port:
        host += f":{parsed.port}"
    return host, parsed.path


def repo_url_to_https(raw: str) -> str:
    host, path = _split_repo_url(raw)
    if not host:
        raise ValueError(f'parse "{raw}": missing host')
    return f"https://{host}{path if path.startswith('/') or not path else '/' + path}"


def full_name_by_repo_url(raw: str) -> str:
    _, path = _split_repo_url(raw)
    path = re.sub(r"\.git$", "", path)
    parts = [p for p in path.split("/") if p]
    return "/".join(parts[:2]) if len(parts) >= 2 else path


def query_escape(text: str) -> str:
    return urllib.parse.quote_plus(text, safe="")


def strings_helpers() -> dict:
    return {"ReplaceAll": lambda s, old, new: s.replace(old, new), "ToUpper": lambda s: s.upper(),
            "ToLower": lambda s: s.lower()}


def repo_helpers(app: dict, commit_lookup: CommitLookup | None) -> dict:
    def get_commit_metadata(sha: str):
        source = (app.get("spec") or {}).get("source") or {}
        repo_url = source.get("repoURL")
        if repo_url is None:
            raise ValueError("failed to get application source repo URL")
        project = (app.get("spec") or {}).get("project")
        if project is None:
            raise ValueError("failed to get application project")
        if commit_lookup is None:
            raise ValueError("repository server is not available")
        meta = commit_lookup(repo_url, sha, project)
        date = meta.get("date")
        return CommitMetadata(Message=meta.get("message", ""), Author=meta.get("author", ""),
                              Date=gotime.parse_rfc3339(date) if isinstance(date, str) and date else date,
                              Tags=list(meta.get("tags") or []))

    return {"RepoURLToHTTPS": repo_url_to_https, "FullNameByRepoURL": full_name_by_repo_url,
            "QueryEscape": query_escape, "GetCommitMetadata": get_commit_metadata}


def build(app: dict, *, context: dict[str, str], secrets: dict[str, bytes], app_project: dict | None,
          service: str = "", recipient: str | None = None, commit_lookup: CommitLookup | None = None) -> dict:
    """Variables for a trigger (no ``recipient``) or for rendering a notification to one destination."""
    variables = {
        "app": app,
        "context": {**context, "notificationType": service},
        "secrets": dict(secrets),
        "appProject": app_project or {},
        "time": gotime.helpers(),
        "strings": strings_helpers(),
        "repo": repo_helpers(app, commit_lookup),
    }
    if recipient is not None:
        variables["serviceType"] = service
        variables["recipient"] = recipient
    return variables
