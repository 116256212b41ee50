"""Label selectors (metav1.LabelSelector) as pure functions."""
from __future__ import annotations


def matches(selector: dict | None, labels: dict | None) -> bool:
    """Whether ``labels`` satisfy a LabelSelector (``matchLabels`` + ``matchExpressions``).

    An empty selector matches everything, as in ``metav1.LabelSelectorAsSelector``;
    a missing one (None) matches nothing.
    """
    if selector is None:
        return False
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    return all(_expression_matches(e, labels) for e in selector.get("matchExpressions") or [])


def _expression_matches(expr: dict, labels: dict) -> bool:
    key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    return False


def map_matches(selector: dict | None, labels: dict | None) -> bool:
    """A Service-style selector (plain map); an empty or missing map selects nothing."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def to_string(selector: dict | None) -> str:
    """The label-selector query string (``app=web,tier in (a,b)``), keys sorted as kubectl prints them."""
    selector = selector or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        op, key, vals = e.get("operator"), e.get("key"), ",".join(sorted(e.get("values") or []))
        parts.append({"In": f"{key} in ({vals})", "NotIn": f"{key} notin ({vals})",
                      "Exists": key, "DoesNotExist": f"!{key}"}.get(op, key))
    return ",".join(parts)
