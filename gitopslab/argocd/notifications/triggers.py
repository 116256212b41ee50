"""Triggers: conditions evaluated against an Application (pure; NE ``pkg/triggers``).

A trigger is a list of conditions ``{when, send[], oncePer, description}``.
Running it yields one result per condition: its key ``[i].<hash(when)>``
(``hash`` = SHA-1, base64 URL encoding without padding), whether ``when``
is true, the templates to send and — only when triggered — the ``oncePer``
value formatted as Go's ``%v`` (``<nil>`` for nil). A condition that fails
to evaluate is not triggered; the error is reported to the caller's log.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from gitopslab.argocd.notifications.expr import ExprError, Program
from gitopslab.argocd.gotemplate import format_value


@dataclass(frozen=True)
class Condition:
    when: str = ""
    send: tuple[str, ...] = ()
    once_per: str = ""
    description: str = ""

    @classmethod
    def from_dict(cls, raw: dict) -> "Condition":
        return cls(str(raw.get("when") or ""), tuple(raw.get("send") or ()), str(raw.get("oncePer") or ""),
                   str(raw.get("description") or ""))


@dataclass(frozen=True)
class ConditionResult:
    key: str
    triggered: bool
    templates: tuple[str, ...]
    once_per: str = ""


@dataclass
class TriggerRun:
    results: list[ConditionResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # "failed to execute when condition: …"


def condition_hash(when: str) -> str:
    digest = hashlib.sha1(when.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class TriggerError(Exception):
    pass


class Triggers:
    """Compiled triggers by name (a syntax error in any condition fails the whole config, as upstream)."""

    def __init__(self, triggers: dict[str, list[Condition]]):
        self.triggers = triggers
        self._when: dict[str, Program] = {}
        self._once: dict[str, Program] = {}
        for conditions in triggers.values():
            for c in conditions:
                try:
                    self._when[c.when] = Program(c.when or "false")
                    if c.once_per:
                        self._once[c.once_per] = Program(c.once_per)
                except ExprError as e:
                    raise TriggerError(str(e)) from None

    def names(self) -> list[str]:
        return sorted(self.triggers)

    def run(self, name: str, env: dict) -> TriggerRun:
        conditions = self.triggers.get(name)
        if conditions is None:
            raise TriggerError(f"trigger '{name}' is not configured")
        out = TriggerRun()
        for i, condition in enumerate(conditions):
            triggered = False
            try:
                value = self._when[condition.when].run(env)
                triggered = value is True
            except ExprError as e:
                out.errors.append(f"failed to execute when condition: {e}")
            once_per = ""
            if triggered and condition.once_per:
                try:
                    once_per = format_value(self._once[condition.once_per].run(env))
                except ExprError as e:
                    out.errors.append(f"failed to execute oncePer condition: {e}")
            out.results.append(ConditionResult(f"[{i}].{condition_hash(condition.when)}", triggered,
                                               condition.send, once_per))
        return out
