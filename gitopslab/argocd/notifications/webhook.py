"""The ``webhook`` service: one HTTP request per notification (NE ``services/webhook.go``).

``service.webhook.<name>`` options: ``url``, ``headers`` (``[{name, value}]``),
``basicAuth`` (``{username, password}``), ``retryMax`` (default 3),
``retryWaitMin``/``retryWaitMax`` (default 1s/5s), ``insecureSkipVerify``.
The request is ``GET <url>`` with the message as body, unless the template's
``webhook.<name>`` section gives ``method``, ``path`` (appended to the URL)
and ``body``. Connection errors, 429 and 5xx (but 501) are retried with
exponential back-off (go-retryablehttp); any non-2xx answer is an error.
"""
from __future__ import annotations

import asyncio
import base64
import ssl
from typing import Awaitable, Callable

import aiohttp

from gitopslab.argocd.notifications.slack import DeliveryError
from gitopslab.argocd.notifications.subscriptions import Destination
from gitopslab.argocd.notifications.templates import Notification

Sleep = Callable[[float], Awaitable[None]]


def _seconds(value, default: float) -> float:
    """A Go duration option (``1s``, ``500ms``, or nanoseconds as a number)."""
    if value in (None, "", 0):
        return default
    if isinstance(value, (int, float)):
        return float(value) / 1e9
    from gitopslab.argocd.settings import parse_duration

    return parse_duration(str(value), default)


def build_request(options: dict, notification: Notification, service: str) -> dict:
    """Method, URL, body and headers of the request (pure)."""
    request = {"method": "GET", "url": str(options.get("url") or ""), "body": notification.message}
    override = notification.webhook.get(service)
    if override is not None:
        request["body"] = override.get("body", "")
        request["method"] = override.get("method") or request["method"]
        if override.get("path"):
            request["url"] = request["url"].rstrip("/") + "/" + override["path"].lstrip("/")
    headers = {str(h.get("name")): str(h.get("value")) for h in options.get("headers") or [] if h}
    auth = options.get("basicAuth")
    if auth:
        pair = f"{auth.get('username') or ''}:{auth.get('password') or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    request["headers"] = headers
    return request


def should_retry(status: int | None) -> bool:
    """go-retryablehttp's default policy: connection errors, 429 and 5xx except 501."""
    return status is None or status == 429 or (status >= 500 and status != 501)


def backoff(attempt: int, wait_min: float, wait_max: float) -> float:
    return min(wait_min * (2 ** attempt), wait_max)


class WebhookService:
    def __init__(self, options: dict, sleep: Sleep = asyncio.sleep):
        self.options = options
        self.sleep = sleep  # the lab clock's sleep: retry waits follow the time scale
        self.retry_max = int(options.get("retryMax") or 3)
        self.wait_min = _seconds(options.get("retryWaitMin"), 1.0)
        self.wait_max = _seconds(options.get("retryWaitMax"), 5.0)

    def _ssl(self):
        if self.options.get("insecureSkipVerify"):
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        return None

    async def send(self, notification: Notification, dest: Destination, session: aiohttp.ClientSession) -> int:
        req = build_request(self.options, notification, dest.service)
        attempts = 0
        while True:
            attempts += 1
            status, text, error = None, "", ""
            try:
                async with session.request(req["method"], req["url"], data=req["body"].encode(),
                                           headers=req["headers"], ssl=self._ssl()) as resp:
                    status, text = resp.status, await resp.text()
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
                error = str(e) or type(e).__name__
            if not should_retry(status):
                break
            if attempts > self.retry_max:
                suffix = f": {error}" if error else ""
                raise DeliveryError(f"{req['method']} {req['url']} giving up after {attempts} attempt(s){suffix}")
            await self.sleep(backoff(attempts - 1, self.wait_min, self.wait_max))
        if not 200 <= status <= 299:
            described = f"{{{req['body']} {req['method']} {req['url']} {dest.service}}}"
            raise DeliveryError(f"request to {described} has failed with error code {status} : {text}")
        return status
