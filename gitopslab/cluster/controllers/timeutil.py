"""RFC 3339 timestamps as the API serves them (seconds, UTC, ``Z``)."""
from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)


def fmt(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_str() -> str:
    return fmt(now())


def parse(s: str | None) -> datetime | None:
    if not s:
        return None
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None


def age_seconds(s: str | None, at: datetime | None = None) -> float | None:
    t = parse(s)
    if t is None:
        return None
    return ((at or now()) - t).total_seconds()
