"""Discord webhooks (``https://discord.com/api/webhooks/<id>/<token>``).

The message's title and text go in ``content`` (at most 2000 characters: longer text is cut
with an ellipsis, Discord would reject it); an embed carries the title again as a link, the
fields, and a colour by severity. ``allowed_mentions: {"parse": []}`` keeps a tenant's text
from pinging ``@everyone``, ``@here``, a role or a user.

Discord announces its buckets in ``X-RateLimit-*`` headers: when a response says the bucket is
empty (``Remaining: 0``) the channel waits ``Reset-After`` seconds before its next request
instead of running into a 429. A 429 says how long to wait in its JSON body (``retry_after``,
float seconds), which is honoured before the coarser ``Retry-After`` header.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

from serving.delivery.channel import Channel, Clock
from serving.delivery.http import (
    HttpResponse,
    check_http_url,
    classify_failure,
    post_json,
    with_query,
)
from serving.delivery.message import Message, truncate
from serving.delivery.redaction import redact_url, url_secrets
from serving.delivery.retry import Outcome, Receipt, RetryPolicy, Sleep

CONTENT_CHARS = 2000
EMBED_TITLE_CHARS = 256
EMBED_FIELD_NAME_CHARS = 256
EMBED_FIELD_VALUE_CHARS = 1024
EMBED_FOOTER_CHARS = 2048
EMBED_MAX_FIELDS = 25
EMBED_TOTAL_CHARS = 6000
SEVERITY_COLOURS = {
    "critical": 0xD32F2F,
    "high": 0xF57C00,
    "medium": 0xFBC02D,
    "low": 0x1976D2,
    "info": 0x9E9E9E,
}
_WEBHOOK_PATH = re.compile(r"/webhooks/(?P<id>[^/]+)/(?P<token>[^/]+)/?$")


def render_content(message: Message) -> str:
    """The plain message: the title in bold, then the text; at most 2000 characters."""
    content = f"**{message.title}**"
    if message.text:
        content += f"\n{message.text}"
    return truncate(content, CONTENT_CHARS)


def render_embed(message: Message) -> dict[str, Any]:
    """The embed: title (a link when the message has one), colour, fields and a footer, within
    Discord's per-field and 6000-character limits (fields that do not fit are counted in the
    footer)."""
    embed: dict[str, Any] = {"title": truncate(message.title, EMBED_TITLE_CHARS)}
    if message.link:
        embed["url"] = message.link
    if message.severity:
        embed["color"] = SEVERITY_COLOURS[message.severity]
    footer = " · ".join(
        part for part in ("Earshot", message.event, message.severity, message.tenant_id) if part
    )
    budget = EMBED_TOTAL_CHARS - len(embed["title"]) - len(footer) - 40
    fields = []
    for label, value in message.fields:
        name = truncate(label or "-", EMBED_FIELD_NAME_CHARS)
        text = truncate(value or "-", EMBED_FIELD_VALUE_CHARS)
        if len(fields) == EMBED_MAX_FIELDS or len(name) + len(text) > budget:
            break
        budget -= len(name) + len(text)
        fields.append({"name": name, "value": text, "inline": True})
    if fields:
        embed["fields"] = fields
    left_out = len(message.fields) - len(fields)
    if left_out:
        footer += f" · {left_out} more field(s) not shown"
    embed["footer"] = {"text": truncate(footer, EMBED_FOOTER_CHARS)}
    return embed


def render_payload(message: Message) -> dict[str, Any]:
    return {
        "content": render_content(message),
        "embeds": [render_embed(message)],
        "allowed_mentions": {"parse": []},
    }


class DiscordWebhook(Channel):
    """A Discord channel webhook; posts with ``?wait=true`` so the receipt has the message id."""

    kind = "discord"
    default_min_interval_s = 0.5

    def __init__(
        self,
        name: str,
        url: str,
        *,
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        min_interval_s: float | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        check_http_url(url, f"{self.kind} channel {name!r}")
        match = _WEBHOOK_PATH.search(urlsplit(url).path)
        if match is None:
            raise ValueError(
                f"{self.kind} channel {name!r}: not a Discord webhook URL "
                "(expected .../api/webhooks/<id>/<token>)"
            )
        super().__init__(
            name,
            target=redact_url(url),
            secrets=(*url_secrets(url), match["token"]),
            policy=policy,
            sleep=sleep,
            clock=clock,
            min_interval_s=min_interval_s,
        )
        self._url = with_query(url, wait="true")
        self._timeout_s = timeout_s

    def send(self, message: Message) -> Receipt:
        payload = render_payload(message)

        def attempt() -> Outcome:
            response = post_json(self._url, payload, timeout_s=self._timeout_s)
            self._respect_bucket(response)
            if 200 <= response.status < 300:
                answer = response.json()
                message_id = answer.get("id") if isinstance(answer, dict) else None
                detail = f"message id={message_id}" if message_id else f"HTTP {response.status}"
                return Outcome.ok(detail, response.status)
            if response.status == 429:
                return classify_failure(response, _body_retry_after(response))
            return classify_failure(response)

        return self._deliver(attempt)

    def _respect_bucket(self, response: HttpResponse) -> None:
        remaining = response.header("X-RateLimit-Remaining")
        reset_after = response.header("X-RateLimit-Reset-After")
        if remaining is None or reset_after is None or response.status == 429:
            return
        try:
            if int(remaining) <= 0:
                self._hold_until(float(reset_after))
        except ValueError:
            return


def _body_retry_after(response: HttpResponse) -> float | None:
    """Discord's 429 body: ``{"message": ..., "retry_after": 0.25, "global": false}``."""
    answer = response.json()
    if isinstance(answer, dict):
        value = answer.get("retry_after")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return max(0.0, float(value))
    return None
