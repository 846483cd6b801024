"""A fake Squarespace Commerce Orders API 1.0 (``/1.0/commerce/orders``), serving a :class:`Shop`.

Faithful to the facts (docs/developer/connectors.md, reference "Ecommerce"):

* ``Authorization: Bearer <api key>``, else 401; a request without a ``User-Agent`` is rejected
  with 400 (Squarespace says such requests "will be rejected" without naming the status; 400 is
  the fake's pick, the connector always sends one);
* every error is Squarespace's error object ``{"type", "subtype", "message", "details",
  "contextId"}``, every field present (nullable ones null);
* ``GET /1.0/commerce/orders``: ``modifiedAfter`` and ``modifiedBefore`` (ISO-8601 UTC) each
  require the other and neither may come with ``cursor`` (400 ``INVALID_REQUEST_ERROR``);
  without any of them every order is listed. Pages hold ``page_size`` orders (50 like the real
  API; a test lowers it), ordered by ``modifiedOn``; the answer is ``{"result": [...],
  "pagination": {"hasNextPage", "nextPageCursor", "nextPageUrl"}}`` with an opaque cursor (null
  on the last page). Whether ``modifiedAfter`` is inclusive is not documented: the fake takes
  ``[modifiedAfter, modifiedBefore)``;
* ``GET /1.0/commerce/orders/{id}``: one order object, 404 for an unknown id;
* orders: ``id`` a 24-character hex string, ``orderNumber`` a string, ``createdOn`` /
  ``modifiedOn`` UTC ISO-8601 with milliseconds and ``Z``, ``customerEmail``,
  ``discountLines[{description, name, amount{value, currency}, promoCode}]``, ``grandTotal``
  ``{currency, value}`` with the value a string, ``formSubmission`` a list of ``{label, value}``
  or null, ``testmode``; empty arrays may come as null (Squarespace allows either);
* throttling: 300 requests a minute, over it 429 with a one-minute cool-down and no rate
  headers and no ``Retry-After`` (:meth:`throttle` scales it down to about a second).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tests.fakes.server import (
    FakeApi,
    Request,
    Response,
    WindowLimit,
    bearer_token,
    error,
    json_response,
    renamed,
)
from tests.fakes.shop import Shop, ShopOrder, make_shop

SURVEY_LABEL = "How did you hear about us?"


def squarespace_id(seed: str) -> str:
    """A deterministic 24-character hex id, as Squarespace's object ids are."""
    return hashlib.sha256(seed.encode()).hexdigest()[:24]


def squarespace_shop(first_day: Any, days: int, per_day: int = 3, seed: int = 7) -> Shop:
    """:func:`make_shop` with Squarespace-style hex order ids."""
    shop = make_shop(first_day, days, per_day=per_day, seed=seed)
    return Shop(
        [replace(o, order_id=squarespace_id(f"order-{seed}-{o.order_id}")) for o in shop.orders]
    )


def squarespace_error(status: int, kind: str, message: str, subtype: str | None = None) -> Response:
    return error(
        status,
        {
            "type": kind,
            "subtype": subtype,
            "message": message,
            "details": None,
            "contextId": secrets.token_hex(5).upper(),
        },
    )


def rate_limit_refusal(wait_s: float) -> Response:
    """Squarespace's 429: the error object only, no rate headers, no Retry-After."""
    return squarespace_error(
        429, "RATE_LIMIT_EXCEEDED", "Too many requests; try again after the cool-down period"
    )


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with milliseconds and ``Z`` (``2026-10-01T02:13:00.000Z``)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _parse_instant(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # the API wants an explicit UTC instant
    return moment.astimezone(UTC)


class FakeSquarespace(FakeApi):
    name = "squarespace"

    def __init__(
        self,
        shop: Shop,
        api_key: str = "sq-key-1",
        *,
        page_size: int = 50,
        testmode_orders: list[ShopOrder] | None = None,
    ) -> None:
        super().__init__()
        self.shop = shop
        self.api_key = api_key
        self.page_size = page_size
        # Orders placed in the store's test mode: served with ``testmode: true``.
        self.testmode_orders = list(testmode_orders or [])
        # Field renames a test applies to every order ({"createdOn": "createdAt"}).
        self.order_renames: dict[str, str] = {}
        # Render empty arrays (discountLines, formSubmission) as null instead of [].
        self.null_arrays = False

    def throttle(
        self, requests: int = 4, per_seconds: float = 1.0, cool_down_s: float = 1.0
    ) -> None:
        """Squarespace's limit scaled down: over it, blocked for ``cool_down_s`` (a minute in
        production), answered 429 without any header saying how long."""
        self.limit = WindowLimit(
            requests, per_seconds, block_s=cool_down_s, response=rate_limit_refusal
        )

    # -- serving -------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        if not request.header("User-Agent"):
            return squarespace_error(
                400, "INVALID_REQUEST_ERROR", "A User-Agent header is required", "MISSING_HEADER"
            )
        if bearer_token(request) != self.api_key:
            return squarespace_error(
                401, "AUTHORIZATION_ERROR", "The API key is missing, invalid or revoked"
            )
        if request.method != "GET":
            return squarespace_error(405, "INVALID_REQUEST_ERROR", "Method not allowed")
        if request.path == "/1.0/commerce/orders":
            return self._list(request)
        prefix = "/1.0/commerce/orders/"
        if request.path.startswith(prefix) and "/" not in request.path[len(prefix) :]:
            return self._one(request.path[len(prefix) :])
        return squarespace_error(404, "NOT_FOUND", f"No resource at {request.path}")

    def _all_orders(self) -> list[tuple[ShopOrder, bool]]:
        return [(o, False) for o in self.shop.orders] + [(o, True) for o in self.testmode_orders]

    def _one(self, order_id: str) -> Response:
        for order, testmode in self._all_orders():
            if order.order_id == order_id:
                return json_response(self.render(order, testmode))
        return squarespace_error(404, "NOT_FOUND", f"Order {order_id} not found")

    def _list(self, request: Request) -> Response:
        query = request.query
        after, before, cursor = (
            query.get("modifiedAfter"),
            query.get("modifiedBefore"),
            query.get("cursor"),
        )
        if cursor is not None and (after is not None or before is not None):
            return squarespace_error(
                400,
                "INVALID_REQUEST_ERROR",
                "cursor cannot be combined with modifiedAfter or modifiedBefore",
                "INVALID_ARGUMENT",
            )
        if (after is None) != (before is None):
            return squarespace_error(
                400,
                "INVALID_REQUEST_ERROR",
                "modifiedAfter and modifiedBefore must be given together",
                "MISSING_ARGUMENT",
            )
        offset = 0
        if cursor is not None:
            try:
                state = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
                after, before, offset = state["after"], state["before"], int(state["offset"])
            except (ValueError, KeyError, TypeError):
                return squarespace_error(
                    400, "INVALID_REQUEST_ERROR", "Invalid cursor", "INVALID_ARGUMENT"
                )
        window = None
        if after is not None and before is not None:
            start, end = _parse_instant(after), _parse_instant(before)
            if start is None or end is None:
                return squarespace_error(
                    400,
                    "INVALID_REQUEST_ERROR",
                    "modifiedAfter and modifiedBefore must be ISO-8601 UTC instants",
                    "INVALID_ARGUMENT",
                )
            window = (start, end)
        orders = sorted(
            (
                (o, t)
                for o, t in self._all_orders()
                if window is None or window[0] <= o.updated_at < window[1]
            ),
            key=lambda pair: (pair[0].updated_at, pair[0].order_id),
        )
        page = orders[offset : offset + self.page_size]
        more = offset + self.page_size < len(orders)
        next_cursor = None
        if more:
            state = {"after": after, "before": before, "offset": offset + self.page_size}
            next_cursor = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
        return json_response(
            {
                "result": [self.render(o, t) for o, t in page],
                "pagination": {
                    "hasNextPage": more,
                    "nextPageCursor": next_cursor,
                    "nextPageUrl": (
                        f"{self.base_url}/1.0/commerce/orders?cursor={next_cursor}"
                        if next_cursor
                        else None
                    ),
                },
            }
        )

    def render(self, order: ShopOrder, testmode: bool = False) -> dict[str, Any]:
        """One order as the Orders API writes it."""
        currency = order.currency

        def money(value: float) -> dict[str, str]:
            return {"currency": currency, "value": f"{value:.2f}"}

        discounts = [
            {
                "description": f"Promo code {code}",
                "name": code,
                "amount": money(5.0),
                "promoCode": code,
            }
            for code in order.discount_codes
        ]
        form = (
            [
                {"label": "Email", "value": order.email or ""},
                {"label": SURVEY_LABEL, "value": order.survey_answer},
            ]
            if order.survey_answer is not None
            else None
        )
        number = 1000 + sum(1 for o, _ in self._all_orders() if o.created_at < order.created_at)
        record: dict[str, Any] = {
            "id": order.order_id,
            "orderNumber": str(number),
            "createdOn": iso(order.created_at),
            "modifiedOn": iso(order.updated_at),
            "channel": "web",
            "testmode": testmode,
            "customerEmail": order.email,
            "billingAddress": None,
            "shippingAddress": None,
            "fulfillmentStatus": "PENDING",
            "lineItems": [
                {
                    "id": squarespace_id(f"line-{order.order_id}"),
                    "productName": "Morning beans",
                    "quantity": 1,
                    "unitPricePaid": money(order.revenue),
                }
            ],
            "internalNotes": None if self.null_arrays else [],
            "shippingLines": None if self.null_arrays else [],
            "discountLines": discounts or (None if self.null_arrays else []),
            "formSubmission": form,
            "fulfillments": None if self.null_arrays else [],
            "subtotal": money(order.revenue),
            "shippingTotal": money(0.0),
            "discountTotal": money(5.0 * len(order.discount_codes)),
            "taxTotal": money(0.0),
            "refundedTotal": money(0.0),
            "grandTotal": money(order.revenue),
            "channelName": "Squarespace",
            "externalOrderReference": None,
            "fulfilledOn": None,
            "priceTaxInterpretation": "EXCLUSIVE",
        }
        if self.order_renames:
            record = renamed(record, dict(self.order_renames))
        return record


def thin_notification(order_id: str, topic: str = "order.create") -> dict[str, Any]:
    """A webhook notification as Squarespace sends it: the order's id only."""
    return {
        "id": squarespace_id(f"notification-{order_id}-{topic}"),
        "websiteId": squarespace_id("website"),
        "subscriptionId": squarespace_id("subscription"),
        "topic": topic,
        "createdOn": iso(datetime.now(UTC)),
        "data": {"orderId": order_id},
    }
