"""A local stand-in for Slack, so notification workshops run offline.

``SlackLab`` is a small threaded HTTP server on 127.0.0.1 (a free port)
that answers what Argo CD's notifications send to Slack:

- the Web API ``POST /api/chat.postMessage`` (form-encoded, as the ``slack``
  service and slack-go send it, or JSON with a bearer token): it answers
  like Slack, ``{"ok": true, "channel": "C…", "ts": "…", "message": {…}}``,
  or ``{"ok": false, "error": "invalid_auth"}`` for a wrong token
  (``not_authed`` without one, ``channel_not_found``, ``no_text``);
- incoming webhooks ``POST /services/T…/B…/<secret>`` (JSON body, or the
  ``payload`` form field): ``ok``, or ``no_service`` (404) / ``invalid_payload``
  / ``no_text`` (400), as hooks.slack.com answers.

Received messages are kept; ``afficher()`` prints them in French the way
the Slack client would show them (channel, text, attachments, blocks).
Start it from a notebook, stop it with ``stop()`` (or ``with SlackLab() as slack:``)::

    slack = SlackLab().start()
    slack.api_url        # for service.slack apiURL
    slack.token          # the bot token it accepts
    slack.afficher()
"""
from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMOJI = {":white_check_mark:": "✅", ":exclamation:": "❗", ":arrow_heading_up:": "⤴️", ":warning:": "⚠️",
         ":x:": "❌", ":rocket:": "🚀", ":tada:": "🎉", ":heavy_check_mark:": "✔️", ":information_source:": "ℹ️"}
WEBHOOK_PATH_PREFIX = "/services/"


@dataclass
class SlackMessage:
    channel: str
    text: str
    via: str                                   # "chat.postMessage" or "webhook"
    ts: str
    channel_id: str = ""
    username: str = ""
    icon: str = ""
    attachments: list = field(default_factory=list)
    blocks: list = field(default_factory=list)
    thread_ts: str = ""
    received_at: datetime = field(default_factory=datetime.now)


def channel_id(name: str) -> str:
    """A stable Slack-like channel ID for a channel name (``#deployments`` -> ``C…``)."""
    return "C" + hashlib.sha1(name.lstrip("#").encode()).hexdigest()[:10].upper()


def slack_emoji(text: str) -> str:
    for code, char in EMOJI.items():
        text = text.replace(code, char)
    return text


def _json_list(raw) -> tuple[list, bool]:
    """A JSON-encoded list field (``attachments``, ``blocks``); (value, valid)."""
    if raw in (None, ""):
        return [], True
    if isinstance(raw, list):
        return raw, True
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return [], False
    return (value, True) if isinstance(value, list) else ([], False)


class SlackLab:
    """The lab's Slack: one workspace, one bot token, one incoming webhook."""

    def __init__(self, token: str | None = None, *, host: str = "127.0.0.1", port: int = 0):
        self.token = token or "xoxb-lab-" + secrets.token_hex(12)
        self.webhook_path = f"{WEBHOOK_PATH_PREFIX}T0LAB0000/B0LAB0000/{secrets.token_hex(12)}"
        self.host = host
        self._port = port
        self._messages: list[SlackMessage] = []
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._last_ts = 0.0

    # --- lifecycle ------------------------------------------------------------
    def start(self) -> "SlackLab":
        if self._server is not None:
            return self
        handler = type("Handler", (_Handler,), {"lab": self})
        self._server = ThreadingHTTPServer((self.host, self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-lab", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "SlackLab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("le Slack du labo n'est pas démarré (appelez start())")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What ``service.slack`` takes as ``apiURL`` (Slack's is ``https://slack.com/api/``)."""
        return f"{self.url}/api/"

    @property
    def webhook_url(self) -> str:
        """The incoming webhook URL (Slack's look like ``https://hooks.slack.com/services/T…/B…/…``)."""
        return self.url + self.webhook_path

    # --- messages -------------------------------------------------------------
    @property
    def messages(self) -> list[SlackMessage]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def wait_for_messages(self, count: int = 1, timeout: float = 30.0) -> bool:
        """Wait until at least ``count`` messages arrived (True) or ``timeout`` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    def _next_ts(self) -> str:
        with self._lock:
            now = max(time.time(), self._last_ts + 0.000001)
            self._last_ts = now
            return f"{now:.6f}"

    def _record(self, message: SlackMessage) -> None:
        with self._lock:
            self._messages.append(message)
            self._lock.notify_all()

    # --- display --------------------------------------------------------------
    def afficher(self, derniers: int | None = None) -> None:
        """Print the received messages as the Slack client shows them (the last ``derniers`` ones)."""
        messages = self.messages
        if not messages:
            print("Aucun message reçu pour l'instant sur le Slack du labo.")
            return
        shown = messages[-derniers:] if derniers else messages
        print(f"{len(messages)} message(s) reçu(s) sur le Slack du labo"
              + (f" ({len(shown)} affiché(s))" if len(shown) != len(messages) else "") + " :")
        for message in shown:
            print()
            print("\n".join(render_message(message)))


def render_message(message: SlackMessage) -> list[str]:
    """The lines ``afficher`` prints for one message (French labels, Slack's emoji rendering)."""
    when = message.received_at.strftime("%H:%M:%S")
    origin = "API chat.postMessage" if message.via == "chat.postMessage" else "webhook entrant"
    author = f", auteur « {message.username} »" if message.username else ""
    where = message.channel or "(canal du webhook)"
    lines = [f"💬 {where} — {when} (via {origin}{author})"]
    if message.thread_ts:
        lines.append(f"   ↳ réponse dans le fil {message.thread_ts}")
    for line in (message.text or "").rstrip("\n").split("\n"):
        if line.strip():
            lines.append("   " + slack_emoji(line))
    for attachment in message.attachments:
        if not isinstance(attachment, dict):
            continue
        title = attachment.get("title") or attachment.get("fallback") or "(sans titre)"
        link = f" → {attachment['title_link']}" if attachment.get("title_link") else ""
        color = f" [couleur {attachment['color']}]" if attachment.get("color") else ""
        lines.append(f"   📎 Pièce jointe : {slack_emoji(str(title))}{link}{color}")
        if attachment.get("text"):
            lines.append(f"      {slack_emoji(str(attachment['text']))}")
        for item in attachment.get("fields") or []:
            if isinstance(item, dict):
                lines.append(f"      • {item.get('title', '')} : {slack_emoji(str(item.get('value', '')))}")
    for block in message.blocks:
        if isinstance(block, dict):
            text = (block.get("text") or {}).get("text") if isinstance(block.get("text"), dict) else None
            if text:
                lines.append(f"   ▪ {slack_emoji(text)}")
    return lines


class _Handler(BaseHTTPRequestHandler):
    lab: SlackLab
    server_version = "SlackLab/1.0"

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        return

    # --- plumbing --------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, body, content_type: str = "application/json; charset=utf-8") -> None:
        data = (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _fields(self, raw: bytes) -> dict | None:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                value = json.loads(raw or b"{}")
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
        return {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode(errors="replace"),
                                                          keep_blank_values=True).items()}

    # --- routes ----------------------------------------------------------------
    def do_POST(self):  # noqa: N802 - http.server naming
        path = urllib.parse.urlsplit(self.path).path
        raw = self._body()
        if path.startswith("/api/"):
            self._api(path[len("/api/"):], raw)
        elif path.startswith(WEBHOOK_PATH_PREFIX):
            self._webhook(path, raw)
        else:
            self._reply(404, "404 page not found", "text/plain; charset=utf-8")

    def do_GET(self):  # noqa: N802
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/api/"):
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).items()}
            self._api_call(path[len("/api/"):], query)
        else:
            self._reply(404, "404 page not found", "text/plain; charset=utf-8")

    def _api(self, method: str, raw: bytes) -> None:
        fields = self._fields(raw)
        if fields is None:
            self._reply(200, {"ok": False, "error": "invalid_json"})
            return
        self._api_call(method, fields)

    def _api_call(self, method: str, fields: dict) -> None:
        token = str(fields.get("token") or "")
        auth = self.headers.get("Authorization") or ""
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        if method not in ("chat.postMessage", "auth.test", "api.test"):
            self._reply(200, {"ok": False, "error": "unknown_method", "req_method": method})
            return
        if method == "api.test":
            self._reply(200, {"ok": True, "args": fields})
            return
        if not token:
            self._reply(200, {"ok": False, "error": "not_authed"})
            return
        if token != self.lab.token:
            self._reply(200, {"ok": False, "error": "invalid_auth"})
            return
        if method == "auth.test":
            self._reply(200, {"ok": True, "url": self.lab.url + "/", "team": "Labo GitOps", "user": "argocd",
                              "team_id": "T0LAB0000", "user_id": "U0LAB0000", "bot_id": "B0LAB0000"})
            return
        self._post_message(fields)

    def _post_message(self, fields: dict) -> None:
        channel = str(fields.get("channel") or "")
        if not channel:
            self._reply(200, {"ok": False, "error": "channel_not_found"})
            return
        attachments, ok_a = _json_list(fields.get("attachments"))
        blocks, ok_b = _json_list(fields.get("blocks"))
        if not (ok_a and ok_b):
            self._reply(200, {"ok": False, "error": "invalid_attachments" if not ok_a else "invalid_blocks"})
            return
        text = str(fields.get("text") or "")
        if not text and not attachments and not blocks:
            self._reply(200, {"ok": False, "error": "no_text"})
            return
        ts = self.lab._next_ts()
        message = SlackMessage(channel=channel, channel_id=channel_id(channel), text=text, via="chat.postMessage",
                               ts=ts, username=str(fields.get("username") or ""),
                               icon=str(fields.get("icon_emoji") or fields.get("icon_url") or ""),
                               attachments=attachments, blocks=blocks, thread_ts=str(fields.get("thread_ts") or ""))
        self.lab._record(message)
        body = {"type": "message", "subtype": "bot_message", "text": text, "ts": ts, "bot_id": "B0LAB0000"}
        if message.username:
            body["username"] = message.username
        if attachments:
            body["attachments"] = attachments
        if blocks:
            body["blocks"] = blocks
        self._reply(200, {"ok": True, "channel": message.channel_id, "ts": ts, "message": body})

    def _webhook(self, path: str, raw: bytes) -> None:
        if path != self.lab.webhook_path:
            self._reply(404, "no_service", "text/html")
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        payload_raw = raw.decode(errors="replace")
        if ctype == "application/x-www-form-urlencoded":
            payload_raw = (urllib.parse.parse_qs(payload_raw).get("payload") or [""])[-1]
        try:
            payload = json.loads(payload_raw)
        except ValueError:
            self._reply(400, "invalid_payload", "text/html")
            return
        if not isinstance(payload, dict):
            self._reply(400, "invalid_payload", "text/html")
            return
        attachments, ok_a = _json_list(payload.get("attachments"))
        blocks, ok_b = _json_list(payload.get("blocks"))
        text = str(payload.get("text") or "")
        if not (ok_a and ok_b):
            self._reply(400, "invalid_payload", "text/html")
            return
        if not text and not attachments and not blocks:
            self._reply(400, "no_text", "text/html")
            return
        self.lab._record(SlackMessage(channel=str(payload.get("channel") or ""), text=text, via="webhook",
                                      ts=self.lab._next_ts(), username=str(payload.get("username") or ""),
                                      icon=str(payload.get("icon_emoji") or payload.get("icon_url") or ""),
                                      attachments=attachments, blocks=blocks))
        self._reply(200, "ok", "text/html")
