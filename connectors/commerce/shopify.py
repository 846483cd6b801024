"""Shopify: orders (Admin REST) and the customer journey behind each order (Admin GraphQL).

API facts this connector relies on (docs/developer/connectors.md, shopify.dev):

* base ``https://{shop}.myshopify.com``, every path under ``/admin/api/{version}``; auth header
  ``X-Shopify-Access-Token``; a wrong or missing token is 401
  ``{"errors": "[API] Invalid API key or access token ..."}``, a missing scope 403;
* ``GET orders.json`` lists only *open* orders unless ``status=any``; ``updated_at_min`` and
  ``updated_at_max`` (ISO-8601 with offset, both inclusive; a time without offset is read in the
  shop's own zone, so an offset is always sent) select what changed in a window; ``limit`` at
  most 250. Without the ``read_all_orders`` scope only the last 60 days are visible;
* pages: the ``Link`` header ``<...orders.json?page_info=X&limit=N>; rel="next"`` with an
  opaque ``page_info``; no ``Link`` on a single page. A request with ``page_info`` may carry
  only ``limit`` and ``fields``: Shopify refuses the filters beside it (400);
* an order: ``id`` an int64, ``created_at``/``updated_at`` with the shop's offset
  (``2020-07-09T05:36:23-04:00``), ``total_price`` a **string** (``"149.00"``), ``currency``,
  ``discount_codes`` ``[{"code"}]``, ``landing_site`` (a path with its query string),
  ``referring_site``, ``browser_ip``, ``client_details.user_agent``, ``customer.id``,
  ``note_attributes`` ``[{"name", "value"}]`` (checkout questions such as "How did you hear
  about us?"). ``landing_site`` is ``/wallets/checkouts.json`` when the order was placed through
  an accelerated wallet checkout (Shop Pay, Apple Pay): that is an API call of the checkout, not
  the page the buyer landed on, so it is read as no landing page;
* REST limit: a leaky bucket per app and shop (40 requests, draining 2 a second on standard
  plans) reported in ``X-Shopify-Shop-Api-Call-Limit: 32/40``; over it, 429 with
  ``Retry-After`` in seconds, which Shopify writes as a decimal (``2.0``): it is rounded up to
  whole seconds here, the form the retrying client reads;
* GraphQL ``POST graphql.json``: ``orders(first:, after:, query:)`` with Relay
  ``pageInfo{hasNextPage endCursor}``; ``customerJourneySummary{firstVisit lastVisit
  daysToConversion}``, each visit with ``id``, ``landingPage``, ``referrerUrl``, ``occurredAt``
  and ``utmParameters{source medium campaign content term}``. Its limit is a bucket of query
  cost: a throttled query is HTTP 200 with ``errors[{extensions:{code:"THROTTLED"}}]`` and
  ``extensions.cost{requestedQueryCost, throttleStatus{maximumAvailable, currentlyAvailable,
  restoreRate}}``; it is retried after the deficit has been restored;
* webhooks ``orders/create`` and ``orders/updated`` carry the whole order as REST renders it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from pydantic import Field, field_validator
from requests import Request, Response

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import (
    ApiChangedError,
    ConnectorError,
    CredentialsError,
    RecordError,
)
from connectors.framework.http import ApiClient, Pacing, redact_url
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

ORDERS = Stream("orders", "orders", "every order, as it was last changed", per_day=True)
JOURNEYS = Stream(
    "customer_journeys",
    "site_events",
    "the first and last visit Shopify ties to each order (landing page, referrer, UTM tags)",
    per_day=True,
)
# Orders older than this are hidden from an app without the read_all_orders scope.
RECENT_ORDER_DAYS = 60
# Shopify's path of an accelerated (wallet) checkout, reported as landing_site by mistake.
WALLET_CHECKOUT_PATH = "/wallets/checkouts"
THROTTLED = "THROTTLED"

JOURNEY_QUERY = """
query OrderJourneys($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      legacyResourceId
      name
      createdAt
      updatedAt
      customerJourneySummary {
        daysToConversion
        firstVisit { ...Visit }
        lastVisit { ...Visit }
      }
    }
  }
}
fragment Visit on CustomerVisit {
  id
  landingPage
  referrerUrl
  occurredAt
  utmParameters { source medium campaign content term }
}
"""


class ShopifySettings(ConnectorSettings):
    # The shop's myshopify subdomain: "acme-coffee" for acme-coffee.myshopify.com.
    shop: str
    # Admin API version (a quarterly release, YYYY-MM).
    api_version: str = "2024-10"
    # Orders per page (REST limit, GraphQL first); Shopify's maximum is 250.
    page_size: int = Field(default=250, ge=1, le=250)
    # Pattern (case-insensitive) of the note attribute holding the "how did you hear about us"
    # answer of the checkout.
    survey_attribute: str = "hear"
    # Which of the order's identifiers is its order_id: the numeric `id`, or its `name` ("#1001",
    # the "Name" column of Shopify's CSV exports). A tenant that imported order exports before
    # connecting the API sets `name`, so the same order keeps one id and is never counted twice.
    order_id_from: Literal["id", "name"] = "id"

    @field_validator("shop")
    @classmethod
    def _subdomain(cls, value: str) -> str:
        # People paste the admin URL or the full domain; the subdomain is what is meant.
        shop = re.sub(r"^https?://", "", value.strip().lower()).split("/")[0]
        shop = shop.removesuffix(".myshopify.com")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", shop):
            raise ValueError(f"not a myshopify subdomain: {value!r} (e.g. acme-coffee)")
        return shop

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"\d{4}-\d{2}|unstable", value):
            raise ValueError(f"not an Admin API version (YYYY-MM): {value!r}")
        return value

    @field_validator("survey_attribute")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value


class Shopify(Connector):
    platform = "shopify"
    display_name = "Shopify"
    settings_model = ShopifySettings
    credentials = ("access_token",)
    streams = (ORDERS, JOURNEYS)
    # A standard plan's REST bucket: 40 at once, refilled 2 a second; 40 per 20 s never
    # overflows it and still lets a short sync go at full speed.
    default_pacing = Pacing(40, 20.0)
    webhook_topics = ("orders/create", "orders/updated")
    # How the connector waits for GraphQL cost to be restored (a test records the waits).
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    @property
    def config(self) -> ShopifySettings:
        assert isinstance(self.settings, ShopifySettings)
        return self.settings

    @property
    def base_url(self) -> str:
        return self.settings.base_url or f"https://{self.config.shop}.myshopify.com"

    def api_path(self, name: str) -> str:
        return f"/admin/api/{self.config.api_version}/{name}"

    def build_client(self) -> ApiClient:
        # Shopify's decimal Retry-After ("2.0") is made whole seconds by every ApiClient.
        return ApiClient(
            self.platform,
            self.base_url,
            auth=APIKeyAuth("X-Shopify-Access-Token", self.secrets["access_token"], "header"),
            check=_check,
            **self.client_options(),
        )

    def check(self) -> str:
        page = self.client.get(self.api_path("shop.json"))
        shop = page.records[0].get("shop") if isinstance(page.records[0], dict) else None
        if not isinstance(shop, dict):
            raise ApiChangedError(f"shopify: {page.url} should hold a shop object")
        scopes = self.access_scopes()
        if "read_orders" not in scopes and "write_orders" not in scopes:
            raise CredentialsError(
                "shopify: the access token lacks the read_orders scope; grant it to the app"
            )
        seen = f"shop {shop.get('name')!s} ({shop.get('myshopify_domain') or self.config.shop})"
        if "read_all_orders" not in scopes:
            seen += (
                f"; no read_all_orders scope: orders older than {RECENT_ORDER_DAYS} days are "
                "out of reach"
            )
        return seen

    def access_scopes(self) -> set[str]:
        page = self.client.get("/admin/oauth/access_scopes.json")
        body = page.records[0]
        listed = body.get("access_scopes") if isinstance(body, dict) else None
        if not isinstance(listed, list):
            raise ApiChangedError(f"shopify: {page.url} should list access_scopes")
        return {str(s.get("handle")) for s in listed if isinstance(s, dict)}

    # -- streams -------------------------------------------------------------------------------

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        plan = self.day_plan(state, mode)
        if plan.slices and date.fromisoformat(plan.slices[0]) < self.today - timedelta(
            days=RECENT_ORDER_DAYS
        ):
            note = (
                f"days before {self.today - timedelta(days=RECENT_ORDER_DAYS)} hold orders "
                f"older than {RECENT_ORDER_DAYS} days: Shopify shows them only to an app with "
                "the read_all_orders scope (without it they come back empty)"
            )
            plan = Plan(plan.slices, plan.target_cursor, (*plan.notes, note))
        return plan

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        start, end = self.day_window(slice_id)
        if stream.name == ORDERS.name:
            yield from self._orders(start, end)
        else:
            yield from self._journeys(start, end)

    def _orders(self, start: datetime, end: datetime) -> Iterator[SourceRecord]:
        params = {
            # Without it Shopify lists open orders only: a fulfilled or cancelled order
            # would silently never land again.
            "status": "any",
            "updated_at_min": start.isoformat(),
            # Both bounds are inclusive and times have whole seconds: the day's last second.
            "updated_at_max": (end - timedelta(seconds=1)).isoformat(),
            "limit": self.config.page_size,
        }
        pages = self.client.pages(
            self.api_path("orders.json"), params=params, paginator=PageInfoLinks()
        )
        for page in pages:
            body = page.records[0] if page.records else None
            orders = body.get("orders") if isinstance(body, dict) else None
            if not isinstance(orders, list):
                raise ApiChangedError(f"shopify: {page.url} should hold a list of orders")
            for position, record in enumerate(orders):
                yield SourceRecord(record, page.url, position)

    def _journeys(self, start: datetime, end: datetime) -> Iterator[SourceRecord]:
        search = f"updated_at:>='{iso_z(start)}' AND updated_at:<'{iso_z(end)}'"
        after: str | None = None
        while True:
            variables = {"first": self.config.page_size, "after": after, "query": search}
            body, url = self.graphql(JOURNEY_QUERY, variables)
            connection = get(body, "data.orders", None)
            nodes = connection.get("nodes") if isinstance(connection, dict) else None
            info = connection.get("pageInfo") if isinstance(connection, dict) else None
            if not isinstance(nodes, list) or not isinstance(info, dict):
                raise ApiChangedError(
                    f"shopify: {url} should answer data.orders with nodes and pageInfo"
                )
            # The cursor of the page locates a record in lineage (the URL is the same).
            where = f"{url}#after={after}" if after else url
            for position, record in enumerate(nodes):
                yield SourceRecord(record, where, position)
            after = info.get("endCursor")
            if not info.get("hasNextPage"):
                return
            if not after:
                raise ApiChangedError(f"shopify: {url} says hasNextPage without an endCursor")

    def graphql(self, query: str, variables: dict[str, Any]) -> tuple[Any, str]:
        """One GraphQL query's answer, retried while Shopify says it is THROTTLED; any other
        GraphQL error is a ConnectorError naming its message."""
        client = self.client
        for attempt in range(1, client.max_attempts + 1):
            response = client.rest.post(
                self.api_path("graphql.json"), json={"query": query, "variables": variables}
            )
            url = redact_url(response.url)
            client.raise_for_problem(response, url)
            body = client.parse(response, url)
            errors = body.get("errors") if isinstance(body, dict) else None
            if not errors:
                return body, url
            if not _throttled(errors):
                raise _graphql_error(errors, url)
            client.counter.throttled += 1
            if attempt < client.max_attempts:
                self.sleep(min(_restore_wait(body), self.settings.max_retry_delay_s))
        raise ConnectorError(
            f"shopify: GraphQL still throttled at {url} after {client.max_attempts} attempts; "
            "the sync stopped at its last checkpoint and resumes from there"
        )

    # -- rows ----------------------------------------------------------------------------------

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        if stream.name == ORDERS.name:
            yield self._order_row(item.record)
        else:
            yield from self._visit_rows(item.record)

    def _order_row(self, record: Any) -> dict[str, Any]:
        landing = text(record, "landing_site", None)
        if landing and landing.startswith(WALLET_CHECKOUT_PATH):
            landing = None
        return {
            "order_id": text(record, self.config.order_id_from),
            "ts": timestamp(record, "created_at"),
            "ip": text(record, "browser_ip", None),
            "user_agent": text(record, "client_details.user_agent", None),
            "customer_id": text(record, "customer.id", None),
            "revenue": number(record, "total_price"),
            "currency": text(record, "currency", None),
            "discount_codes": joined_codes(record, "discount_codes", required=False),
            "landing_url": landing or None,
            "referrer": text(record, "referring_site", None) or None,
            "survey_answer": self._survey_answer(record),
        }

    def _survey_answer(self, record: Any) -> str | None:
        attributes = get(record, "note_attributes", None) or []
        if not isinstance(attributes, list):
            raise field_error("note_attributes", f"expected a list, got {attributes!r}")
        pattern = re.compile(self.config.survey_attribute, re.IGNORECASE)
        for attribute in attributes:
            if not isinstance(attribute, dict):
                continue
            name = attribute.get("name")
            value = attribute.get("value")
            if isinstance(name, str) and pattern.search(name) and value not in (None, ""):
                return str(value).strip() or None
        return None

    def _visit_rows(self, record: Any) -> Iterator[dict[str, Any]]:
        if not isinstance(record, dict) or "customerJourneySummary" not in record:
            raise field_error("customerJourneySummary", "missing")
        order_id = (
            text(record, "name") if self.config.order_id_from == "name" else _legacy_id(record)
        )
        summary = record["customerJourneySummary"]
        if summary is None:  # Shopify has no journey for this order (a POS or draft order)
            return
        if not isinstance(summary, dict):
            raise field_error("customerJourneySummary", f"expected an object, got {summary!r}")
        first, last = summary.get("firstVisit"), summary.get("lastVisit")
        visits = [("first", first)]
        if not _same_visit(first, last):
            visits.append(("last", last))
        for which, visit in visits:
            if visit is None:
                continue
            if not isinstance(visit, dict):
                raise field_error(f"{which}Visit", f"expected an object, got {visit!r}")
            visit_id = text(visit, "id", None)
            event = _gid_tail(visit_id) if visit_id else f"{order_id}:{which}"
            yield {
                "event_id": f"shopify_visit:{event}",
                "ts": timestamp(visit, "occurredAt"),
                "ip": None,
                "user_agent": None,
                "event_type": "visit",
                "url": text(visit, "landingPage", None),
                "referrer": text(visit, "referrerUrl", None),
                "order_id": order_id,
                "utm_source": text(visit, "utmParameters.source", None),
                "utm_medium": text(visit, "utmParameters.medium", None),
                "utm_campaign": text(visit, "utmParameters.campaign", None),
            }

    # -- webhooks ------------------------------------------------------------------------------

    def webhook_records(self, topic: str, payload: Any) -> tuple[Stream, list[SourceRecord]]:
        if not isinstance(payload, dict) or payload.get(self.config.order_id_from) in (None, ""):
            raise RecordError(
                f"shopify {topic} webhook: the payload carries no order {self.config.order_id_from}"
            )
        # The delivery is the whole order as REST renders it: it maps like a listed one.
        return ORDERS, [SourceRecord(payload, f"webhook:shopify/{topic}", 0)]


class PageInfoLinks(BasePaginator):
    """Follows ``rel="next"`` of the ``Link`` header, sending only its ``page_info`` and
    ``limit``: Shopify refuses the first request's filters beside a ``page_info``. The next
    request goes to the client's own address (a proxy or test server stays in between), not to
    the host the link names."""

    def __init__(self) -> None:
        super().__init__()
        self._next: dict[str, str] | None = None

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        link = response.links.get("next", {}).get("url")
        self._next = None
        if link:
            query = parse_qs(urlsplit(link).query)
            if not query.get("page_info"):
                raise ApiChangedError(
                    f"shopify: the next-page link of {redact_url(response.url)} has no page_info"
                )
            self._next = {name: values[0] for name, values in query.items()}
        self._has_next_page = self._next is not None

    def update_request(self, request: Request) -> None:
        if self._next is None:
            return
        request.url = urlunsplit(urlsplit(request.url)._replace(query=""))
        request.params = self._next


def _check(response: Response, url: str) -> None:
    """Shopify's own error shapes: ``{"errors": "..."}`` or ``{"errors": {field: [...]}}``."""
    status = response.status_code
    if status < 400 or status == 429 or status >= 500:
        return
    detail = _errors_text(response)
    if status == 401:
        raise CredentialsError(
            f"shopify: the access token was refused (401) at {url}: {detail}; check the "
            "tenant's secret shopify_access_token (earshot connectors check)"
        )
    if status == 403:
        raise CredentialsError(
            f"shopify: the app may not read this (403) at {url}: {detail}; grant the scope it "
            "names (read_orders) to the app"
        )
    if status == 402:
        raise ConnectorError(f"shopify: the shop is frozen (402 Payment Required) at {url}")
    if status == 404:
        raise ConnectorError(
            f"shopify: {url} was not found (404): check the settings shop and api_version "
            f"({detail})"
        )
    if status == 423:
        raise ConnectorError(f"shopify: the shop is locked (423) at {url}: {detail}")
    raise ConnectorError(f"shopify: {status} at {url}: {detail}")


def _errors_text(response: Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].replace("\n", " ")
    errors = body.get("errors", body) if isinstance(body, dict) else body
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {v}" for k, v in errors.items())[:300]
    return str(errors)[:300]


def _throttled(errors: Any) -> bool:
    return isinstance(errors, list) and any(
        isinstance(e, dict) and get(e, "extensions.code", None) == THROTTLED for e in errors
    )


def _restore_wait(body: dict[str, Any]) -> float:
    """Seconds until the cost bucket holds what the query asked for (Shopify's advice)."""
    cost = get(body, "extensions.cost", None) or {}
    status = cost.get("throttleStatus") if isinstance(cost, dict) else None
    try:
        available = float(status["currentlyAvailable"])
        rate = float(status["restoreRate"])
        wanted = float(cost.get("requestedQueryCost") or status["maximumAvailable"])
    except (TypeError, KeyError, ValueError):
        return 1.0  # no throttle status: a second refills a standard shop's 50-100 points
    if rate <= 0:
        return 1.0
    return max(wanted - available, 1.0) / rate


def _graphql_error(errors: Any, url: str) -> ConnectorError:
    listed = errors if isinstance(errors, list) else [errors]
    messages = [
        str(e.get("message")) if isinstance(e, dict) else str(e) for e in listed if e is not None
    ]
    codes = {get(e, "extensions.code", None) for e in listed if isinstance(e, dict)}
    text_ = "; ".join(messages)[:300]
    if "ACCESS_DENIED" in codes:
        return CredentialsError(
            f"shopify: GraphQL refused the query at {url} (ACCESS_DENIED): {text_}; grant the "
            "app the read_orders scope"
        )
    return ConnectorError(f"shopify: GraphQL error at {url}: {text_}")


def _legacy_id(record: dict[str, Any]) -> str:
    """The order's numeric id, as REST and the orders entity know it."""
    legacy = text(record, "legacyResourceId", None)
    if legacy:
        return legacy
    return _gid_tail(text(record, "id") or "")


def _gid_tail(value: str) -> str:
    # "gid://shopify/Order/123" -> "123"; anything else is kept as the opaque text it is.
    if value.startswith("gid://"):
        return value.rsplit("/", 1)[-1]
    return value


def _same_visit(first: Any, last: Any) -> bool:
    if not isinstance(first, dict) or not isinstance(last, dict):
        return last is None
    if first.get("id") and last.get("id"):
        return first["id"] == last["id"]
    return first == last
