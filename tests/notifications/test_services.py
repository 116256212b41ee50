"""Slack and webhook services against local HTTP servers (the lab's Slack stand-in and a recording server)."""
from __future__ import annotations

import asyncio
import base64
import json
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import pytest

from gitopslab.argocd.notifications.slack import DeliveryError, SlackService, form_fields
from gitopslab.argocd.notifications.subscriptions import Destination
from gitopslab.argocd.notifications.templates import Notification
from gitopslab.argocd.notifications.webhook import WebhookService, backoff, build_request
from gitopslab.lab.slack import SlackLab, channel_id

pytestmark = pytest.mark.timeout(60)


class Recorder:
    """An HTTP server that records requests and answers from a script of (status, body)."""

    def __init__(self, script=((200, "ok"),)):
        self.requests: list[dict] = []
        self.script = list(script)
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                recorder.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                          "body": self.rfile.read(length).decode()})
                status, body = recorder.script[min(len(recorder.requests), len(recorder.script)) - 1]
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _send(service, notification, dest):
    async def go():
        async with aiohttp.ClientSession() as session:
            return await service.send(notification, dest, session)
    return asyncio.run(go())


SLACK_NOTE = Notification(message=":white_check_mark: Application webapp synced", slack={
    "attachments": '[{"title": "webapp", "color": "#18be52",\n "fields": [{"title": "Sync Status", "value": "Synced", '
                   '"short": true}]}]',
    "blocks": "", "username": "", "icon": "", "groupingKey": "", "notifyBroadcast": False, "deliveryPolicy": "Post"})


def test_slack_posts_a_form_to_chat_post_message():
    with Recorder([(200, '{"ok": true, "channel": "C1", "ts": "1.2"}')]) as rec:
        service = SlackService({"token": "xoxb-1", "apiURL": rec.url + "/api/", "username": "argocd",
                                "icon": ":rocket:"})
        answer = _send(service, SLACK_NOTE, Destination("slack", "#deployments"))
    assert answer["ts"] == "1.2"
    req = rec.requests[0]
    assert req["method"] == "POST" and req["path"] == "/api/chat.postMessage"
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in urllib.parse.parse_qs(req["body"]).items()}
    assert form == {"token": "xoxb-1", "channel": "#deployments", "text": SLACK_NOTE.message,
                    "username": "argocd", "icon_emoji": ":rocket:",
                    "attachments": '[{"title":"webapp","color":"#18be52","fields":[{"title":"Sync Status",'
                                   '"value":"Synced","short":true}]}]'}


def test_slack_form_fields_rules():
    plain = Notification(message="hi")
    assert form_fields({"token": "t"}, plain, "#c") == {"token": "t", "channel": "#c", "text": "hi"}
    with_icon = Notification(message="hi", slack={"icon": "https://x/i.png", "username": "bot", "blocks": "[]",
                                                  "attachments": ""})
    assert form_fields({"token": "t", "disableUnfurl": True}, with_icon, "#c") == {
        "token": "t", "channel": "#c", "text": "hi", "username": "bot", "icon_url": "https://x/i.png",
        "attachments": "[]", "unfurl_links": "false", "unfurl_media": "false"}
    with pytest.raises(DeliveryError, match="failed to unmarshal attachments"):
        form_fields({}, Notification(message="x", slack={"attachments": "[{"}), "#c")


def test_slack_errors_are_slack_error_codes():
    with SlackLab() as slack:
        dest = Destination("slack", "#deployments")
        with pytest.raises(DeliveryError, match="^invalid_auth$"):
            _send(SlackService({"token": "xoxb-wrong", "apiURL": slack.api_url}), SLACK_NOTE, dest)
        with pytest.raises(DeliveryError, match="^not_authed$"):
            _send(SlackService({"apiURL": slack.api_url}), SLACK_NOTE, dest)
        with pytest.raises(DeliveryError, match="slack server error: 404 Not Found"):
            _send(SlackService({"token": slack.token, "apiURL": slack.url + "/nope/"}), SLACK_NOTE, dest)
        assert slack.messages == []
        answer = _send(SlackService({"token": slack.token, "apiURL": slack.api_url}), SLACK_NOTE, dest)
        assert answer["ok"] and answer["channel"] == channel_id("#deployments")
        assert [m.text for m in slack.messages] == [SLACK_NOTE.message]


def test_slack_grouping_key_threads_replies():
    with SlackLab() as slack:
        service = SlackService({"token": slack.token, "apiURL": slack.api_url})
        note = Notification(message="m", slack={"attachments": "", "groupingKey": f"g-{slack.port}"})
        first = _send(service, note, Destination("slack", "#t"))
        _send(service, note, Destination("slack", "#t"))
        assert [m.thread_ts for m in slack.messages] == ["", first["ts"]]


def test_webhook_default_get_with_message_body_headers_and_basic_auth():
    with Recorder() as rec:
        service = WebhookService({"url": rec.url + "/hook", "headers": [{"name": "X-Lab", "value": "1"}],
                                  "basicAuth": {"username": "u", "password": "p"}})
        assert _send(service, Notification(message="coucou"), Destination("hook", "")) == 200
    req = rec.requests[0]
    assert (req["method"], req["path"], req["body"]) == ("GET", "/hook", "coucou")
    assert req["headers"]["X-Lab"] == "1"
    assert req["headers"]["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()


def test_webhook_template_overrides_method_path_and_body():
    note = Notification(message="ignored", webhook={"github": {"method": "POST", "path": "/repos/o/r/statuses/abc",
                                                               "body": '{"state": "success"}'}})
    req = build_request({"url": "https://api.github.com/"}, note, "github")
    assert (req["method"], req["url"], req["body"]) == ("POST", "https://api.github.com/repos/o/r/statuses/abc",
                                                        '{"state": "success"}')
    other = build_request({"url": "https://x"}, note, "other")
    assert (other["method"], other["url"], other["body"]) == ("GET", "https://x", "ignored")


def test_webhook_retries_server_errors_then_succeeds():
    waits = []

    async def sleep(seconds):
        waits.append(seconds)

    with Recorder([(503, "busy"), (500, "oops"), (200, "ok")]) as rec:
        service = WebhookService({"url": rec.url}, sleep)
        assert _send(service, Notification(message="m"), Destination("h", "")) == 200
    assert len(rec.requests) == 3 and waits == [1.0, 2.0]


def test_webhook_gives_up_after_three_retries():
    async def sleep(seconds):
        pass

    with Recorder([(500, "oops")]) as rec:
        with pytest.raises(DeliveryError, match=r"^GET http://127\.0\.0\.1:\d+ giving up after 4 attempt\(s\)$"):
            _send(WebhookService({"url": rec.url}, sleep), Notification(message="m"), Destination("h", ""))
    assert len(rec.requests) == 4
    assert [backoff(i, 1.0, 5.0) for i in range(4)] == [1.0, 2.0, 4.0, 5.0]


def test_webhook_client_errors_are_not_retried():
    with Recorder([(404, "not here")]) as rec:
        with pytest.raises(DeliveryError) as err:
            _send(WebhookService({"url": rec.url}), Notification(message="m"), Destination("h", ""))
    assert len(rec.requests) == 1
    assert str(err.value) == f"request to {{m GET {rec.url} h}} has failed with error code 404 : not here"


def test_slack_lab_incoming_webhook_json_api_and_display(capsys):
    with SlackLab() as slack:
        request = urllib.request.Request(slack.webhook_url, data=json.dumps({
            "text": ":rocket: déployé", "attachments": [{"title": "webapp", "title_link": "https://a",
                                                         "fields": [{"title": "Sync", "value": "OK"}]}]}).encode(),
            headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(request).read() == b"ok"
        bad = urllib.request.Request(slack.webhook_url, data=b"{}", headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad)
        assert err.value.code == 400 and err.value.read() == b"no_text"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(urllib.request.Request(slack.url + "/services/T/B/wrong", data=b"{}"))
        assert err.value.code == 404
        api = urllib.request.Request(slack.api_url + "chat.postMessage",
                                     data=json.dumps({"channel": "#général", "text": "salut"}).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {slack.token}"})
        answer = json.loads(urllib.request.urlopen(api).read())
        assert answer["ok"] and answer["message"]["text"] == "salut"
        assert slack.wait_for_messages(2, timeout=1) and not slack.wait_for_messages(3, timeout=0.1)
        slack.afficher()
    out = capsys.readouterr().out
    assert "2 message(s) reçu(s) sur le Slack du labo" in out
    assert "via webhook entrant" in out and "🚀 déployé" in out
    assert "📎 Pièce jointe : webapp → https://a" in out and "• Sync : OK" in out
    assert "💬 #général" in out and "via API chat.postMessage" in out
    assert not slack.running
