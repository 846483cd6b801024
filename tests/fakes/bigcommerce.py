"""A fake BigCommerce API (``/stores/{store_hash}/v2/orders``), serving a :class:`Shop`.

Faithful to the facts (reference "Ecommerce", BigCommerce):

* ``X-Auth-Token`` else 401; an ``Accept`` that does not take JSON is 406 (v2 also speaks XML,
  the fake does not); an unknown store hash is 404. v2 errors are ``[{"status", "message"}]``;
* ``GET /v2/orders``: ``min_date_modified``/``max_date_modified`` in RFC-2822 or ISO-8601 (both
  accepted, as documented; both bounds inclusive, which the docs imply but do not state),
  ``sort`` (``field:asc|desc`` over ``id``, ``date_created``, ``date_modified``; default ``id``
  ascending), ``page`` (from 1) and ``limit`` (default 50, at most 250, else 400). A page past
  the last, or a query without orders, is **204 No Content with an empty body**;
* ``GET /v2/orders/count`` -> ``{"count", "statuses"}``; ``GET /v2/orders/{id}`` -> the order or
  404; ``GET /v2/orders/{id}/coupons`` -> ``[{"id", "coupon_id", "order_id", "code", "amount",
  "type", "discount"}]``, 204 when the order has none;
* orders: ``id``, ``customer_id`` (0 for a guest) numbers; ``date_created``/``date_modified``
  RFC-2822 (``+0000`` as BigCommerce renders them; ``utc_offset`` renders another offset to
  prove a client converts); money as strings with four decimals; ``currency_code``,
  ``ip_address``, ``customer_message``; ``coupons`` is a link ``{"url", "resource"}``;
* rate limits: a fixed window of ``quota`` requests per ``window_s`` (150 per 30 s, the Standard
  plan's; :meth:`throttle` makes it small). Every answer says ``X-Rate-Limit-Requests-Quota``,
  ``-Requests-Left``, ``-Time-Window-Ms`` and ``-Time-Reset-Ms``; over the quota, 429 with those
  headers and **no** ``Retry-After``.
"""

from __future__ import annotations

import copy
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from tests.fakes.server import FakeApi, Request, Response, error, json_response, renamed
from tests.fakes.shop import Shop, ShopOrder


def v2_error(status: int, message: str, **headers: str) -> Response:
    return error(status, [{"status": status, "message": message}], **headers)


class Quota:
    """BigCommerce's fixed window: ``quota`` requests, then 429 until the window resets."""

    def __init__(self, quota: int, window_s: float) -> None:
        self.quota = quota
        self.window_s = window_s
        self._start: float | None = None
        self._used = 0

    def _roll(self, now: float) -> None:
        if self._start is None or now - self._start >= self.window_s:
            self._start, self._used = now, 0

    def headers(self, now: float) -> dict[str, str]:
        self._roll(now)
        assert self._start is not None
        reset_ms = max(0, int((self.window_s - (now - self._start)) * 1000))
        return {
            "X-Rate-Limit-Requests-Quota": str(self.quota),
            "X-Rate-Limit-Requests-Left": str(max(0, self.quota - self._used)),
            "X-Rate-Limit-Time-Window-Ms": str(int(self.window_s * 1000)),
            "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
        }

    def refuse(self, now: float) -> Response | None:
        """The base fake's limit hook: None to serve the request, or the 429."""
        self._roll(now)
        if self._used >= self.quota:
            return v2_error(429, "You have exceeded your rate limit.", **self.headers(now))
        self._used += 1
        return None


class FakeBigCommerce(FakeApi):
    name = "bigcommerce"

    def __init__(
        self,
        shop: Shop,
        store_hash: str = "abc123",
        access_token: str = "bc-token-1",
        *,
        quota: int = 150,
        window_s: float = 30.0,
        utc_offset: timedelta = timedelta(0),
    ) -> None:
        super().__init__()
        self.shop = shop
        self.store_hash = store_hash
        self.access_token = access_token
        self.offset = timezone(utc_offset)
        self.quota = Quota(quota, window_s)
        self.limit = self.quota
        # Field renames a test applies to every rendered order ({"id": "order_id"}).
        self.order_renames: dict[str, str] = {}
        # Fields a test overrides in one order (order id -> {field: value}): a bad record.
        self.patches: dict[str, dict[str, Any]] = {}

    def throttle(self, quota: int, window_s: float) -> None:
        self.quota = Quota(quota, window_s)
        self.limit = self.quota

    def route(self, request: Request) -> Response:
        response = self._route(request)
        with self._lock:
            response.headers.update(self.quota.headers(time.monotonic()))
        return response

    def _route(self, request: Request) -> Response:
        if request.header("X-Auth-Token") != self.access_token:
            return v2_error(401, "You are not authorized to access this resource.")
        accept = request.header("Accept") or "*/*"
        if "json" not in accept and "*/*" not in accept:
            return v2_error(406, "The requested content type is not available.")
        match = re.fullmatch(r"/stores/([^/]+)/v2/(.*)", request.path)
        if not match or match[1] != self.store_hash:
            return v2_error(404, "The requested resource was not found.")
        rest = match[2].rstrip("/")
        if request.method != "GET":
            return v2_error(405, "The requested method is not allowed.")
        if rest == "orders":
            return self._list(request)
        if rest == "orders/count":
            return json_response({"count": len(self.shop.orders), "statuses": []})
        found = re.fullmatch(r"orders/(\d+)(/coupons)?", rest)
        order = self.shop.by_id(found[1]) if found else None
        if order is None:
            return v2_error(404, "The requested resource was not found.")
        if found and found[2]:
            coupons = self.coupons(order)
            return json_response(coupons) if coupons else Response(204)
        return json_response(self.render(order))

    def _list(self, request: Request) -> Response:
        query = request.query
        try:
            page = int(query.get("page", "1"))
            limit = int(query.get("limit", "50"))
            low = _moment(query.get("min_date_modified"))
            high = _moment(query.get("max_date_modified"))
        except ValueError as exc:
            return v2_error(400, f"The field is invalid: {exc}")
        if page < 1 or not 1 <= limit <= 250:
            return v2_error(400, "The field 'limit' is invalid.")
        field, _, direction = query.get("sort", "id:asc").partition(":")
        keys = {
            "id": lambda o: int(o.order_id),
            "date_created": lambda o: (o.created_at, int(o.order_id)),
            "date_modified": lambda o: (o.updated_at, int(o.order_id)),
        }
        if field not in keys or direction not in ("", "asc", "desc"):
            return v2_error(400, "The field 'sort' is invalid.")
        orders = sorted(
            (
                o
                for o in self.shop.orders
                if (low is None or _second(o.updated_at) >= low)
                and (high is None or _second(o.updated_at) <= high)
            ),
            key=keys[field],
            reverse=direction == "desc",
        )
        chunk = orders[(page - 1) * limit : page * limit]
        if not chunk:
            return Response(204)
        return json_response([self.render(o) for o in chunk])

    def coupons(self, order: ShopOrder) -> list[dict[str, Any]]:
        return [
            {
                "id": 70 + i,
                "coupon_id": 10 + i,
                "order_id": int(order.order_id),
                "code": code,
                "amount": "5.0000",
                "type": 1,
                "discount": 5,
            }
            for i, code in enumerate(order.discount_codes)
        ]

    def render(self, order: ShopOrder) -> dict[str, Any]:
        total = f"{order.revenue:.4f}"
        record = {
            "id": int(order.order_id),
            "customer_id": int(order.customer_id) if order.customer_id else 0,
            "date_created": self._time(order.created_at),
            "date_modified": self._time(order.updated_at),
            "date_shipped": "",
            "status_id": 11,
            "status": "Awaiting Fulfillment",
            "subtotal_ex_tax": total,
            "subtotal_inc_tax": total,
            "total_ex_tax": total,
            "total_inc_tax": total,
            "items_total": 1,
            "payment_method": "Credit Card",
            "ip_address": order.ip or "",
            "ip_address_v6": "",
            "currency_code": order.currency,
            "default_currency_code": order.currency,
            "currency_exchange_rate": "1.0000000000",
            "coupon_discount": f"{5 * len(order.discount_codes):.4f}",
            "discount_amount": "0.0000",
            "customer_message": order.survey_answer or "",
            "is_deleted": False,
            "order_source": "www",
            "channel_id": 1,
            "billing_address": {"email": order.email or "", "first_name": "", "last_name": ""},
            "products": {
                "url": f"https://api.bigcommerce.com/stores/{self.store_hash}/v2/orders/"
                f"{order.order_id}/products",
                "resource": f"/orders/{order.order_id}/products",
            },
            "coupons": {
                "url": f"https://api.bigcommerce.com/stores/{self.store_hash}/v2/orders/"
                f"{order.order_id}/coupons",
                "resource": f"/orders/{order.order_id}/coupons",
            },
        }
        record.update(copy.deepcopy(self.patches.get(order.order_id, {})))
        return renamed(copy.deepcopy(record), self.order_renames) if self.order_renames else record

    def _time(self, moment: datetime) -> str:
        return format_datetime(_second(moment).astimezone(self.offset))


def _second(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _moment(value: str | None) -> datetime | None:
    """A v2 date parameter: RFC-2822 or ISO-8601 (a date alone is its midnight UTC)."""
    if not value:
        return None
    if "," in value:
        moment = parsedate_to_datetime(value)
    else:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
