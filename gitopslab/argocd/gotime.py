"""Go's ``time.Time`` and ``time.Duration`` as trigger conditions and templates see them (pure).

Argo CD exposes ``time.Parse`` (RFC 3339), ``time.Now`` and the duration
constants (``time.Minute``…) to ``expr`` conditions and, through ``.time``,
to templates. Values print as Go's ``fmt`` prints them
(``2024-05-01 10:00:00 +0000 UTC``, ``1m30s``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


class TimeError(ValueError):
    """A timestamp Go's ``time.Parse(time.RFC3339, …)`` rejects."""


@dataclass(frozen=True, order=True)
class Duration:
    """A Go ``time.Duration``: an integer count of nanoseconds."""

    ns: int

    def __mul__(self, other):
        if isinstance(other, Duration):
            return Duration(self.ns * other.ns)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Duration(int(self.ns * other))
        return NotImplemented

    __rmul__ = __mul__

    def __add__(self, other):
        if isinstance(other, Duration):
            return Duration(self.ns + other.ns)
        return NotImplemented

    def __sub__(self, other):
        if isinstance(other, Duration):
            return Duration(self.ns - other.ns)
        return NotImplemented

    def __neg__(self):
        return Duration(-self.ns)

    def seconds(self) -> float:
        return self.ns / 1e9

    def __str__(self) -> str:
        return format_duration(self.ns)

    # methods a template or condition may call
    def Seconds(self) -> float:  # noqa: N802 - Go method names
        return self.seconds()

    def Minutes(self) -> float:  # noqa: N802
        return self.ns / 6e10

    def Hours(self) -> float:  # noqa: N802
        return self.ns / 3.6e12

    def String(self) -> str:  # noqa: N802
        return str(self)


NANOSECOND = Duration(1)
MICROSECOND = Duration(1_000)
MILLISECOND = Duration(1_000_000)
SECOND = Duration(1_000_000_000)
MINUTE = Duration(60 * SECOND.ns)
HOUR = Duration(60 * MINUTE.ns)


def format_duration(ns: int) -> str:
    """Go's ``Duration.String``: ``1h2m3.5s``, ``1.5ms``, ``0s``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < SECOND.ns:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _trim_fraction(ns, size) + unit
    hours, rest = divmod(ns, HOUR.ns)
    minutes, rest = divmod(rest, MINUTE.ns)
    seconds = _trim_fraction(rest, SECOND.ns) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _trim_fraction(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{str(frac).rjust(digits, '0').rstrip('0')}"


@dataclass(frozen=True)
class GoTime:
    """A Go ``time.Time`` (nanosecond precision, with its zone offset)."""

    dt: datetime          # aware datetime, microsecond part included in ``ns``
    nanos: int = 0        # sub-microsecond nanoseconds

    def _key(self) -> tuple:
        return (self.dt.astimezone(timezone.utc).replace(microsecond=0), self._frac_ns())

    def _frac_ns(self) -> int:
        return self.dt.microsecond * 1000 + self.nanos

    def __lt__(self, other: "GoTime") -> bool:
        return self._key() < other._key()

    def __eq__(self, other) -> bool:
        return isinstance(other, GoTime) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    # --- Go methods -------------------------------------------------------
    def Add(self, d: Duration) -> "GoTime":  # noqa: N802
        total = self._frac_ns() + d.ns
        seconds, frac = divmod(total, 1_000_000_000)
        base = self.dt.replace(microsecond=0) + timedelta(seconds=seconds)
        return GoTime(base.replace(microsecond=frac // 1000), frac % 1000)

    def Sub(self, other: "GoTime") -> Duration:  # noqa: N802
        a, b = self._key(), other._key()
        return Duration(int((a[0] - b[0]).total_seconds()) * 1_000_000_000 + a[1] - b[1])

    def Before(self, other: "GoTime") -> bool:  # noqa: N802
        return self._key() < other._key()

    def After(self, other: "GoTime") -> bool:  # noqa: N802
        return self._key() > other._key()

    def Equal(self, other: "GoTime") -> bool:  # noqa: N802
        return self._key() == other._key()

    def Unix(self) -> int:  # noqa: N802
        return int(self.dt.replace(microsecond=0).timestamp())

    def UTC(self) -> "GoTime":  # noqa: N802
        return GoTime(self.dt.astimezone(timezone.utc), self.nanos)

    def Format(self, layout: str) -> str:  # noqa: N802
        return format_time(self, layout)

    def String(self) -> str:  # noqa: N802
        return str(self)

    def __str__(self) -> str:
        return format_time(self, "2006-01-02 15:04:05.999999999 -0700 MST")


def parse_rfc3339(text) -> GoTime:
    """``time.Parse(time.RFC3339, text)``; raises ``TimeError`` with Go's wording."""
    if not isinstance(text, str):
        raise TimeError(f"parsing time {_go_quote_value(text)}: cannot parse as RFC3339")
    m = _RFC3339.match(text)
    if not m:
        raise TimeError(f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": cannot parse "{text}" '
                        f'as "2006"')
    year, month, day, hour, minute, second, frac, zone = m.groups()
    if zone in ("Z", "z"):
        tz = timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    digits = (frac or ".")[1:].ljust(9, "0")[:9]
    ns = int(digits)
    try:
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), ns // 1000, tzinfo=tz)
    except ValueError as e:
        raise TimeError(f'parsing time "{text}": {e}') from None
    return GoTime(dt, ns % 1000)


def now() -> GoTime:
    return GoTime(datetime.now(timezone.utc))


def _go_quote_value(value) -> str:
    return "<nil>" if value is None else f'"{value}"'


# --- Go layouts ------------------------------------------------------------
_LAYOUT_TOKENS = ["January", "Monday", "2006", "-07:00:00", "-0700", "-07:00", "Z07:00", "Z0700", "Jan", "Mon",
                  "MST", "002", "_2", "01", "02", "03", "04", "05", "06", "15", "PM", "pm", "-07",
                  "1", "2", "3", "4", "5"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _zone(dt: datetime, colon: bool, z: bool) -> str:
    offset = dt.utcoffset() or timedelta(0)
    if z and offset == timedelta(0):
        return "Z"
    total = int(offset.total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total), 60)
    return f"{sign}{hours:02d}:{minutes:02d}" if colon else f"{sign}{hours:02d}{minutes:02d}"


def _zone_name(dt: datetime) -> str:
    offset = dt.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        return "UTC"
    return _zone(dt, False, False)[:3] if offset.total_seconds() % 3600 == 0 else _zone(dt, False, False)


def format_time(t: GoTime, layout: str) -> str:
    """Go's ``Time.Format`` for the common layout elements."""
    dt = t.dt
    ns = dt.microsecond * 1000 + t.nanos
    out = []
    i = 0
    while i < len(layout):
        if layout[i] in ".," and i + 1 < len(layout) and layout[i + 1] in "09":
            j = i + 1
            while j < len(layout) and layout[j] == layout[i + 1]:
                j += 1
            if j >= len(layout) or not layout[j].isdigit():
                digits = str(ns).rjust(9, "0")[: j - i - 1]
                if layout[i + 1] == "9":
                    digits = digits.rstrip("0")
                    out.append("." + digits if digits else "")
                else:
                    out.append(layout[i] + digits)
                i = j
                continue
        for token in _LAYOUT_TOKENS:
            if layout.startswith(token, i):
                out.append(_element(dt, token))
                i += len(token)
                break
        else:
            out.append(layout[i])
            i += 1
    return "".join(out)


def _element(dt: datetime, token: str) -> str:
    hour12 = dt.hour % 12 or 12
    return {
        "January": _MONTHS[dt.month - 1], "Jan": _MONTHS[dt.month - 1][:3],
        "Monday": _DAYS[dt.weekday()], "Mon": _DAYS[dt.weekday()][:3],
        "2006": f"{dt.year:04d}", "06": f"{dt.year % 100:02d}",
        "01": f"{dt.month:02d}", "1": str(dt.month),
        "02": f"{dt.day:02d}", "2": str(dt.day), "_2": f"{dt.day:>2}", "002": f"{dt.timetuple().tm_yday:03d}",
        "15": f"{dt.hour:02d}", "03": f"{hour12:02d}", "3": str(hour12),
        "04": f"{dt.minute:02d}", "4": str(dt.minute), "05": f"{dt.second:02d}", "5": str(dt.second),
        "PM": "PM" if dt.hour >= 12 else "AM", "pm": "pm" if dt.hour >= 12 else "am",
        "MST": _zone_name(dt), "-0700": _zone(dt, False, False), "-07:00": _zone(dt, True, False),
        "-07": _zone(dt, False, False)[:3], "-07:00:00": _zone(dt, True, False) + ":00",
        "Z07:00": _zone(dt, True, True), "Z0700": _zone(dt, False, True),
    }[token]


def helpers() -> dict:
    """The ``time`` namespace Argo CD registers for conditions and templates."""
    return {
        "Parse": parse_rfc3339, "Now": now,
        "Nanosecond": NANOSECOND, "Microsecond": MICROSECOND, "Millisecond": MILLISECOND,
        "Second": SECOND, "Minute": MINUTE, "Hour": HOUR,
        "Layout": "01/02 03:04:05PM '06 -0700", "ANSIC": "Mon Jan _2 15:04:05 2006",
        "UnixDate": "Mon Jan _2 15:04:05 MST 2006", "RubyDate": "Mon Jan 02 15:04:05 -0700 2006",
        "RFC822": "02 Jan 06 15:04 MST", "RFC822Z": "02 Jan 06 15:04 -0700",
        "RFC850": "Monday, 02-Jan-06 15:04:05 MST", "RFC1123": "Mon, 02 Jan 2006 15:04:05 MST",
        "RFC1123Z": "Mon, 02 Jan 2006 15:04:05 -0700", "RFC3339": "2006-01-02T15:04:05Z07:00",
        "RFC3339Nano": "2006-01-02T15:04:05.999999999Z07:00", "Kitchen": "3:04PM",
        "Stamp": "Jan _2 15:04:05", "StampMilli": "Jan _2 15:04:05.000", "StampMicro": "Jan _2 15:04:05.000000",
        "StampNano": "Jan _2 15:04:05.000000000",
    }
