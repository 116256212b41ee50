"""What was already notified: the ``notified.notifications.argoproj.io`` annotation (pure; NE ``state.go``).

The annotation holds a JSON object ``{key: unix time}``. A key is
``[<oncePer>:]<trigger>:<condition key>:<service>:<recipient>``. A
notification is sent when its key is absent and the condition is true
(false→true); when the condition turns false the key is removed, unless
the condition has ``oncePer`` (then it is kept: one notification per
value, e.g. per revision). At most 100 keys are kept, the oldest dropped.
"""
from __future__ import annotations

import json
import time

from gitopslab.argocd.notifications.triggers import ConditionResult

ANNOTATION = "notified.notifications.argoproj.io"
MAX_ENTRIES = 100


def item_key(trigger: str, result: ConditionResult, service: str, recipient: str) -> str:
    key = f"{trigger}:{result.key}:{service}:{recipient}"
    return f"{result.once_per}:{key}" if result.once_per else key


class NotificationsState(dict):
    """``{key: unix seconds}``, as stored in the annotation."""

    @classmethod
    def from_annotations(cls, annotations: dict | None) -> "NotificationsState":
        raw = (annotations or {}).get(ANNOTATION, "")
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls({str(k): int(v) for k, v in data.items() if isinstance(v, (int, float))})

    def set_notified(self, trigger: str, result: ConditionResult, service: str, recipient: str,
                     notified: bool, now: float | None = None) -> bool:
        """Record the state of one (condition, destination); True when it changed (i.e. send now)."""
        key = item_key(trigger, result, service, recipient)
        if (key in self) == notified:
            return False
        if notified:
            self[key] = int(now if now is not None else time.time())
        else:
            if result.once_per:
                return False
            del self[key]
        return True

    def truncate(self, max_size: int = MAX_ENTRIES) -> None:
        extra = len(self) - max_size
        if extra > 0:
            for key in sorted(self, key=lambda k: self[k])[:extra]:
                del self[key]

    def annotations(self, current: dict | None) -> dict:
        """The object's annotations with this state persisted (key removed when empty)."""
        self.truncate()
        out = dict(current or {})
        if not self:
            out.pop(ANNOTATION, None)
        else:
            out[ANNOTATION] = json.dumps(dict(self), separators=(",", ":"), sort_keys=True)
        return out
