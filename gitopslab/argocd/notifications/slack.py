"""The ``slack`` service: ``chat.postMessage`` with a bot token (NE ``services/slack.go``, slack-go).

``service.slack`` options: ``token`` (bot OAuth token, usually ``$slack-token``),
``apiURL`` (default ``https://slack.com/api/``), ``username``, ``icon``
(``:emoji:`` or an image URL), ``disableUnfurl``, ``insecureSkipVerify``.
A notification is POSTed ``application/x-www-form-urlencoded`` to
``<apiURL>chat.postMessage`` with ``token``, ``channel`` (the recipient),
``text`` (the message) and, from the template, ``attachments``/``blocks``
(JSON strings), ``username``, ``icon_emoji``/``icon_url``. Slack answers
``{"ok": false, "error": "invalid_auth"}`` on failure: the error is that code.
Messages sharing a ``groupingKey`` go to one thread.
"""
from __future__ import annotations

import json
import re
import ssl
import urllib.parse

import aiohttp

from gitopslab.argocd.notifications.subscriptions import Destination
from gitopslab.argocd.notifications.templates import Notification

DEFAULT_API_URL = "https://slack.com/api/"
_EMOJI = re.compile(r"^:.+:$")


class DeliveryError(Exception):
    pass


def _icon_field(icon: str) -> tuple[str, str] | None:
    if _EMOJI.match(icon):
        return "icon_emoji", icon
    parsed = urllib.parse.urlsplit(icon)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return "icon_url", icon
    return None


def _json_field(raw: str, what: str) -> str:
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise DeliveryError(f"failed to unmarshal {what} '{raw}' : {e}") from None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def form_fields(options: dict, notification: Notification, channel: str, thread_ts: str = "") -> dict[str, str]:
    """The form slack-go posts for one message (pure)."""
    fields = {"token": str(options.get("token") or ""), "channel": channel, "text": notification.message}
    slack = notification.slack
    username = (slack or {}).get("username") or str(options.get("username") or "")
    if username:
        fields["username"] = username
    icon = (slack or {}).get("icon") or str(options.get("icon") or "")
    if icon and _icon_field(icon):
        key, value = _icon_field(icon)
        fields[key] = value
    if slack is not None:
        fields["attachments"] = _json_field(slack.get("attachments") or "[]", "attachments")
        if slack.get("blocks"):
            blocks = _json_field(slack["blocks"], "blocks")
            if blocks not in ("[]", "null"):
                fields["blocks"] = blocks
        if thread_ts:
            fields["thread_ts"] = thread_ts
            if slack.get("notifyBroadcast"):
                fields["reply_broadcast"] = "true"
    if options.get("disableUnfurl"):
        fields["unfurl_links"] = "false"
        fields["unfurl_media"] = "false"
    return fields


class SlackService:
    # (recipient, groupingKey) -> ts of the thread's first message; shared like upstream's package state
    _threads: dict[tuple[str, str], str] = {}

    def __init__(self, options: dict):
        self.options = options

    @property
    def endpoint(self) -> str:
        api = str(self.options.get("apiURL") or DEFAULT_API_URL)
        return api + "chat.postMessage"

    def _ssl(self):
        if self.options.get("insecureSkipVerify"):
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        return None

    async def send(self, notification: Notification, dest: Destination, session: aiohttp.ClientSession) -> dict:
        grouping = (notification.slack or {}).get("groupingKey") or ""
        thread = self._threads.get((dest.recipient, grouping), "") if grouping else ""
        fields = form_fields(self.options, notification, dest.recipient, thread)
        try:
            async with session.post(self.endpoint, data=fields, ssl=self._ssl()) as resp:
                text = await resp.text()
                if resp.status == 429:
                    raise DeliveryError(f"slack rate limit exceeded, retry after {resp.headers.get('Retry-After', '')}s")
                if resp.status != 200:
                    raise DeliveryError(f"slack server error: {resp.status} {resp.reason}")
        except aiohttp.ClientError as e:
            raise DeliveryError(f'Post "{self.endpoint}": {e}') from None
        try:
            answer = json.loads(text)
        except ValueError as e:
            raise DeliveryError(f"invalid character in response: {e}") from None
        if not answer.get("ok"):
            raise DeliveryError(str(answer.get("error") or "unknown error"))
        if grouping and not thread:
            self._threads[(dest.recipient, grouping)] = str(answer.get("ts", ""))
        return answer
