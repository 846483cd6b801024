"""A fake Shopify Admin API (REST ``orders.json`` and GraphQL), serving a :class:`Shop`.

Faithful to:

* ``X-Shopify-Access-Token`` else 401 ``{"errors": "[API] Invalid API key or access token
  (unrecognized login or wrong password)"}``; paths under ``/admin/api/{version}``, another
  version is 404 ``{"errors": "Not Found"}``;
* ``GET orders.json``: ``status`` ``open`` (the default: neither closed nor cancelled),
  ``closed``, ``cancelled`` or ``any`` -- some orders of the shop are closed (fulfilled and
  archived) and one is cancelled, so a client that forgets ``status=any`` misses them;
  ``updated_at_min/max`` and ``created_at_min/max`` inclusive, a time without offset read in
  the shop's zone (UTC-4 here); ``since_id``; ``limit`` 1..250 (default 50); ``fields``;
* paging by the ``Link`` header with an opaque ``page_info`` (base64 of the filters and the
  position), ``rel="previous"`` and ``rel="next"``, no ``Link`` on a single page; a request
  with ``page_info`` and any parameter besides ``limit`` and ``fields`` is 400 (the exact
  wording of Shopify's message is not confirmed: the fake's is close to it);
* orders as REST renders them: int64 ``id``, times with the shop's offset, ``total_price`` a
  string, ``total_price_set``, ``discount_codes``, ``landing_site``, ``referring_site``,
  ``browser_ip``, ``client_details``, ``customer``, ``note_attributes`` (the survey answer under
  "How did you hear about us?" beside an unrelated attribute), ``closed_at``,
  ``cancelled_at``. Orders of ``wallet_checkout_ids`` have ``landing_site``
  "/wallets/checkouts.json" (the accelerated-checkout gotcha);
* the REST leaky bucket: every REST answer carries ``X-Shopify-Shop-Api-Call-Limit: n/40``;
  with ``throttle_rest`` the bucket is enforced: over it, 429 ``{"errors": "Exceeded 2 calls per
  second for api client. ..."}`` with ``Retry-After`` as Shopify writes it, a decimal of seconds
  (``"1.0"``; whether it is ever a whole number is not confirmed, the connector reads both);
* ``POST graphql.json``: a minimal reader of ``orders(first:, after:, query:)`` (literals or
  ``$variables``), the search ``updated_at:>='...' AND updated_at:<'...'`` (``>``, ``>=``,
  ``<``, ``<=``, ``created_at`` too), Relay ``pageInfo{hasNextPage endCursor}`` over ``nodes``
  or ``edges{node cursor}``; each node's ``customerJourneySummary`` (null for an order without
  UTM tags; a first visit two days before the order with the order's landing page, referrer and
  UTM tags; for an even order id a distinct last visit 15 minutes before it, otherwise the last
  visit is the first). Query cost is a bucket (``graphql_bucket``) charged the requested cost
  (2 + 3 x ``first``) up front and refunded down to the actual cost (the nodes returned) after
  the query ran, as Shopify does; over it, HTTP 200 with
  ``errors[{message: "Throttled", extensions: {code: "THROTTLED"}}]`` and
  ``extensions.cost.throttleStatus``. ``fail_graphql_next`` answers a GraphQL error instead.
* ``GET shop.json`` and ``GET /admin/oauth/access_scopes.json`` for checks.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tests.fakes.server import FakeApi, Request, Response, error, json_response, renamed
from tests.fakes.shop import Shop, ShopOrder

SHOP_ZONE = timezone(timedelta(hours=-4))
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
FILTERS = (
    "status",
    "updated_at_min",
    "updated_at_max",
    "created_at_min",
    "created_at_max",
    "since_id",
)
PAGE_INFO_ALLOWED = {"page_info", "limit", "fields"}
CALL_LIMIT = "X-Shopify-Shop-Api-Call-Limit"


class CallBucket:
    """Shopify's REST leaky bucket: it counts every call; enforced, a full bucket refuses."""

    def __init__(self, capacity: int = 40, drain_per_s: float = 2.0, enforce: bool = False):
        self.capacity = capacity
        self.drain_per_s = drain_per_s
        self.enforce = enforce
        self.level = 0.0
        self._at: float | None = None
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, float, str]:
        """(accepted, seconds until one call fits, the call-limit header value)."""
        with self._lock:
            now = time.monotonic()
            if self._at is not None:
                self.level = max(0.0, self.level - (now - self._at) * self.drain_per_s)
            self._at = now
            if self.level + 1 > self.capacity:
                if self.enforce:
                    wait = (self.level + 1 - self.capacity) / self.drain_per_s
                    return False, wait, f"{self.capacity}/{self.capacity}"
                self.level = self.capacity - 1.0  # counted only: stays full
            self.level += 1
            return True, 0.0, f"{math.ceil(self.level)}/{self.capacity}"


class CostBucket:
    """GraphQL's bucket of query cost, restored ``restore_rate`` points a second."""

    def __init__(self, maximum: float = 2000.0, restore_rate: float = 100.0) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.available = maximum
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def take(self, cost: float) -> tuple[bool, dict[str, float]]:
        with self._lock:
            now = time.monotonic()
            self.available = min(
                self.maximum, self.available + (now - self._at) * self.restore_rate
            )
            self._at = now
            accepted = self.available >= cost
            if accepted:
                self.available -= cost
            return accepted, self.status()

    def refund(self, points: float) -> dict[str, float]:
        """Give back what a query was charged beyond its actual cost (Shopify charges the
        requested cost up front and refunds the difference once the query ran)."""
        with self._lock:
            self.available = min(self.maximum, self.available + points)
            return self.status()

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": math.floor(self.available),
            "restoreRate": self.restore_rate,
        }


class FakeShopify(FakeApi):
    name = "shopify"

    def __init__(
        self,
        shop: Shop,
        token: str = "shpat_fake_token_1",
        version: str = "2024-10",
        domain: str = "acme-coffee.myshopify.com",
    ) -> None:
        super().__init__()
        self.shop = shop
        self.token = token
        self.version = version
        self.domain = domain
        # Field renames applied to every REST order ({"total_price": "..."}): a changed API.
        self.order_renames: dict[str, str] = {}
        self.wallet_checkout_ids: set[str] = set()
        self.scopes = ["read_orders", "read_all_orders", "read_customers"]
        self.bucket = CallBucket()
        self.graphql_bucket = CostBucket()
        self._graphql_errors: list[dict[str, Any]] = []

    # -- switches a test flips ----------------------------------------------------------------

    def throttle_rest(self, capacity: int = 40, drain_per_s: float = 2.0) -> None:
        self.bucket = CallBucket(capacity, drain_per_s, enforce=True)

    def fail_graphql_next(self, message: str, code: str | None = None) -> None:
        extensions = {"code": code} if code else {}
        self._graphql_errors.append({"message": message, "extensions": extensions})

    # -- statuses ------------------------------------------------------------------------------

    def status_of(self, order: ShopOrder) -> str:
        """``open``, ``closed`` or ``cancelled``: every 4th order (from the 2nd) is closed, the
        3rd is cancelled."""
        index = self.shop.orders.index(order)
        if index == 2:
            return "cancelled"
        return "closed" if index % 4 == 1 else "open"

    # -- routing -------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        if request.header("X-Shopify-Access-Token") != self.token:
            return error(401, {"errors": INVALID_TOKEN})
        if request.path == "/admin/oauth/access_scopes.json":
            return self._rest(request, lambda: {"access_scopes": self._scopes()})
        match = re.fullmatch(r"/admin/api/([^/]+)/(.+)", request.path)
        if not match or match[1] != self.version:
            return error(404, {"errors": "Not Found"})
        resource = match[2]
        if resource == "graphql.json" and request.method == "POST":
            return self._graphql(request)
        if request.method != "GET":
            return error(406, {"errors": "Not Acceptable"})
        if resource == "shop.json":
            return self._rest(request, lambda: {"shop": self._shop()})
        if resource == "orders.json":
            return self._rest(request, lambda: self._orders(request))
        match = re.fullmatch(r"orders/(\d+)\.json", resource)
        if match and self.shop.by_id(match[1]) is not None:
            order = self.shop.by_id(match[1])
            assert order is not None
            return self._rest(request, lambda: {"order": self.render_order(order)})
        return error(404, {"errors": "Not Found"})

    def _rest(self, request: Request, answer: Any) -> Response:
        accepted, wait, used = self.bucket.take()
        if not accepted:
            return error(
                429,
                {
                    "errors": "Exceeded 2 calls per second for api client. Reduce request rates "
                    "to resume uninterrupted service."
                },
                **{"Retry-After": f"{max(1, math.ceil(wait)):.1f}", CALL_LIMIT: used},
            )
        result = answer()
        response = result if isinstance(result, Response) else json_response(result)
        response.headers[CALL_LIMIT] = used
        return response

    # -- REST orders ---------------------------------------------------------------------------

    def _orders(self, request: Request) -> Response | dict[str, Any]:
        query = request.query
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            return error(400, {"errors": {"limit": ["is not a number"]}})
        if not 1 <= limit <= 250:
            return error(400, {"errors": {"limit": ["must be between 1 and 250"]}})
        if "page_info" in query:
            extra = sorted(set(query) - PAGE_INFO_ALLOWED)
            if extra:
                return error(
                    400,
                    {
                        "errors": {
                            "page_info": [
                                "cannot be combined with other parameters besides limit and "
                                f"fields (got {', '.join(extra)})"
                            ]
                        }
                    },
                )
            try:
                token = query["page_info"]
                state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
                filters, offset = dict(state["f"]), int(state["o"])
            except (ValueError, KeyError, TypeError):
                return error(400, {"errors": {"page_info": ["Invalid value."]}})
        else:
            filters = {name: query[name] for name in FILTERS if name in query}
            offset = 0
        try:
            orders = self._matching(filters)
        except ValueError as exc:
            return error(400, {"errors": {str(exc): ["is invalid"]}})
        chunk = orders[offset : offset + limit]
        fields = [f for f in query.get("fields", "").split(",") if f]
        rendered = [self.render_order(o) for o in chunk]
        if fields:
            rendered = [{k: v for k, v in r.items() if k in fields} for r in rendered]
        links = []
        host = request.header("Host") or self.domain
        url = f"http://{host}/admin/api/{self.version}/orders.json"
        if offset > 0:
            previous = _page_info(filters, max(0, offset - limit))
            links.append(f'<{url}?limit={limit}&page_info={previous}>; rel="previous"')
        if offset + limit < len(orders):
            following = _page_info(filters, offset + limit)
            links.append(f'<{url}?limit={limit}&page_info={following}>; rel="next"')
        response = json_response({"orders": rendered})
        if links:
            response.headers["Link"] = ", ".join(links)
        return response

    def _matching(self, filters: dict[str, str]) -> list[ShopOrder]:
        status = filters.get("status", "open")
        if status not in ("open", "closed", "cancelled", "any"):
            raise ValueError("status")
        bounds = {name: _shop_time(filters[name], name) for name in FILTERS[1:5] if name in filters}
        since = int(filters["since_id"]) if filters.get("since_id", "").isdigit() else None
        chosen = []
        for order in self.shop.orders:
            if status != "any" and self.status_of(order) != status:
                continue
            updated = order.updated_at.replace(microsecond=0)
            created = order.created_at.replace(microsecond=0)
            if "updated_at_min" in bounds and updated < bounds["updated_at_min"]:
                continue
            if "updated_at_max" in bounds and updated > bounds["updated_at_max"]:
                continue
            if "created_at_min" in bounds and created < bounds["created_at_min"]:
                continue
            if "created_at_max" in bounds and created > bounds["created_at_max"]:
                continue
            if since is not None and int(order.order_id) <= since:
                continue
            chosen.append(order)
        return sorted(chosen, key=lambda o: int(o.order_id))

    def render_order(self, order: ShopOrder) -> dict[str, Any]:
        """The order as REST (and the orders/* webhooks) render it."""
        status = self.status_of(order)
        total = f"{order.revenue:.2f}"
        money = {"amount": total, "currency_code": order.currency}
        record: dict[str, Any] = {
            "id": int(order.order_id),
            "admin_graphql_api_id": f"gid://shopify/Order/{order.order_id}",
            "name": order.name or f"#{int(order.order_id) % 100000}",
            "email": order.email,
            "created_at": _local(order.created_at),
            "updated_at": _local(order.updated_at),
            "processed_at": _local(order.created_at),
            "closed_at": _local(order.updated_at) if status == "closed" else None,
            "cancelled_at": _local(order.updated_at) if status == "cancelled" else None,
            "cancel_reason": "customer" if status == "cancelled" else None,
            "financial_status": "voided" if status == "cancelled" else "paid",
            "fulfillment_status": "fulfilled" if status == "closed" else None,
            "currency": order.currency,
            "presentment_currency": order.currency,
            "total_price": total,
            "total_price_set": {"shop_money": money, "presentment_money": dict(money)},
            "discount_codes": [
                {"code": code, "amount": "10.00", "type": "percentage"}
                for code in order.discount_codes
            ],
            "landing_site": (
                "/wallets/checkouts.json"
                if order.order_id in self.wallet_checkout_ids
                else order.landing_url
            ),
            "referring_site": order.referrer,
            "source_name": "web",
            "browser_ip": order.ip,
            "client_details": {
                "browser_ip": order.ip,
                "user_agent": order.user_agent,
                "accept_language": "en-US,en;q=0.9",
                "browser_height": None,
                "browser_width": None,
                "session_hash": None,
            },
            "customer": (
                {"id": int(order.customer_id), "email": order.email} if order.customer_id else None
            ),
            "note_attributes": [
                {"name": "gift_message", "value": ""},
                *(
                    [{"name": "How did you hear about us?", "value": order.survey_answer}]
                    if order.survey_answer
                    else []
                ),
            ],
            "test": False,
        }
        return renamed(record, dict(self.order_renames))

    # -- GraphQL -------------------------------------------------------------------------------

    def _graphql(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            return error(400, {"errors": {"query": "Required parameter missing or invalid"}})
        query = body.get("query") if isinstance(body, dict) else None
        if not isinstance(query, str):
            return error(400, {"errors": {"query": "Required parameter missing or invalid"}})
        variables = body.get("variables") or {}
        args = _orders_arguments(query, variables)
        if args is None:
            return json_response(
                {"errors": [{"message": "Only the orders query is served by this fake"}]}
            )
        first = args.get("first")
        if not isinstance(first, int) or not 1 <= first <= 250:
            return json_response(
                {
                    "errors": [
                        {
                            "message": "you must provide one of first or last (at most 250)",
                            "extensions": {"code": "BAD_REQUEST"},
                        }
                    ]
                }
            )
        cost = 2 + 3 * first
        accepted, status = self.graphql_bucket.take(cost)
        extensions = {
            "cost": {
                "requestedQueryCost": cost,
                "actualQueryCost": cost if accepted else None,
                "throttleStatus": status,
            }
        }
        if not accepted:
            return json_response(
                {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": extensions,
                }
            )
        if self._graphql_errors:
            return json_response(
                {"errors": [self._graphql_errors.pop(0)], "extensions": extensions}
            )
        orders = sorted(
            (o for o in self.shop.orders if _matches_search(o, args.get("query") or "")),
            key=lambda o: (o.updated_at, int(o.order_id)),
        )
        offset = 0
        if args.get("after"):
            try:
                offset = int(base64.urlsafe_b64decode(str(args["after"]).encode()).decode())
            except ValueError:
                invalid = {"message": "Invalid cursor for current pagination"}
                return json_response({"errors": [invalid]})
        chunk = orders[offset : offset + first]
        actual = 2 + 3 * len(chunk)
        extensions["cost"]["actualQueryCost"] = actual
        extensions["cost"]["throttleStatus"] = self.graphql_bucket.refund(cost - actual)
        nodes = [self._node(o, query) for o in chunk]
        cursors = [_cursor(offset + i + 1) for i in range(len(chunk))]
        connection: dict[str, Any] = {
            "pageInfo": {
                "hasNextPage": offset + first < len(orders),
                "endCursor": cursors[-1] if cursors else None,
            }
        }
        if re.search(r"\bnodes\b", query):
            connection["nodes"] = nodes
        if re.search(r"\bedges\b", query):
            pairs = zip(nodes, cursors, strict=True)
            connection["edges"] = [{"node": n, "cursor": c} for n, c in pairs]
        return json_response({"data": {"orders": connection}, "extensions": extensions})

    def _node(self, order: ShopOrder, query: str) -> dict[str, Any]:
        node: dict[str, Any] = {
            "id": f"gid://shopify/Order/{order.order_id}",
            "legacyResourceId": order.order_id,
            "name": order.name or f"#{int(order.order_id) % 100000}",
            "createdAt": _zulu(order.created_at),
            "updatedAt": _zulu(order.updated_at),
            "customerJourneySummary": self.journey(order),
        }
        # Only what was asked is answered, as GraphQL does.
        return {k: v for k, v in node.items() if re.search(rf"\b{k}\b", query)}

    def journey(self, order: ShopOrder) -> dict[str, Any] | None:
        if not order.utm_source:
            return None
        numeric = int(order.order_id)
        first = {
            "id": f"gid://shopify/CustomerVisit/{numeric * 10 + 1}",
            "landingPage": f"https://{self.domain}{order.landing_url or '/'}",
            "referrerUrl": order.referrer,
            "occurredAt": _zulu(order.created_at - timedelta(days=2)),
            "source": order.utm_source,
            "utmParameters": {
                "source": order.utm_source,
                "medium": order.utm_medium,
                "campaign": order.utm_campaign,
                "content": None,
                "term": None,
            },
        }
        last = first
        if numeric % 2 == 0:
            last = {
                "id": f"gid://shopify/CustomerVisit/{numeric * 10 + 2}",
                "landingPage": f"https://{self.domain}/cart",
                "referrerUrl": None,
                "occurredAt": _zulu(order.created_at - timedelta(minutes=15)),
                "source": "direct",
                "utmParameters": None,
            }
        return {"daysToConversion": 2, "firstVisit": first, "lastVisit": dict(last)}

    # -- checks --------------------------------------------------------------------------------

    def _shop(self) -> dict[str, Any]:
        return {
            "id": 548380009,
            "name": "Acme Coffee",
            "myshopify_domain": self.domain,
            "iana_timezone": "America/New_York",
            "currency": "USD",
        }

    def _scopes(self) -> list[dict[str, str]]:
        return [{"handle": s} for s in self.scopes]


def _page_info(filters: dict[str, str], offset: int) -> str:
    raw = json.dumps({"f": filters, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(str(position).encode()).decode()


def _shop_time(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHOP_ZONE)  # Shopify reads it in the shop's zone
    return moment


def _local(moment: datetime) -> str:
    return moment.astimezone(SHOP_ZONE).isoformat(timespec="seconds")


def _zulu(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_ARGUMENT = re.compile(r"(\w+)\s*:\s*(\$\w+|\"(?:[^\"\\]|\\.)*\"|-?\d+|null)")


def _orders_arguments(query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
    """``first``, ``after`` and ``query`` of the ``orders(...)`` field: literals or variables."""
    match = re.search(r"\borders\s*\(([^)]*)\)", query)
    if match is None:
        return None
    args: dict[str, Any] = {}
    for name, raw in _ARGUMENT.findall(match[1]):
        if raw.startswith("$"):
            args[name] = variables.get(raw[1:])
        elif raw.startswith('"'):
            args[name] = json.loads(raw)
        elif raw == "null":
            args[name] = None
        else:
            args[name] = int(raw)
    return args


_TERM = re.compile(r"^(updated_at|created_at):(>=|<=|>|<)?['\"]?([^'\"]+)['\"]?$")


def _matches_search(order: ShopOrder, search: str) -> bool:
    """Shopify's search syntax for the terms the fake knows; unknown terms are ignored (as
    Shopify ignores what it cannot parse)."""
    for term in (t.strip() for t in re.split(r"\s+AND\s+", search) if t.strip()):
        match = _TERM.match(term)
        if match is None:
            continue
        field_name, op, raw = match[1], match[2] or "=", match[3]
        try:
            bound = _shop_time(raw, field_name)
        except ValueError:
            continue
        value = order.updated_at if field_name == "updated_at" else order.created_at
        value = value.replace(microsecond=0)
        ok = {
            ">=": value >= bound,
            "<=": value <= bound,
            ">": value > bound,
            "<": value < bound,
            "=": value == bound,
        }[op]
        if not ok:
            return False
    return True
