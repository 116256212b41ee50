"""Sync and health statuses as the Argo CD UI shows them: icon, colour, Argo CD's own words (pure)."""
from __future__ import annotations

import html

from gitopslab.lab.views import HEALTH_ICONS, SYNC_ICONS

# The UI's status colours (argo-ui's $argo-success-color, $argo-running-color, …).
HEALTH_COLORS = {"Healthy": "#18be94", "Progressing": "#0dadea", "Degraded": "#e96d76", "Suspended": "#766f94",
                 "Missing": "#f4c030", "Unknown": "#ccd6dd"}
SYNC_COLORS = {"Synced": "#18be94", "OutOfSync": "#f4c030", "Unknown": "#ccd6dd"}
NO_STATUS = "—"


def health_icon(status: str) -> str:
    return HEALTH_ICONS.get(status, "  ")


def sync_icon(status: str) -> str:
    return SYNC_ICONS.get(status, "  ")


def badge(icon: str, status: str, color: str | None) -> str:
    """One status (icon and word) in the UI's colour."""
    text = html.escape(status or NO_STATUS)
    return f'<span style="color: {color or "#6d7f8b"}; font-weight: bold;">{icon} {text}</span>'


def health_badge(status: str) -> str:
    return badge(health_icon(status), status, HEALTH_COLORS.get(status))


def sync_badge(status: str) -> str:
    return badge(sync_icon(status), status, SYNC_COLORS.get(status))


def border_color(health: str) -> str:
    """The tile's left border follows the app's health, as in the UI."""
    return HEALTH_COLORS.get(health, "#ccd6dd")
