"""Slack: incoming webhooks and the Web API's ``chat.postMessage``.

Both get the same Block Kit message: a header with the title, a section with the text, the
fields as a two-column section, a button to the link, and a context line (severity, event,
tenant). ``text`` is the fallback Slack shows in notifications. A tenant's text is escaped
(``&``, ``<``, ``>``), so it can neither link nor mention (``<!channel>``).
"""

from __future__ import annotations

import time
from typing import Any

from serving.delivery.channel import Channel, Clock
from serving.delivery.http import (
    HttpResponse,
    check_http_url,
    classify_failure,
    post_json,
    retry_after_of,
)
from serving.delivery.message import Message, truncate
from serving.delivery.redaction import redact_url, url_secrets
from serving.delivery.retry import Outcome, Receipt, RetryPolicy, Sleep

# Block Kit limits (characters, counts).
HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000
FIELDS_PER_SECTION = 10
MAX_FIELDS = 40
BUTTON_URL_CHARS = 3000
FALLBACK_CHARS = 3000
SEVERITY_MARKS = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "medium": ":large_yellow_circle:",
    "low": ":large_blue_circle:",
    "info": ":white_circle:",
}
# chat.postMessage errors (HTTP 200, ok=false) worth another try; every other error
# (channel_not_found, invalid_auth, not_in_channel, account_inactive, token_revoked,
# missing_scope, invalid_blocks, msg_too_long, ...) is permanent.
API_TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    }
)


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: the only three characters Slack asks to escape."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_text(message: Message) -> str:
    """The notification fallback: title, text, and the link as plain text."""
    lines = [message.title, message.text]
    if message.link:
        lines.append(message.link)
    return truncate(escape("\n".join(line for line in lines if line)), FALLBACK_CHARS)


def render_blocks(message: Message) -> list[dict[str, Any]]:
    """The Block Kit blocks of ``message``."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(message.title, HEADER_CHARS)},
        }
    ]
    if message.text:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": truncate(escape(message.text), SECTION_CHARS)},
            }
        )
    fields = [
        {"type": "mrkdwn", "text": truncate(f"*{escape(label)}*\n{escape(value)}", FIELD_CHARS)}
        for label, value in message.fields[:MAX_FIELDS]
    ]
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start : start + FIELDS_PER_SECTION]})
    if message.link and len(message.link) <= BUTTON_URL_CHARS:
        label = "Open report" if message.event == "report" else "Open"
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": label},
                        "url": message.link,
                    }
                ],
            }
        )
    context = []
    if message.severity:
        context.append(f"{SEVERITY_MARKS[message.severity]} *{message.severity}*")
    context.append(message.event)
    if message.tenant_id:
        context.append(f"tenant {escape(message.tenant_id)}")
    context_text = {"type": "mrkdwn", "text": " · ".join(context)}
    blocks.append({"type": "context", "elements": [context_text]})
    return blocks


class SlackWebhook(Channel):
    """A Slack incoming webhook (``https://hooks.slack.com/services/...``): 200 ``ok``; about
    one message per second per hook, 429 with ``Retry-After`` beyond that."""

    kind = "slack_webhook"
    default_min_interval_s = 1.0

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
        super().__init__(
            name,
            target=redact_url(url),
            secrets=url_secrets(url),
            policy=policy,
            sleep=sleep,
            clock=clock,
            min_interval_s=min_interval_s,
        )
        self._url = url
        self._timeout_s = timeout_s

    def send(self, message: Message) -> Receipt:
        payload = {"text": render_text(message), "blocks": render_blocks(message)}

        def attempt() -> Outcome:
            response = post_json(self._url, payload, timeout_s=self._timeout_s)
            if response.status == 200:
                return Outcome.ok(f"HTTP 200 {response.excerpt() or 'ok'}", 200)
            return classify_failure(response)

        return self._deliver(attempt)


class SlackApi(Channel):
    """A bot posting with ``chat.postMessage`` (``Authorization: Bearer xoxb-...``).

    Slack answers HTTP 200 with ``{"ok": false, "error": ...}`` for most failures: a throttle
    (``ratelimited``) or a Slack-side failure is retried, honouring ``Retry-After``; any other
    error (``channel_not_found``, ``invalid_auth``, ``not_in_channel``, ...) is permanent.
    The receipt's detail carries the message's ``ts`` (to thread replies or update it).
    """

    kind = "slack_api"
    default_min_interval_s = 1.0

    def __init__(
        self,
        name: str,
        token: str,
        channel: str,
        *,
        base_url: str = "https://slack.com/api",
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        min_interval_s: float | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        check_http_url(base_url, f"{self.kind} channel {name!r}")
        if not token:
            raise ValueError(f"{self.kind} channel {name!r}: a bot token is required")
        if not channel:
            raise ValueError(f"{self.kind} channel {name!r}: a Slack channel is required")
        super().__init__(
            name,
            target=f"{redact_url(base_url)} {channel}",
            secrets=(token,),
            policy=policy,
            sleep=sleep,
            clock=clock,
            min_interval_s=min_interval_s,
        )
        self._url = base_url.rstrip("/") + "/chat.postMessage"
        self._token = token
        self.channel = channel
        self._timeout_s = timeout_s

    def send(self, message: Message) -> Receipt:
        payload = {
            "channel": self.channel,
            "text": render_text(message),
            "blocks": render_blocks(message),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        headers = {"Authorization": f"Bearer {self._token}"}

        def attempt() -> Outcome:
            response = post_json(self._url, payload, headers=headers, timeout_s=self._timeout_s)
            return self._classify(response)

        return self._deliver(attempt)

    def _classify(self, response: HttpResponse) -> Outcome:
        if response.status != 200:
            return classify_failure(response)
        answer = response.json()
        if not isinstance(answer, dict) or "ok" not in answer:
            return Outcome.transient_failure(
                f"HTTP 200 with an unexpected body: {response.excerpt()}", 200
            )
        if answer["ok"] is True:
            return Outcome.ok(f"ts={answer.get('ts')} channel={answer.get('channel')}", 200)
        error = str(answer.get("error") or "unknown_error")
        reason = f"Slack API error {error}"
        if error in API_TRANSIENT_ERRORS:
            return Outcome.transient_failure(reason, 200, retry_after_of(response))
        return Outcome.permanent_failure(reason, 200)
