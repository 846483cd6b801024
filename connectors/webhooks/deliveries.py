"""What one verified webhook request stands for, per platform: its topic, the sender's key of
each delivery (for de-duplication) and the payload.

A request is first checked against the tenant's secret (``signatures.py``), then split into
deliveries: most platforms send one object per request; HubSpot sends an array of events and
Meta's Conversions API a ``data`` array of events, each of which is a delivery of its own.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from connectors.webhooks import signatures

# Meta refuses a whole request when one event is older than this.
META_MAX_EVENT_AGE = timedelta(days=7)
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_WC_PING = re.compile(rb"^webhook_id=\d+$")


@dataclass(frozen=True)
class Incoming:
    """A request as it arrived: header names lower-cased, the body as raw bytes."""

    method: str
    # The URL the sender called: the receiver's public base (behind a proxy) + path + query.
    url: str
    # What follows /webhooks/{platform}/{tenant} in the path ("" or "/v21.0/123/events").
    suffix: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    received_at: datetime

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Delivery:
    """One pushed object: stored in the inbox, processed by the platform's connector."""

    platform: str
    tenant: str
    topic: str
    # The sender's id of the delivery, as text; redeliveries carry the same one.
    key: str
    payload: Any
    headers: dict[str, str]
    received_at: str


@dataclass
class Parsed:
    deliveries: list[Delivery] = field(default_factory=list)
    # Events refused one by one (Meta's unhashed e-mail), with the reason; never stored.
    rejected: list[str] = field(default_factory=list)


class Refused(Exception):
    """A request answered with ``status`` and nothing stored (400: malformed, too old)."""

    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else {"error": message}


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "the body is not JSON") from None


def body_key(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _kept(incoming: Incoming, names: tuple[str, ...]) -> dict[str, str]:
    return {n: incoming.headers[n.lower()] for n in names if n.lower() in incoming.headers}


class WebhookFormat(ABC):
    """How one platform signs and shapes its webhook requests."""

    platform: str

    def unsigned(self, incoming: Incoming) -> str | None:
        """Why a request needs no signature and lands nothing (a ping), or None."""
        return None

    @abstractmethod
    def verify(self, incoming: Incoming, secret: str) -> None:
        """SignatureError unless the request is signed with ``secret``."""

    @abstractmethod
    def parse(self, incoming: Incoming, tenant: str) -> Parsed:
        """The deliveries of a verified request; Refused when it is malformed."""

    def delivery(
        self, incoming: Incoming, tenant: str, topic: str, key: str, payload: Any, keep: tuple
    ) -> Delivery:
        return Delivery(
            platform=self.platform,
            tenant=tenant,
            topic=topic,
            key=key,
            payload=payload,
            headers=_kept(incoming, keep),
            received_at=incoming.received_at.isoformat(timespec="microseconds"),
        )


class Shopify(WebhookFormat):
    platform = "shopify"
    KEEP = (
        "X-Shopify-Topic",
        "X-Shopify-Shop-Domain",
        "X-Shopify-Webhook-Id",
        "X-Shopify-Event-Id",
        "X-Shopify-Api-Version",
        "X-Shopify-Triggered-At",
    )

    def verify(self, incoming: Incoming, secret: str) -> None:
        signatures.check_base64_hmac(
            secret, incoming.body, incoming.header("X-Shopify-Hmac-Sha256"), "X-Shopify-Hmac-Sha256"
        )

    def parse(self, incoming: Incoming, tenant: str) -> Parsed:
        topic = incoming.header("X-Shopify-Topic")
        if not topic:
            raise Refused(400, "no X-Shopify-Topic header")
        key = (
            incoming.header("X-Shopify-Webhook-Id")
            or incoming.header("X-Shopify-Event-Id")
            or body_key(incoming.body)
        )
        payload = _json(incoming.body)
        return Parsed([self.delivery(incoming, tenant, topic, key, payload, self.KEEP)])


class WooCommerce(WebhookFormat):
    platform = "woocommerce"
    KEEP = (
        "X-WC-Webhook-Topic",
        "X-WC-Webhook-Source",
        "X-WC-Webhook-Resource",
        "X-WC-Webhook-Event",
        "X-WC-Webhook-ID",
        "X-WC-Webhook-Delivery-ID",
    )

    def unsigned(self, incoming: Incoming) -> str | None:
        # WooCommerce pings a new webhook's URL with a form body and no signature; it disables
        # the webhook unless the ping is answered 2xx.
        if not incoming.header("X-WC-Webhook-Topic") and _WC_PING.match(incoming.body.strip()):
            return "WooCommerce's ping of a new webhook"
        return None

    def verify(self, incoming: Incoming, secret: str) -> None:
        signatures.check_base64_hmac(
            secret,
            incoming.body,
            incoming.header("X-WC-Webhook-Signature"),
            "X-WC-Webhook-Signature",
        )

    def parse(self, incoming: Incoming, tenant: str) -> Parsed:
        topic = incoming.header("X-WC-Webhook-Topic")
        if not topic:
            raise Refused(400, "no X-WC-Webhook-Topic header")
        key = incoming.header("X-WC-Webhook-Delivery-ID") or body_key(incoming.body)
        payload = _json(incoming.body)
        return Parsed([self.delivery(incoming, tenant, topic, key, payload, self.KEEP)])


class Squarespace(WebhookFormat):
    platform = "squarespace"

    def verify(self, incoming: Incoming, secret: str) -> None:
        signatures.check_squarespace(
            secret, incoming.body, incoming.header("Squarespace-Signature")
        )

    def parse(self, incoming: Incoming, tenant: str) -> Parsed:
        payload = _json(incoming.body)
        if not isinstance(payload, dict) or not payload.get("topic") or not payload.get("id"):
            raise Refused(400, "a Squarespace notification needs 'topic' and 'id'")
        return Parsed(
            [
                self.delivery(
                    incoming, tenant, str(payload["topic"]), str(payload["id"]), payload, ()
                )
            ]
        )


class HubSpot(WebhookFormat):
    platform = "hubspot"

    def verify(self, incoming: Incoming, secret: str) -> None:
        signatures.check_hubspot_v3(
            secret,
            incoming.method,
            incoming.url,
            incoming.body,
            incoming.header("X-HubSpot-Request-Timestamp"),
            incoming.header("X-HubSpot-Signature-v3"),
            now_ms=int(incoming.received_at.timestamp() * 1000),
        )

    def parse(self, incoming: Incoming, tenant: str) -> Parsed:
        events = _json(incoming.body)
        if isinstance(events, dict):
            events = [events]
        if not isinstance(events, list):
            raise Refused(400, "a HubSpot delivery is an array of events")
        parsed = Parsed()
        for position, event in enumerate(events):
            if (
                not isinstance(event, dict)
                or event.get("eventId") is None
                or not event.get("subscriptionType")
            ):
                parsed.rejected.append(f"event {position}: needs eventId and subscriptionType")
                continue
            parsed.deliveries.append(
                self.delivery(
                    incoming,
                    tenant,
                    str(event["subscriptionType"]),
                    str(event["eventId"]),
                    event,
                    (),
                )
            )
        return parsed


class BigCommerce(WebhookFormat):
    platform = "bigcommerce"
    HEADER = "X-Earshot-Webhook-Secret"

    def verify(self, incoming: Incoming, secret: str) -> None:
        # BigCommerce documents no signature: the secret travels in a header set when the
        # webhook is registered (its "headers" field), so only HTTPS keeps it private.
        signatures.check_shared_secret(secret, incoming.header(self.HEADER), self.HEADER)

    def parse(self, incoming: Incoming, tenant: str) -> Parsed:
        payload = _json(incoming.body)
        if not isinstance(payload, dict) or not payload.get("scope"):
            raise Refused(400, "a BigCommerce notification needs 'scope'")
        return Parsed(
            [
                self.delivery(
                    incoming,
                    tenant,
                    str(payload["scope"]),
                    body_key(incoming.body),
                    payload,
                    (),
                )
            ]
        )


class MetaConversions(WebhookFormat):
    """Meta's Conversions API request, as a sender configured for graph.facebook.com makes it:
    ``POST .../events?access_token=...`` with ``{"data": [...]}`` (JSON, or a form whose
    ``data`` field is the JSON array). The token is the tenant's secret."""

    platform = "meta_capi"

    def _form(self, incoming: Incoming) -> dict[str, str]:
        kind = incoming.header("Content-Type") or ""
        if "application/x-www-form-urlencoded" not in kind:
            return {}
        try:
            return dict(parse_qsl(incoming.body.decode("utf-8")))
        except UnicodeDecodeError:
            return {}

    def verify(self, incoming: Incoming, secret: str) -> None:
        auth = incoming.header("Authorization") or ""
        given = (
            incoming.query.get("access_token")
            or self._form(incoming).get("access_token")
            or (auth[7:] if auth.lower().startswith("bearer ") else None)
        )
        signatures.check_shared_secret(secret, given, "access_token")

    def parse(self, incoming: Incoming, tenant: str) -> Parsed:
        if incoming.suffix and not incoming.suffix.rstrip("/").endswith("/events"):
            raise Refused(404, "the Conversions API receives events at .../events")
        form = self._form(incoming)
        document = _json(form["data"].encode()) if "data" in form else _json(incoming.body)
        events = document.get("data") if isinstance(document, dict) else document
        if not isinstance(events, list) or not events:
            raise _meta_error("The parameter data is required and must be a non-empty array")
        now = incoming.received_at
        for position, event in enumerate(events):
            if not isinstance(event, dict):
                raise _meta_error(f"data[{position}] must be an object")
            moment = _event_time(event.get("event_time"), position)
            if now - moment > META_MAX_EVENT_AGE:
                # As Meta does: one stale event refuses the whole request.
                raise _meta_error(
                    f"data[{position}].event_time is more than 7 days in the past",
                    subcode=2804003,
                )
        parsed = Parsed()
        for position, event in enumerate(events):
            name = event.get("event_name")
            if not isinstance(name, str) or not name:
                parsed.rejected.append(f"data[{position}]: event_name is required")
                continue
            event_id = event.get("event_id")
            if event_id in (None, ""):
                # With event_name it is the key de-duplicating a browser's and a server's copy
                # of the event, and the landed row's id: without it the event cannot be kept.
                parsed.rejected.append(f"data[{position}]: event_id is required")
                continue
            unhashed = _unhashed_fields(event.get("user_data"))
            if unhashed:
                # The value itself is neither stored nor repeated in the answer.
                parsed.rejected.append(
                    f"data[{position}]: user_data.{', user_data.'.join(unhashed)} must be "
                    "SHA-256 hex of the trimmed, lower-cased value"
                )
                continue
            key = f"{name}:{event_id}"
            parsed.deliveries.append(self.delivery(incoming, tenant, "events", key, event, ()))
        return parsed


def _meta_error(message: str, subcode: int | None = None) -> Refused:
    error: dict[str, Any] = {
        "message": f"Invalid parameter: {message}",
        "type": "OAuthException",
        "code": 100,
        "fbtrace_id": uuid.uuid4().hex[:20],
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return Refused(400, message, {"error": error})


def _event_time(value: Any, position: int) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _meta_error(f"data[{position}].event_time must be unix seconds")
    try:
        seconds = float(value)
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        raise _meta_error(f"data[{position}].event_time must be unix seconds") from None


def _unhashed_fields(user_data: Any) -> list[str]:
    """The user_data fields (em, ph) holding anything but SHA-256 hex digests."""
    if not isinstance(user_data, dict):
        return []
    bad = []
    for name in ("em", "ph"):
        value = user_data.get(name)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) and _SHA256_HEX.match(v) for v in values):
            bad.append(name)
    return bad


FORMATS: dict[str, WebhookFormat] = {
    f.platform: f
    for f in (Shopify(), WooCommerce(), Squarespace(), HubSpot(), BigCommerce(), MetaConversions())
}
