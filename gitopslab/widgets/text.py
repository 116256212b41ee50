"""Text shown in widgets: helpers' printed output, Kubernetes error messages, HTML blocks (pure)."""
from __future__ import annotations

import html
import io
import json
from contextlib import redirect_stdout
from datetime import datetime, timezone

from kubernetes.client.exceptions import ApiException


def captured(func, *args, **kwargs) -> str:
    """What ``func`` prints (the lab helpers print their French output), as a string."""
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        func(*args, **kwargs)
    return buffer.getvalue()


def api_message(error: ApiException) -> str:
    """The message Kubernetes (or Argo CD through it) put in its Status, verbatim."""
    try:
        return json.loads(error.body).get("message") or error.reason or str(error)
    except (TypeError, ValueError, AttributeError):
        return error.reason or str(error)


def pre(text: str, *, color: str | None = None) -> str:
    """A preformatted HTML block of ``text`` (escaped)."""
    style = "white-space: pre-wrap; font-size: 12px; margin: 0; max-height: 480px; overflow: auto;" + (f" color: {color};" if color else "")
    return f'<pre style="{style}">{html.escape(text)}</pre>'


def relative_fr(seconds: float) -> str:
    """How long ago, in French (« il y a 3 min »)."""
    seconds = max(0, int(seconds))
    for unit, size in (("j", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"il y a {seconds // size} {unit}"
    return f"il y a {seconds} s"


def timestamp_fr(ts: str | None, now: datetime | None = None) -> str:
    """A Kubernetes timestamp as the UI shows it (local ``MM/DD/YYYY HH:mm:ss``) with its age in French."""
    if not ts:
        return ""
    then = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    now = now or datetime.now(timezone.utc)
    return f"{then.astimezone().strftime('%m/%d/%Y %H:%M:%S')} ({relative_fr((now - then).total_seconds())})"
