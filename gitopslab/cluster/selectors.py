"""Label and field selectors, parsed and matched as kube-apiserver does (pure).

Label selectors: ``=``, ``==``, ``!=``, ``in``, ``notin``, ``key`` and ``!key``;
commas mean AND. Field selectors: ``=``, ``==`` and ``!=`` on the fields each
resource supports; anything else is ``field label not supported: <x>``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from gitopslab.cluster.errors import ApiError, bad_request

_KEY = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,252}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!":
            return self.key not in labels
        if self.op in ("=", "in"):
            return self.key in labels and labels[self.key] in self.values
        # "!=" and "notin" also match objects without the key
        return labels.get(self.key) not in self.values


class LabelSelector:
    def __init__(self, requirements: list[Requirement]):
        self.requirements = requirements

    def matches(self, labels: dict | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside ``( … )``."""
    terms, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    terms.append("".join(cur))
    return [t.strip() for t in terms]


def _check_key(key: str, whole: str) -> None:
    if not _KEY.match(key):
        raise bad_request(f"unable to parse requirement: <nil>: Invalid value: \"{key}\": name part must consist of "
                          "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
                          "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                          "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")


def _check_value(value: str) -> None:
    if not _VALUE.match(value):
        raise bad_request(f"unable to parse requirement: values[0][{value}]: Invalid value: \"{value}\": "
                          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
                          "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                          "'my_value',  or '12345', regex used for validation is "
                          "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


_SET_TERM = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")


def parse_label_selector(text: str | None) -> LabelSelector:
    if not text or not text.strip():
        return LabelSelector([])
    reqs = []
    for term in _split_terms(text):
        if not term:
            raise bad_request("unable to parse requirement: found '', expected: identifier")
        m = _SET_TERM.match(term)
        if m:
            key, op, raw = m.groups()
            values = tuple(v.strip() for v in raw.split(",") if v.strip())
            _check_key(key, text)
            for v in values:
                _check_value(v)
            reqs.append(Requirement(key, op, values))
            continue
        if term.startswith("!"):
            key = term[1:].strip()
            _check_key(key, text)
            reqs.append(Requirement(key, "!"))
            continue
        for token, op in (("!=", "!="), ("==", "="), ("=", "=")):
            if token in term:
                key, _, value = term.partition(token)
                key, value = key.strip(), value.strip()
                _check_key(key, text)
                _check_value(value)
                reqs.append(Requirement(key, op, (value,)))
                break
        else:
            if " " in term or "(" in term or ")" in term:
                raise bad_request(f"unable to parse requirement: found '{term.split()[-1]}', "
                                  "expected: in, notin, =, ==, !=, gt, lt")
            _check_key(term, text)
            reqs.append(Requirement(term, "exists"))
    return LabelSelector(reqs)


def selector_from_match_labels(match_labels: dict | None) -> str:
    """``{"app": "web"}`` -> ``"app=web"`` (the string form Scale.status.selector uses)."""
    return ",".join(f"{k}={v}" for k, v in sorted((match_labels or {}).items()))


def label_selector_string(selector: dict | None) -> str:
    """A metav1.LabelSelector (matchLabels + matchExpressions) as a selector string."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(sorted(values))})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(sorted(values))})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


# --- field selectors --------------------------------------------------------

def _path(*keys: str) -> Callable[[dict], str]:
    def get(obj: dict) -> str:
        cur = obj
        for k in keys:
            if not isinstance(cur, dict):
                return ""
            cur = cur.get(k)
        if cur is None:
            return ""
        return cur if isinstance(cur, str) else str(cur)
    return get


_COMMON = {"metadata.name": _path("metadata", "name"), "metadata.namespace": _path("metadata", "namespace")}

_EVENT_FIELDS = {
    "involvedObject.kind": _path("involvedObject", "kind"),
    "involvedObject.namespace": _path("involvedObject", "namespace"),
    "involvedObject.name": _path("involvedObject", "name"),
    "involvedObject.uid": _path("involvedObject", "uid"),
    "involvedObject.apiVersion": _path("involvedObject", "apiVersion"),
    "involvedObject.resourceVersion": _path("involvedObject", "resourceVersion"),
    "involvedObject.fieldPath": _path("involvedObject", "fieldPath"),
    "reason": _path("reason"),
    "reportingComponent": _path("reportingComponent"),
    "source": _path("source", "component"),
    "type": _path("type"),
}

# events.k8s.io/v1 names the same stored fields after its own view
_EVENTS_V1_FIELDS = {
    **{k.replace("involvedObject", "regarding"): v for k, v in _EVENT_FIELDS.items() if k.startswith("involvedObject")},
    "reason": _path("reason"), "reportingController": _path("reportingComponent"), "type": _path("type"),
    "deprecatedSource": _path("source", "component"),
}

FIELDS: dict[tuple[str, str], dict[str, Callable[[dict], str]]] = {
    ("", "pods"): {
        "spec.nodeName": _path("spec", "nodeName"),
        "spec.restartPolicy": _path("spec", "restartPolicy"),
        "spec.schedulerName": _path("spec", "schedulerName"),
        "spec.serviceAccountName": _path("spec", "serviceAccountName"),
        "spec.hostNetwork": lambda o: "true" if (o.get("spec") or {}).get("hostNetwork") else "false",
        "status.phase": _path("status", "phase"),
        "status.podIP": _path("status", "podIP"),
        "status.nominatedNodeName": _path("status", "nominatedNodeName"),
    },
    ("", "events"): _EVENT_FIELDS,
    ("events.k8s.io", "events"): _EVENTS_V1_FIELDS,
    ("", "namespaces"): {"status.phase": _path("status", "phase")},
    ("", "nodes"): {"spec.unschedulable": lambda o: "true" if (o.get("spec") or {}).get("unschedulable") else "false"},
    ("", "secrets"): {"type": _path("type")},
    ("", "replicationcontrollers"): {"status.replicas": _path("status", "replicas")},
    ("apps", "replicasets"): {"status.replicas": _path("status", "replicas")},
    ("batch", "jobs"): {"status.successful": _path("status", "succeeded")},
}


@dataclass(frozen=True)
class FieldTerm:
    field: str
    negate: bool
    value: str
    getter: Callable[[dict], str]


class FieldSelector:
    def __init__(self, terms: list[FieldTerm]):
        self.terms = terms

    def matches(self, obj: dict) -> bool:
        return all((t.getter(obj) == t.value) != t.negate for t in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms

    def required(self, field: str) -> str | None:
        """The value an equality term pins ``field`` to, if any (for fast paths)."""
        for t in self.terms:
            if t.field == field and not t.negate:
                return t.value
        return None


def parse_field_selector(text: str | None, group: str, plural: str) -> FieldSelector:
    if not text or not text.strip():
        return FieldSelector([])
    supported = {**_COMMON, **FIELDS.get((group, plural), {})}
    terms = []
    for raw in _split_terms(text):
        if not raw:
            continue
        for token, negate in (("!=", True), ("==", False), ("=", False)):
            if token in raw:
                field, _, value = raw.partition(token)
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{raw}'")
        field = field.strip()
        if field not in supported:
            raise bad_request(f"field label not supported: {field}")
        terms.append(FieldTerm(field, negate, value.strip(), supported[field]))
    return FieldSelector(terms)


def validate(text: str | None, group: str, plural: str) -> None:
    """Raise the 400 the server would answer for a bad field selector."""
    parse_field_selector(text, group, plural)


__all__ = ["ApiError", "LabelSelector", "FieldSelector", "parse_label_selector", "parse_field_selector",
           "selector_from_match_labels", "label_selector_string"]
