"""BigCommerce: the orders of a store, with the coupon codes used on each.

API facts (BigCommerce REST, reference "Ecommerce") this connector relies on:

* base ``https://api.bigcommerce.com/stores/{store_hash}``; auth header ``X-Auth-Token`` (an API
  account's access token) with ``Accept: application/json``; errors of the v2 API are a list
  ``[{"status", "message"}]``; a wrong token is 401;
* ``GET /v2/orders`` with ``min_date_modified``/``max_date_modified`` (RFC-2822 or ISO-8601;
  sent as RFC-2822, the v2 API's own format; both taken as inclusive), ``sort``, ``page`` (from
  1) and ``limit`` (at most 250). There is no page count: a short page is the last one, and a
  page past the last (or a window without orders) is **204 No Content with an empty body**;
* ``GET /v2/orders/count`` -> ``{"count"}``; ``GET /v2/orders/{id}`` -> one order (404 when
  there is none);
* coupons are a sub-resource: ``GET /v2/orders/{id}/coupons`` -> ``[{"code", ...}]``, 204 when
  the order has none. The order's own ``coupons`` field is only a link to it: the connector
  replaces it with the list it fetched (one request per order), so the landed record holds the
  codes it was read from;
* an order: ``id`` and ``customer_id`` numbers (0 for a guest), ``date_created``/``date_modified``
  RFC-2822 with an offset (``Tue, 20 Nov 2012 00:00:00 +0000``), ``total_inc_tax`` a string,
  ``currency_code``, ``ip_address`` (and ``ip_address_v6``), ``customer_message``. No user agent,
  landing page or referrer is kept on an order;
* rate limits per store and plan, said on every answer: ``X-Rate-Limit-Requests-Quota``,
  ``-Requests-Left``, ``-Time-Window-Ms``, ``-Time-Reset-Ms``. Over the quota: 429 **without**
  ``Retry-After``; the client is to wait ``X-Rate-Limit-Time-Reset-Ms``. The connector turns that
  header into the ``Retry-After`` the framework's retry honours (``_reset_seconds``), so a
  429 waits exactly until the window resets instead of an exponential guess; it also paces itself
  to 150 requests per 30 s (the Standard and Plus plans' quota);
* webhooks ``store/order/created``/``store/order/updated`` are thin:
  ``{"scope", "store_id", "data": {"type": "order", "id"}, "hash", "created_at"}``; the order
  (and its coupons) is fetched.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from pydantic import Field
from requests import Response

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import ApiChangedError, ConnectorError, CredentialsError
from connectors.framework.http import ApiClient, Pacing, redact_url
from connectors.framework.records import (
    blank_text,
    field_error,
    get,
    joined_codes,
    number,
    parse_timestamp,
    text,
)
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StreamState

ORDERS = Stream("orders", "orders", "every order changed in each day, with its coupon codes")
TOPICS = ("store/order/created", "store/order/updated")
RESET_HEADER = "X-Rate-Limit-Time-Reset-Ms"


class BigCommerceSettings(ConnectorSettings):
    # The store's hash: the part after /stores/ in the API path of the store's API account.
    store_hash: str = Field(min_length=1, pattern=r"^[A-Za-z0-9]+$")
    # Orders per page (limit; BigCommerce allows at most 250).
    page_size: int = Field(default=250, ge=1, le=250)
    # Read the order comment the shopper typed at checkout as the "how did you hear" answer
    # (for stores that ask it there).
    survey_from_customer_message: bool = False


class BigCommerce(Connector):
    platform = "bigcommerce"
    display_name = "BigCommerce"
    settings_model = BigCommerceSettings
    credentials = ("access_token",)
    streams = (ORDERS,)
    # The base_url setting replaces the host; the store's path is added to it.
    default_base_url = "https://api.bigcommerce.com"
    # Standard and Plus plans: 150 requests per 30 s window (higher plans allow more).
    default_pacing = Pacing(150, 30.0)
    webhook_topics = TOPICS

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            f"{self.base_url}/stores/{self.settings.store_hash}",  # type: ignore[attr-defined]
            headers={"X-Auth-Token": self.secrets["access_token"]},
            check=_check_response,
            retry_after=_reset_seconds,
            **self.client_options(),
        )

    def check(self) -> str:
        body, url = self._get("v2/orders/count")
        count = get(body, "count", None) if isinstance(body, dict) else None
        if not isinstance(count, int):
            raise ApiChangedError(f"bigcommerce: {url} should say the store's order count")
        return f"{count} order(s) in store {self.settings.store_hash}"  # type: ignore[attr-defined]

    # -- requests ------------------------------------------------------------------------------

    def _get(
        self, path: str, params: dict[str, Any] | None = None, *, missing_ok: bool = False
    ) -> tuple[Any, str]:
        """One GET: the parsed body, None for a 204 (v2's "nothing here") or, ``missing_ok``, a
        404, and the redacted URL. Not ``ApiClient.get``: that reads every answer as JSON, and a
        204 has no body at all."""
        response = self.client.rest.get(path, params=params)
        url = redact_url(response.url)
        if missing_ok and response.status_code == 404:
            return None, url
        self.client.raise_for_problem(response, url)
        if response.status_code == 204 or not response.content.strip():
            return None, url
        return self.client.parse(response, url), url

    def _with_coupons(self, order: dict[str, Any]) -> dict[str, Any]:
        order_id = text(order, "id", None)
        if not order_id:
            # rows() quarantines it for its missing id; there is nothing to ask coupons for.
            return order
        # A 404: the order was deleted since it was listed; it has no coupons to read.
        body, url = self._get(f"v2/orders/{quote(order_id, safe='')}/coupons", missing_ok=True)
        if body is not None and not isinstance(body, list):
            raise ApiChangedError(f"bigcommerce: {url} should list coupons, got {type(body)}")
        return {**order, "coupons": body or []}

    # -- streams -------------------------------------------------------------------------------

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        return self.day_plan(state, mode)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        start, end = self.day_window(slice_id)
        limit = self.settings.page_size  # type: ignore[attr-defined]
        params: dict[str, Any] = {
            "min_date_modified": format_datetime(start),
            # Both bounds are inclusive and times whole seconds: the day's last second.
            "max_date_modified": format_datetime(end - timedelta(seconds=1)),
            "sort": "date_modified:asc",
            "limit": limit,
        }
        page = 1
        while True:
            body, url = self._get("v2/orders", {**params, "page": page})
            if body is None:
                return
            if not isinstance(body, list):
                raise ApiChangedError(
                    f"bigcommerce: {url} should be a JSON list of orders, got {type(body).__name__}"
                )
            for position, order in enumerate(body):
                record = self._with_coupons(order) if isinstance(order, dict) else order
                yield SourceRecord(record, url, position)
            if len(body) < limit:
                return
            page += 1

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        record = item.record
        if not isinstance(record, dict):
            raise field_error("order", f"expected an object, got {type(record).__name__}")
        customer = text(record, "customer_id", None)
        survey = None
        if self.settings.survey_from_customer_message:  # type: ignore[attr-defined]
            survey = blank_text(record, "customer_message")
        yield {
            "order_id": text(record, "id"),
            "ts": _rfc2822(record, "date_created"),
            "ip": blank_text(record, "ip_address") or blank_text(record, "ip_address_v6"),
            "user_agent": None,
            "customer_id": None if customer in (None, "", "0") else customer,
            "revenue": number(record, "total_inc_tax"),
            "currency": text(record, "currency_code", None),
            "discount_codes": _coupon_codes(record),
            "landing_url": None,
            "referrer": None,
            "survey_answer": survey,
        }

    # -- webhooks ------------------------------------------------------------------------------

    def webhook_records(self, topic: str, payload: Any) -> tuple[Stream, list[SourceRecord]]:
        """The notification names the order only: the order and its coupons are fetched, so
        what lands is what a sync would land for it."""
        if not isinstance(payload, dict):
            raise field_error("data", f"the {topic} notification is not a JSON object")
        order_id = text(payload, "data.id", None)
        if not order_id:
            raise field_error("data.id", f"missing in the {topic} notification")
        body, url = self._get(f"v2/orders/{quote(order_id, safe='')}")
        if not isinstance(body, dict) or text(body, "id", None) != order_id:
            raise ApiChangedError(f"bigcommerce: {url} did not answer the order {order_id}")
        return ORDERS, [SourceRecord(self._with_coupons(body), url, 0)]


def _reset_seconds(response: Response) -> float | None:
    """A 429 says when the quota resets in milliseconds, not in ``Retry-After``: the client
    puts it there so the retry waits for the reset rather than a blind backoff."""
    if response.status_code != 429:
        return None
    reset = response.headers.get(RESET_HEADER, "").strip()
    return int(reset) / 1000 if reset.isdigit() else None


def _check_response(response: Response, url: str) -> None:
    """BigCommerce's ``[{"status", "message"}]`` errors, said in its words."""
    status = response.status_code
    if status < 400 or status == 429 or status >= 500:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
    if isinstance(body, dict):
        first = body
    message = str(first.get("message") or first.get("title") or "")[:200]
    if status in (401, 403):
        raise CredentialsError(
            f"bigcommerce: the access token was refused ({status}: {message}) at {url}; check "
            "the tenant's access token, that its API account is for this store_hash and that "
            "it may read orders (earshot connectors check)"
        )
    raise ConnectorError(f"bigcommerce: {status} at {url}: {message}")


def _rfc2822(record: dict[str, Any], path: str) -> datetime:
    """A v2 time (``Tue, 20 Nov 2012 00:00:00 +0000``) as naive UTC; ISO-8601 is read too."""
    value = get(record, path)
    if isinstance(value, str) and "," in value:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise field_error(path, f"not an RFC-2822 time: {value!r}") from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    return parse_timestamp(value, path)


def _coupon_codes(record: dict[str, Any]) -> str | None:
    if not isinstance(get(record, "coupons", []), list):
        raise field_error("coupons", "expected the order's coupons, got their link only")
    return joined_codes(record, "coupons")


__all__ = ["ORDERS", "BigCommerce", "BigCommerceSettings"]
