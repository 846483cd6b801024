"""Generic webhooks, and the automation tools that start from one (Zapier, Make, n8n).

The body is one flat JSON document, because Zapier, Make and n8n map top-level fields into
their later steps (a nested object is harder to map than a key)::

    {"event": "alert", "key": "...", "tenant_id": "...", "title": "...", "text": "...",
     "severity": "high", "fields": {"label": "value"}, "link": "...", "sent_at": "...Z"}

``key`` is stable across retries: a receiver that has already seen it can drop the duplicate.
The flavours differ only in the URLs they give out and the authentication they can check
(docs/user/delivery.md); the request is the same for all.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from serving.delivery.channel import Channel, Clock
from serving.delivery.http import check_http_url, classify_failure, post_json
from serving.delivery.message import Message
from serving.delivery.redaction import redact_url, url_secrets
from serving.delivery.retry import Outcome, Receipt, RetryPolicy, Sleep

AUTH_MODES = ("none", "basic", "header", "bearer")
FLAVORS = ("generic", "zapier", "make", "n8n")


def render_document(message: Message, sent_at: datetime) -> dict[str, Any]:
    """The flat JSON document a webhook receives (a repeated field label keeps its last
    value)."""
    return {
        "event": message.event,
        "key": message.key,
        "tenant_id": message.tenant_id,
        "title": message.title,
        "text": message.text,
        "severity": message.severity,
        "fields": dict(message.fields),
        "link": message.link,
        "sent_at": sent_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookChannel(Channel):
    """POST the flat JSON document to a URL, with optional authentication:

    * ``none``: the URL is the secret (Zapier catch hooks, Make custom webhooks);
    * ``basic``: ``username`` and ``secret`` as HTTP Basic;
    * ``header``: ``secret`` in the header ``header_name`` (n8n's Header Auth);
    * ``bearer``: ``Authorization: Bearer <secret>`` (a token, or a JWT issued for n8n's JWT
      Auth; it is sent as given, so use one that does not expire soon).

    Any 2xx is success; 429 and 5xx are retried; other 4xx are permanent.
    """

    kind = "webhook"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        auth: str = "none",
        username: str | None = None,
        secret: str | None = None,
        header_name: str | None = None,
        flavor: str = "generic",
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        min_interval_s: float | None = None,
        timeout_s: float = 30.0,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        where = f"{self.kind} channel {name!r}"
        check_http_url(url, where)
        if flavor not in FLAVORS:
            raise ValueError(f"{where}: flavor {flavor!r} is not one of {FLAVORS}")
        if auth not in AUTH_MODES:
            raise ValueError(f"{where}: auth {auth!r} is not one of {AUTH_MODES}")
        if auth != "none" and not secret:
            raise ValueError(f"{where}: auth {auth!r} needs a secret")
        if auth == "basic" and not username:
            raise ValueError(f"{where}: basic auth needs a username")
        if auth == "header" and not header_name:
            raise ValueError(f"{where}: header auth needs header_name")
        if flavor == "zapier" and auth != "none":
            raise ValueError(
                f"{where}: Zapier catch hooks check no credentials (the URL is the secret); "
                "use auth='none'"
            )
        super().__init__(
            name,
            target=redact_url(url),
            secrets=(*url_secrets(url), secret or ""),
            policy=policy,
            sleep=sleep,
            clock=clock,
            min_interval_s=min_interval_s,
        )
        self.flavor = flavor
        self.auth = auth
        self._url = url
        self._headers = _auth_headers(auth, username, secret, header_name)
        self._timeout_s = timeout_s
        self._now = now

    def send(self, message: Message) -> Receipt:
        document = render_document(message, self._now())

        def attempt() -> Outcome:
            response = post_json(
                self._url, document, headers=self._headers, timeout_s=self._timeout_s
            )
            if 200 <= response.status < 300:
                return Outcome.ok(f"HTTP {response.status}", response.status)
            return classify_failure(response)

        return self._deliver(attempt)


def _auth_headers(
    auth: str, username: str | None, secret: str | None, header_name: str | None
) -> dict[str, str]:
    if auth == "basic":
        token = base64.b64encode(f"{username}:{secret}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
    if auth == "bearer":
        return {"Authorization": f"Bearer {secret}"}
    if auth == "header":
        assert header_name is not None and secret is not None
        return {header_name: secret}
    return {}
