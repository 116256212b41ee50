"""What to send for one object: triggers run against its destinations and the notified state (pure).

Mirrors ``processResourceWithAPI``: for each subscribed trigger, each
condition result updates the state of each destination; a destination whose
state changed to notified is a delivery to make, one already notified is
reported as such. The caller sends, and on failure calls ``forget`` so that
the delivery is retried later (kept when the condition has ``oncePer``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gitopslab.argocd.notifications.state import NotificationsState
from gitopslab.argocd.notifications.subscriptions import Destination
from gitopslab.argocd.notifications.triggers import ConditionResult, TriggerError, Triggers


@dataclass(frozen=True)
class Delivery:
    trigger: str
    result: ConditionResult
    destination: Destination
    already_sent: bool

    @property
    def condition(self) -> str:
        return f"{self.trigger}.{self.result.key}"


@dataclass
class Plan:
    deliveries: list[Delivery] = field(default_factory=list)
    evaluated: list[tuple[str, ConditionResult]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def to_send(self) -> list[Delivery]:
        return [d for d in self.deliveries if not d.already_sent]


def plan(triggers: Triggers, destinations: dict[str, list[Destination]], env: dict,
         state: NotificationsState, now: float | None = None) -> Plan:
    """Evaluate every subscribed trigger; updates ``state`` as if every delivery succeeded."""
    out = Plan()
    for trigger in sorted(destinations):
        targets = destinations[trigger]
        try:
            run = triggers.run(trigger, env)
        except TriggerError as e:
            out.errors.append(f"Failed to evaluate condition of trigger {trigger}: {e}")
            continue
        out.errors += run.errors
        out.evaluated += [(trigger, result) for result in run.results]
        for result in run.results:
            for to in targets:
                changed = state.set_notified(trigger, result, to.service, to.recipient, result.triggered, now)
                if result.triggered:
                    out.deliveries.append(Delivery(trigger, result, to, already_sent=not changed))
    return out


def forget(state: NotificationsState, delivery: Delivery) -> None:
    """A delivery failed: unmark it so that the next processing retries it."""
    state.set_notified(delivery.trigger, delivery.result, delivery.destination.service,
                       delivery.destination.recipient, False)
