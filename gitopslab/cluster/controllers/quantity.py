"""Resource quantities (``resource.Quantity``) as numbers: CPU in millicores, the rest in units."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1), "k": Decimal(10**3),
            "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12), "P": Decimal(10**15), "E": Decimal(10**18)}


def parse(q) -> Decimal:
    """``"100m"`` -> 0.1, ``"1Gi"`` -> 1073741824, ``"1e3"`` -> 1000; raises ValueError."""
    s = str(q).strip()
    for suffix, mult in _BINARY.items():
        if s.endswith(suffix):
            return _num(s[: -len(suffix)]) * mult
    if s and s[-1] in _DECIMAL and not s[-1].isdigit():
        return _num(s[:-1]) * _DECIMAL[s[-1]]
    return _num(s)


def _num(s: str) -> Decimal:
    try:
        return Decimal(s)
    except InvalidOperation as e:
        raise ValueError(f"quantities must match the regular expression: {s!r}") from e


def milli(q) -> int:
    """Millicores (ceil), as ``Quantity.MilliValue``."""
    v = parse(q) * 1000
    return int(v.to_integral_value(rounding="ROUND_CEILING"))


def value(q) -> int:
    v = parse(q)
    return int(v.to_integral_value(rounding="ROUND_CEILING"))


def amount(resource: str, q) -> int:
    return milli(q) if resource == "cpu" else value(q)
