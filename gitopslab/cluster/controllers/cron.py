"""Standard 5-field cron schedules (minute hour day-of-month month day-of-week),
as robfig/cron's standard parser reads them for CronJobs: lists, ranges,
steps, ``*``/``?``, month and weekday names, ``@hourly``-style macros and a
``CRON_TZ=``/``TZ=`` prefix. Pure; minute granularity."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
          "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
BOUNDS = [(0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (0, 7, DAYS)]


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset
    hours: frozenset
    days: frozenset
    months: frozenset
    weekdays: frozenset
    dom_star: bool
    dow_star: bool
    tz: str | None = None

    def matches(self, t: datetime) -> bool:
        if t.minute not in self.minutes or t.hour not in self.hours or t.month not in self.months:
            return False
        dom, dow = t.day in self.days, (t.isoweekday() % 7) in self.weekdays
        if self.dom_star or self.dow_star:
            return dom and dow
        return dom or dow  # both restricted: either matches, as in cron

    def next_after(self, t: datetime) -> datetime:
        """The first matching minute strictly after ``t`` (aware datetime)."""
        zone = ZoneInfo(self.tz) if self.tz else timezone.utc
        cur = t.astimezone(zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = cur + timedelta(days=366 * 5)
        while cur < limit:
            if cur.month not in self.months:
                cur = (cur.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day_ok(cur):
                cur = cur.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if cur.hour not in self.hours:
                cur = cur.replace(minute=0) + timedelta(hours=1)
                continue
            if cur.minute not in self.minutes:
                cur += timedelta(minutes=1)
                continue
            return cur.astimezone(timezone.utc)
        raise CronError("no matching time within five years")

    def _day_ok(self, t: datetime) -> bool:
        dom, dow = t.day in self.days, (t.isoweekday() % 7) in self.weekdays
        return (dom and dow) if (self.dom_star or self.dow_star) else (dom or dow)

    def last_before(self, start: datetime, now: datetime) -> tuple[datetime | None, int]:
        """(most recent schedule time in (start, now], how many were missed), bounded like upstream."""
        last, missed, t = None, 0, start
        while True:
            n = self.next_after(t)
            if n > now:
                return last, missed
            last, missed, t = n, missed + 1, n
            if missed > 100:  # upstream stops counting and reports "too many missed start times"
                return self._latest_before(now), missed

    def _latest_before(self, now: datetime) -> datetime | None:
        t = now - timedelta(days=1)
        last = None
        while True:
            n = self.next_after(t)
            if n > now:
                return last
            last, t = n, n


def _field(text: str, lo: int, hi: int, names: dict) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        rng, _, step_s = part.partition("/")
        step = int(step_s) if step_s else 1
        if step <= 0:
            raise CronError(f"step of range should be a positive number: {part}")
        if rng in ("*", "?"):
            a, b = lo, (6 if names is DAYS else hi)
        else:
            a_s, dash, b_s = rng.partition("-")
            a = _value(a_s, names)
            b = _value(b_s, names) if dash else (hi if step_s else a)
        if a < lo or b > hi or a > b:
            raise CronError(f"end of range ({b}) above maximum ({hi}): {part}" if b > hi else f"invalid range: {part}")
        out.update(range(a, b + 1, step))
    if names is DAYS and 7 in out:  # 7 is Sunday too
        out.discard(7)
        out.add(0)
    return out


def _value(s: str, names: dict) -> int:
    if s.lower() in names:
        return names[s.lower()]
    try:
        return int(s)
    except ValueError as e:
        raise CronError(f"failed to parse int from {s}: strconv.Atoi: parsing \"{s}\": invalid syntax") from e


def parse(spec: str, time_zone: str | None = None) -> Schedule:
    spec = spec.strip()
    tz = time_zone
    if spec.startswith(("CRON_TZ=", "TZ=")):
        head, _, spec = spec.partition(" ")
        tz = head.split("=", 1)[1]
    spec = MACROS.get(spec.lower(), spec)
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{spec}]")
    sets = [_field(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, BOUNDS)]
    if tz:
        try:
            ZoneInfo(tz)
        except Exception as e:  # noqa: BLE001
            raise CronError(f"unknown time zone {tz}") from e
    return Schedule(*(frozenset(s) for s in sets), dom_star=fields[2] in ("*", "?"),
                    dow_star=fields[4] in ("*", "?"), tz=tz)
