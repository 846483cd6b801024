"""Squarespace Commerce: a store's orders, with their promo codes and post-purchase survey answer.

API facts (Squarespace Commerce Orders API 1.0; docs/user/connectors/squarespace.md) this
connector relies on:

* base ``https://api.squarespace.com``, paths under ``/1.0/commerce``; auth ``Authorization:
  Bearer <api key>`` (401/403 when refused); every request needs a ``User-Agent`` (the framework
  sends Earshot's own, not a library default);
* ``GET /1.0/commerce/orders`` with ``modifiedAfter`` and ``modifiedBefore`` (ISO-8601 UTC; each
  requires the other; neither may come with ``cursor``) -> ``{"result": [...], "pagination":
  {"hasNextPage", "nextPageCursor", "nextPageUrl"}}``, 50 orders a page ordered by
  ``modifiedOn``; the next page is asked with ``cursor`` alone;
* ``GET /1.0/commerce/orders/{id}`` -> one order;
* an order: ``id`` (a string), ``createdOn`` / ``modifiedOn`` (UTC ISO-8601),
  ``customerEmail``, ``grandTotal {currency, value}`` with the value a string,
  ``discountLines [{description, amount, promoCode}]``, ``formSubmission [{label, value}]`` (the
  checkout form, where stores ask "How did you hear about us?"), ``testmode``; arrays without
  data may come as ``[]`` or ``null``;
* errors are ``{"type", "subtype", "message", "details", "contextId"}``;
* 300 requests a minute; over it 429 with a one-minute cool-down and no rate headers nor
  ``Retry-After``: the client paces itself to 5 a second, and retries a 429 with an exponential
  backoff long enough to outlast the cool-down (``max_attempts`` 8 by default: 1+2+...+64 s);
* webhooks ``order.create`` / ``order.update`` carry only ``data.orderId``: the order is fetched.

Canonical mapping (``orders``): ``order_id`` = ``id``, ``ts`` = ``createdOn``, ``revenue`` =
``grandTotal.value``, ``currency`` = ``grandTotal.currency``, ``discount_codes`` = the promo codes
of ``discountLines``, ``survey_answer`` = the checkout form answer whose label matches
``survey_label``. The API has no address, user agent, landing page or referrer of the buyer, and
no customer id (only the e-mail, which is not an id and stays in ``_record``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from pydantic import Field, field_validator
from requests import Request, Response

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import ApiChangedError, ConnectorError, RecordError
from connectors.framework.http import ApiClient, Pacing
from connectors.framework.records import (
    field_error,
    get,
    iso_z,
    joined_codes,
    number,
    text,
    timestamp,
)
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StreamState

ORDERS = Stream("orders", "orders", "orders changed each day, with promo codes and survey answer")
ORDERS_PATH = "/1.0/commerce/orders"
TOPICS = ("order.create", "order.update")


class SquarespaceSettings(ConnectorSettings):
    # Checkout form question holding the "how did you hear about us" answer: a form answer
    # whose label contains this text (case-insensitive) becomes survey_answer.
    survey_label: str = Field(default="hear about", min_length=1)
    # A 429 blocks the key for a minute and says nothing about it: eight attempts back off for
    # about two minutes in all, outlasting the cool-down.
    max_attempts: int = Field(default=8, ge=1, le=20)

    @field_validator("survey_label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class Squarespace(Connector):
    platform = "squarespace"
    display_name = "Squarespace Commerce"
    settings_model = SquarespaceSettings
    credentials = ("api_key",)
    streams = (ORDERS,)
    default_base_url = "https://api.squarespace.com"
    # The documented limit, 300 a minute, as the steady 5 a second it amounts to.
    default_pacing = Pacing(5, 1.0)
    webhook_topics = TOPICS

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            auth=BearerTokenAuth(self.secrets["api_key"]),
            check=_check_response,
            **self.client_options(),
        )

    # -- requests ------------------------------------------------------------------------------

    def _window(self, day: date) -> dict[str, str]:
        start, end = self.day_window(day.isoformat())
        return {"modifiedAfter": _utc(start), "modifiedBefore": _utc(end)}

    def order_pages(self, day: date) -> Iterator[tuple[list[Any], str]]:
        """Every page of the orders modified on ``day`` (UTC), with its redacted URL."""
        for page in self.client.pages(
            ORDERS_PATH, params=self._window(day), paginator=_CursorPaginator()
        ):
            yield _result(page.response, page.url), page.url

    def check(self) -> str:
        day = self.last_complete_day()
        page = self.client.get(ORDERS_PATH, params=self._window(day))
        orders = _result(page.response, page.url)
        more = " or more" if _pagination(page.response.json()).get("hasNextPage") else ""
        return f"orders API readable ({len(orders)}{more} order(s) changed on {day})"

    # -- streams -------------------------------------------------------------------------------

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        # One slice per UTC day of modifiedOn: an incremental sync asks only the look-back days
        # again, and orders refunded or fulfilled since show up in the day they changed.
        return self.day_plan(state, mode)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        for orders, url in self.order_pages(date.fromisoformat(slice_id)):
            for position, order in enumerate(orders):
                yield SourceRecord(order, url, position)

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        order = item.record
        if not isinstance(order, dict):
            raise field_error("order", f"expected an object, got {type(order).__name__}")
        order_id = text(order, "id")
        # Test-mode orders are the merchant trying the checkout with a test card: no money
        # changed hands, so they are no conversion to attribute.
        if get(order, "testmode", False) is True:
            return
        yield {
            "order_id": order_id,
            "ts": timestamp(order, "createdOn"),
            "ip": None,
            "user_agent": None,
            # Squarespace orders carry only the buyer's e-mail, which is no customer id.
            "customer_id": None,
            "revenue": number(order, "grandTotal.value"),
            "currency": text(order, "grandTotal.currency"),
            "discount_codes": joined_codes(order, "discountLines", "promoCode", required=False),
            "landing_url": None,
            "referrer": None,
            "survey_answer": self._survey_answer(order),
        }

    def _survey_answer(self, order: dict[str, Any]) -> str | None:
        form = get(order, "formSubmission", None)
        if form is None:
            return None
        if not isinstance(form, list):
            raise field_error("formSubmission", f"expected a list, got {type(form).__name__}")
        wanted = self.settings.survey_label.casefold()  # type: ignore[attr-defined]
        for answer in form:
            if not isinstance(answer, dict):
                continue
            label = answer.get("label")
            if isinstance(label, str) and wanted in label.casefold():
                value = answer.get("value")
                if value is None or isinstance(value, dict | list):
                    return None
                return str(value).strip() or None
        return None

    # -- webhooks ------------------------------------------------------------------------------

    def webhook_records(self, topic: str, payload: Any) -> tuple[Stream, list[SourceRecord]]:
        """A notification names the order only (``data.orderId``): the order is fetched, so what
        lands is what a sync would land for it."""
        if not isinstance(payload, dict):
            raise RecordError(f"squarespace {topic}: the notification is not a JSON object")
        order_id = text(payload, "data.orderId", None)
        if not order_id:
            raise field_error("data.orderId", f"missing in the {topic} notification")
        page = self.client.get(f"{ORDERS_PATH}/{quote(order_id, safe='')}")
        order = page.records[0]
        if not isinstance(order, dict) or text(order, "id", None) != order_id:
            raise ApiChangedError(
                f"squarespace: {page.url} did not answer the order {order_id} asked for"
            )
        return ORDERS, [SourceRecord(order, page.url, 0)]


def _utc(moment: datetime) -> str:
    # Squarespace's own form: milliseconds and a Z.
    return iso_z(moment)[:-1] + ".000Z"


def _pagination(body: Any) -> dict[str, Any]:
    pagination = body.get("pagination") if isinstance(body, dict) else None
    return pagination if isinstance(pagination, dict) else {}


def _result(response: Response, url: str) -> list[Any]:
    body = response.json()
    result = body.get("result") if isinstance(body, dict) else None
    if not isinstance(result, list):
        raise ApiChangedError(f"squarespace: {url} should hold a list of orders under 'result'")
    return result


def _check_response(response: Response, url: str) -> None:
    """Squarespace's error object names what was wrong; a 400 otherwise reads as a bare
    status (a refused window, a missing User-Agent)."""
    if response.status_code != 400:
        return
    try:
        body = response.json()
    except ValueError:
        return
    if isinstance(body, dict) and body.get("message"):
        kind = "/".join(str(body[k]) for k in ("type", "subtype") if body.get(k))
        raise ConnectorError(
            f"squarespace: {url} refused the request (400 {kind}): {str(body['message'])[:200]}"
        )


class _CursorPaginator(BasePaginator):
    """``cursor=pagination.nextPageCursor`` alone (without the window) while ``hasNextPage``."""

    def __init__(self) -> None:
        super().__init__()
        self._cursor: str | None = None

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        pagination = _pagination(response.json())
        cursor = pagination.get("nextPageCursor")
        more = pagination.get("hasNextPage")
        if more and not cursor:
            raise ApiChangedError(
                f"squarespace: {response.url} says hasNextPage without a nextPageCursor"
            )
        self._cursor = str(cursor) if more else None
        self._has_next_page = self._cursor is not None

    def update_request(self, request: Request) -> None:
        if self._cursor is not None:
            # The API refuses a cursor together with the window it was made from.
            request.params = {"cursor": self._cursor}
