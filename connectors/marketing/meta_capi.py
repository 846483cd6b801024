"""Meta Conversions API: pixel events a tenant's server (or tag manager) sends to Earshot in
Meta's own request shape, landed as ``site_events``.

Earshot pulls nothing from Meta: events only arrive pushed to the webhook receiver
(connectors/webhooks/), so ``streams`` is empty. API facts relied on:

* a sender posts ``POST {graph}/{version}/{pixel_id}/events?access_token=...`` with
  ``{"data": [event, ...]}``; pointed at Earshot it posts to
  ``/webhooks/meta_capi/<tenant>/{version}/{pixel_id}/events`` with the tenant's webhook secret
  as ``access_token`` (query, form field, or ``Authorization: Bearer``);
* an event: ``event_name``, ``event_time`` (unix seconds, UTC; one event older than seven days
  refuses the whole request), ``event_id`` (with ``event_name`` the de-duplication key;
  the receiver refuses an event without one),
  ``event_source_url``, ``action_source``, ``user_data`` (``em``/``ph`` SHA-256 hex of the
  trimmed lower-cased value; ``client_ip_address``, ``client_user_agent``, ``fbc``, ``fbp``
  as they are) and ``custom_data`` (``order_id``, ``value``, ``currency``);
* the Graph API reads a pixel with ``GET {graph}/{version}/{pixel_id}?fields=id,name`` and a
  Bearer token; its errors are ``{"error": {"message", "type": "OAuthException", "code"}}``,
  code 190 for an invalid or expired token (HTTP 400 or 401).

``check()`` is the only request Earshot makes to Meta, with the tenant's own ``access_token``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from requests import Response

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import ApiChangedError, ConnectorError, CredentialsError
from connectors.framework.http import ApiClient
from connectors.framework.records import field_error, text, timestamp
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StreamState

EVENTS = Stream("events", "site_events", "pixel events pushed in Conversions API requests")
# Graph API error codes meaning the token is not (or no longer) valid.
TOKEN_ERRORS = {102, 190}


class MetaCapiSettings(ConnectorSettings):
    # The pixel (dataset) whose events the tenant sends; check() reads it.
    pixel_id: str
    api_version: str = "v21.0"


class MetaCapi(Connector):
    platform = "meta_capi"
    display_name = "Meta Conversions API"
    settings_model = MetaCapiSettings
    credentials = ("access_token",)
    streams: tuple[Stream, ...] = ()
    default_base_url = "https://graph.facebook.com"
    webhook_topics = ("events",)

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            auth=BearerTokenAuth(self.secrets["access_token"]),
            check=_graph_errors,
            **self.client_options(),
        )

    def check(self) -> str:
        settings: MetaCapiSettings = self.settings  # type: ignore[assignment]
        page = self.client.get(
            f"/{settings.api_version}/{settings.pixel_id}", params={"fields": "id,name"}
        )
        pixel = page.records[0]
        if not isinstance(pixel, dict) or "id" not in pixel:
            raise ApiChangedError(f"meta_capi: {page.url} should describe a pixel")
        return f"pixel {pixel['id']} ({pixel.get('name') or 'unnamed'})"

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        raise ConnectorError("meta_capi pulls nothing: its events arrive as webhooks")

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        raise ConnectorError("meta_capi pulls nothing: its events arrive as webhooks")

    def webhook_records(self, topic: str, payload: Any) -> tuple[Stream, list[SourceRecord]]:
        pixel = getattr(self.settings, "pixel_id", "")
        return EVENTS, [SourceRecord(payload, f"webhook:meta_capi/{pixel}/events", 0)]

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        event = item.record
        if not isinstance(event, dict):
            raise field_error("event", f"expected an object, got {type(event).__name__}")
        name = text(event, "event_name")
        # The receiver refuses events without one (connectors/webhooks/deliveries.py).
        event_id = text(event, "event_id")
        user = event.get("user_data") if isinstance(event.get("user_data"), dict) else {}
        custom = event.get("custom_data") if isinstance(event.get("custom_data"), dict) else {}
        order = custom.get("order_id")
        yield {
            "event_id": f"meta:{name}:{event_id}",
            "ts": timestamp(event, "event_time"),
            "ip": text(user, "client_ip_address", None),
            "user_agent": text(user, "client_user_agent", None),
            "event_type": (name or "").lower(),
            "url": text(event, "event_source_url", None),
            "referrer": None,
            "order_id": str(order) if order not in (None, "") else None,
            "utm_source": None,
            "utm_medium": None,
            "utm_campaign": None,
        }


def _graph_errors(response: Response, url: str) -> None:
    if response.ok:
        return
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return
    if isinstance(error, dict) and (
        error.get("code") in TOKEN_ERRORS or error.get("type") == "OAuthException"
    ):
        raise CredentialsError(
            f"meta_capi: {url} refused the access token ({error.get('code')}: "
            f"{error.get('message', 'no message')})"
        )
