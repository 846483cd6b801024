"""A fake WooCommerce REST API v3 (``/wp-json/wc/v3/orders``), serving a :class:`Shop`.

Faithful to the facts (reference "Ecommerce", WooCommerce):

* the REST key's consumer key and secret by HTTP Basic auth, or as ``consumer_key`` and
  ``consumer_secret`` query parameters (both accepted, as WooCommerce does over HTTPS); none is
  401 ``woocommerce_rest_cannot_view``, a wrong key or secret 401
  ``woocommerce_rest_authentication_error``; every error is ``{"code", "message", "data":
  {"status"}}``, an unknown path 404 ``rest_no_route``;
* ``GET /wp-json/wc/v3/orders``: ``page`` (from 1), ``per_page`` (default 10, over 100 is 400
  ``rest_invalid_param``), ``status`` (``any`` by default), ``orderby`` (``date`` by default,
  ``id``, ``modified``) and ``order`` (``desc`` by default); ``modified_after`` and
  ``modified_before`` (ISO-8601) compared with the order's modification time, both bounds
  excluded (WordPress date queries; ``bounds_inclusive`` includes them). With
  ``dates_are_gmt=true`` they are GMT; without it they are the site's local time (the fake's
  site is at UTC-4, so a client that forgets the flag asks the wrong hours). ``X-WP-Total``
  and ``X-WP-TotalPages`` on every list; a page past the last is ``[]``;
* ``GET /wp-json/wc/v3/orders/{id}``: one order, 404 ``woocommerce_rest_shop_order_invalid_id``;
* orders: ``id`` a number, ``date_created``/``date_modified`` local and ``*_gmt`` GMT, both
  ISO-8601 without an offset; ``total`` a string with two decimals; ``customer_id`` 0 for a
  guest; ``coupon_lines[{id, code, discount}]``; ``meta_data[{id, key, value}]`` with the Order
  Attribution keys when the order has a visit (source type, UTM tags, referrer, session entry as
  a full URL, session start time ``YYYY-MM-DD HH:MM:SS`` in UTC, user agent, device type) and
  the survey answer under ``survey_meta_key``;
* throttling: none is documented; the host answers 429 with ``Retry-After``
  (the base fake's :class:`WindowLimit`).
"""

from __future__ import annotations

import copy
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tests.fakes.server import (
    FakeApi,
    Request,
    Response,
    basic_credentials,
    error,
    json_response,
    renamed,
)
from tests.fakes.shop import Shop, ShopOrder

SITE_TIME = timezone(timedelta(hours=-4))
ORDERS = "/wp-json/wc/v3/orders"
SURVEY_META_KEY = "how_did_you_hear"
SITE = "https://shop.example"


def woo_error(status: int, code: str, message: str) -> Response:
    return error(status, {"code": code, "message": message, "data": {"status": status}})


class FakeWooCommerce(FakeApi):
    name = "woocommerce"

    def __init__(
        self,
        shop: Shop,
        consumer_key: str = "ck_test_1",
        consumer_secret: str = "cs_test_1",
        survey_meta_key: str = SURVEY_META_KEY,
    ) -> None:
        super().__init__()
        self.shop = shop
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.survey_meta_key = survey_meta_key
        # Field renames a test applies to every rendered order ({"total": "grand_total"}).
        self.order_renames: dict[str, str] = {}
        # Fields a test overrides in one order (order id -> {field: value}): a bad record.
        self.patches: dict[str, dict[str, Any]] = {}
        # WordPress excludes both date bounds; True includes them (a server whose date query
        # is configured otherwise), to prove a client keeps each order in one day.
        self.bounds_inclusive = False

    def route(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        if request.method != "GET":
            return woo_error(404, "rest_no_route", "No route was found matching the URL.")
        if request.path == ORDERS:
            return self._list(request)
        match = re.fullmatch(ORDERS + r"/(\d+)", request.path)
        if match:
            order = self.shop.by_id(match[1])
            if order is None:
                return woo_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            return json_response(self.render(order))
        return woo_error(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )

    def _refuse(self, request: Request) -> Response | None:
        given = basic_credentials(request)
        if given is None and "consumer_key" in request.query:
            given = (request.query["consumer_key"], request.query.get("consumer_secret", ""))
        if given is None:
            return woo_error(
                401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
            )
        key, secret = given
        if key != self.consumer_key:
            return woo_error(
                401, "woocommerce_rest_authentication_error", "Consumer key is invalid."
            )
        if secret != self.consumer_secret:
            return woo_error(
                401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."
            )
        return None

    def _list(self, request: Request) -> Response:
        query = request.query
        try:
            page = int(query.get("page", "1"))
            per_page = int(query.get("per_page", "10"))
        except ValueError:
            return woo_error(400, "rest_invalid_param", "Invalid parameter(s): page, per_page")
        if page < 1 or not 1 <= per_page <= 100:
            return woo_error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        gmt = query.get("dates_are_gmt", "false").lower() in ("true", "1")
        try:
            after = _bound(query.get("modified_after"), gmt)
            before = _bound(query.get("modified_before"), gmt)
        except ValueError:
            return woo_error(400, "rest_invalid_param", "Invalid parameter(s): modified_after")
        status = query.get("status", "any")
        orders = [
            o
            for o in self.shop.orders
            if self._within(o.updated_at.replace(microsecond=0), after, before)
            and status in ("any", _status(o))
        ]
        orderby, descending = query.get("orderby", "date"), query.get("order", "desc") == "desc"
        sort_keys = {
            "id": lambda o: int(o.order_id),
            "date": lambda o: (o.created_at, int(o.order_id)),
            "modified": lambda o: (o.updated_at, int(o.order_id)),
        }
        if orderby not in sort_keys:
            return woo_error(400, "rest_invalid_param", "Invalid parameter(s): orderby")
        orders.sort(key=sort_keys[orderby], reverse=descending)
        chunk = orders[(page - 1) * per_page : page * per_page]
        return json_response(
            [self.render(o) for o in chunk],
            **{
                "X-WP-Total": str(len(orders)),
                "X-WP-TotalPages": str(math.ceil(len(orders) / per_page)),
            },
        )

    def _within(self, moment: datetime, after: datetime | None, before: datetime | None) -> bool:
        if self.bounds_inclusive:
            return (after is None or moment >= after) and (before is None or moment <= before)
        return (after is None or moment > after) and (before is None or moment < before)

    def render(self, order: ShopOrder) -> dict[str, Any]:
        """The order as the REST API (and a v3 webhook) renders it."""
        created, modified = _utc(order.created_at), _utc(order.updated_at)
        meta: list[dict[str, Any]] = []

        def add(key: str, value: Any) -> None:
            if value is not None:
                meta.append({"id": 9000 + len(meta), "key": key, "value": value})

        visit = order.landing_url or order.referrer or order.utm_source
        if visit:
            source = "utm" if order.utm_source else "referral" if order.referrer else "typein"
            prefix = "_wc_order_attribution_"
            add(prefix + "source_type", source)
            add(prefix + "referrer", order.referrer)
            add(prefix + "utm_source", order.utm_source)
            add(prefix + "utm_medium", order.utm_medium)
            add(prefix + "utm_campaign", order.utm_campaign)
            add(prefix + "session_entry", SITE + order.landing_url if order.landing_url else None)
            add(prefix + "session_start_time", session_start(order).strftime("%Y-%m-%d %H:%M:%S"))
            add(prefix + "session_pages", "3")
            add(prefix + "session_count", "1")
            add(prefix + "user_agent", order.user_agent)
            add(
                prefix + "device_type",
                "Mobile" if "iPhone" in (order.user_agent or "") else "Desktop",
            )
        add(self.survey_meta_key, order.survey_answer)
        record = {
            "id": int(order.order_id),
            "parent_id": 0,
            "status": _status(order),
            "currency": order.currency,
            "version": "9.3.3",
            "prices_include_tax": False,
            "date_created": _local(created),
            "date_modified": _local(modified),
            "discount_total": "0.00",
            "total": f"{order.revenue:.2f}",
            "total_tax": "0.00",
            "customer_id": int(order.customer_id) if order.customer_id else 0,
            "order_key": f"wc_order_{order.order_id}",
            "billing": {"email": order.email or "", "first_name": "", "last_name": ""},
            "payment_method": "stripe",
            "customer_ip_address": order.ip or "",
            "customer_user_agent": order.user_agent or "",
            "created_via": "checkout",
            "customer_note": "",
            "date_completed": None,
            "date_paid": _local(created),
            "date_created_gmt": _gmt(created),
            "date_modified_gmt": _gmt(modified),
            "date_paid_gmt": _gmt(created),
            "date_completed_gmt": None,
            "meta_data": meta,
            "line_items": [
                {"id": 1, "name": "Beans", "quantity": 1, "total": f"{order.revenue:.2f}"}
            ],
            "coupon_lines": [
                {"id": 500 + i, "code": code, "discount": "5.00", "discount_tax": "0.00"}
                for i, code in enumerate(order.discount_codes)
            ],
        }
        record.update(copy.deepcopy(self.patches.get(order.order_id, {})))
        return renamed(copy.deepcopy(record), self.order_renames) if self.order_renames else record


def session_start(order: ShopOrder) -> datetime:
    """When the visit behind an order began: a quarter of an hour before it, in UTC."""
    return _utc(order.created_at) - timedelta(minutes=15)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def _gmt(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _local(moment: datetime) -> str:
    return moment.astimezone(SITE_TIME).replace(tzinfo=None).isoformat(timespec="seconds")


def _status(order: ShopOrder) -> str:
    return "processing" if order.discount_codes else "completed"


def _bound(value: str | None, gmt: bool) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC if gmt else SITE_TIME)
    return moment.astimezone(UTC)
