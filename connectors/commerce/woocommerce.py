"""WooCommerce: the orders of a WordPress shop, and the visit its Order Attribution recorded.

API facts (WooCommerce REST API v3, reference "Ecommerce") this connector relies on:

* the API lives on the shop's own site: ``{site}/wp-json/wc/v3/...``; auth is the REST key's
  consumer key and secret by HTTP Basic auth (over HTTPS). WooCommerce also accepts them as
  ``consumer_key``/``consumer_secret`` query parameters; the connector never sends them in a URL;
* errors are ``{"code", "message", "data": {"status"}}``: a missing or wrong key is 401
  (``woocommerce_rest_cannot_view``, ``woocommerce_rest_authentication_error``), a site without
  the REST route (plain permalinks, WooCommerce off) is 404 ``rest_no_route``;
* ``GET /orders`` pages with ``page`` (from 1) and ``per_page`` (at most 100) and says
  ``X-WP-Total`` and ``X-WP-TotalPages``; ``modified_after``/``modified_before`` with
  ``dates_are_gmt=true`` select by ``date_modified_gmt`` (WordPress date queries exclude both
  bounds); ``status=any`` lists every status;
* an order: ``id`` (a number, read as opaque text), ``date_created_gmt``/``date_modified_gmt``
  (ISO-8601 without an offset, in GMT), ``total`` a string, ``currency``, ``customer_id`` (0 for
  a guest), ``customer_ip_address``, ``customer_user_agent``, ``coupon_lines[{code, discount}]``,
  ``meta_data[{id, key, value}]``;
* Order Attribution (WooCommerce 8.5+, when on) keeps the visit behind an order in meta:
  ``_wc_order_attribution_source_type``, ``..._utm_source``, ``..._utm_medium``,
  ``..._utm_campaign``, ``..._referrer``, ``..._session_entry`` (the landing URL),
  ``..._session_start_time`` (``YYYY-MM-DD HH:MM:SS``; WooCommerce configures its tracker with
  a zero offset, so it is read as UTC) and ``..._user_agent``;
* no rate limit is documented: hosts throttle with 429 and ``Retry-After``, which is honoured;
* webhooks ``order.created``/``order.updated`` carry the whole order as the REST API renders it
  (with the webhook's API version set to "WP REST API Integration v3").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from dlt.sources.helpers.rest_client.paginators import BasePaginator
from pydantic import Field
from requests import Request, Response
from requests.auth import HTTPBasicAuth

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import ApiChangedError, ConnectorError, CredentialsError
from connectors.framework.http import ApiClient, Pacing
from connectors.framework.records import (
    blank_none,
    blank_text,
    field_error,
    get,
    joined_codes,
    number,
    parse_timestamp,
    text,
    timestamp,
)
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StreamState

ORDERS = Stream("orders", "orders", "every order changed in each day, with its coupon codes")
ATTRIBUTION = Stream(
    "order_attribution",
    "site_events",
    "the visit WooCommerce's Order Attribution recorded for each order changed in each day",
)
ORDERS_PATH = "wp-json/wc/v3/orders"
TOPICS = ("order.created", "order.updated")
ATTRIBUTION_PREFIX = "_wc_order_attribution_"
ENTRY_KEY = "_wc_order_attribution_session_entry"
REFERRER_KEY = "_wc_order_attribution_referrer"
START_KEY = "_wc_order_attribution_session_start_time"
USER_AGENT_KEY = "_wc_order_attribution_user_agent"
UTM_KEYS = {
    "utm_source": "_wc_order_attribution_utm_source",
    "utm_medium": "_wc_order_attribution_utm_medium",
    "utm_campaign": "_wc_order_attribution_utm_campaign",
}
# A visit is known when one of these is set; a source type alone ("admin" for an order keyed
# in by staff, "unknown") says there was no tracked visit.
VISIT_KEYS = (ENTRY_KEY, REFERRER_KEY, START_KEY, *UTM_KEYS.values())


class WooCommerceSettings(ConnectorSettings):
    # The shop's site (https://shop.example): the API is under its /wp-json/.
    base_url: str = Field(min_length=1)
    # Orders per page (per_page; WooCommerce allows at most 100).
    page_size: int = Field(default=100, ge=1, le=100)
    # Order meta key holding a "how did you hear about us" answer (a checkout survey plugin's).
    survey_meta_key: str | None = None
    # Land the Order Attribution visit of each order (a second pass over the same orders).
    order_attribution: bool = True


class WooCommerce(Connector):
    platform = "woocommerce"
    display_name = "WooCommerce"
    settings_model = WooCommerceSettings
    credentials = ("consumer_key", "consumer_secret")
    streams = (ORDERS, ATTRIBUTION)
    # No documented limit; a shop's own web server answers, so stay gentle.
    default_pacing = Pacing(5, 1.0)
    webhook_topics = TOPICS

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            auth=HTTPBasicAuth(self.secrets["consumer_key"], self.secrets["consumer_secret"]),
            check=_check_response,
            **self.client_options(),
        )

    def check(self) -> str:
        page = self.client.get(ORDERS_PATH, params={"per_page": 1, "status": "any"})
        total = page.response.headers.get("X-WP-Total")
        if total is None or not total.strip().isdigit():
            raise ApiChangedError(f"woocommerce: {page.url} answered without an X-WP-Total header")
        return f"{int(total)} order(s) visible"

    # -- streams -------------------------------------------------------------------------------

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        if stream.name == ATTRIBUTION.name and not self.settings.order_attribution:  # type: ignore[attr-defined]
            return Plan([], state.cursor, ("order_attribution is off in the tenant's settings",))
        return self.day_plan(state, mode)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        # With dates_are_gmt the bounds are UTC written without an offset.
        start, end = (moment.replace(tzinfo=None) for moment in self.day_window(slice_id))
        per_page = self.settings.page_size  # type: ignore[attr-defined]
        params = {
            # WordPress excludes both bounds and WooCommerce times are whole seconds: one second
            # before the day keeps an order changed at 00:00:00 in exactly one day's window.
            "modified_after": (start - timedelta(seconds=1)).isoformat(),
            "modified_before": end.isoformat(),
            "dates_are_gmt": "true",
            "status": "any",
            "orderby": "id",
            "order": "asc",
            "per_page": per_page,
            "page": 1,
        }
        for page in self.client.pages(ORDERS_PATH, params=params, paginator=_TotalPages(per_page)):
            body = page.response.json()
            if not isinstance(body, list):
                raise ApiChangedError(
                    f"woocommerce: {page.url} should be a JSON list of orders, got "
                    f"{type(body).__name__}"
                )
            for position, record in enumerate(body):
                # A server that included a bound would give the order to two days: it belongs
                # to the one its modification falls in.
                modified = _modified(record)
                if modified is not None and not start <= modified < end:
                    continue
                yield SourceRecord(record, page.url, position)

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        record = item.record
        if not isinstance(record, dict):
            raise field_error("order", f"expected an object, got {type(record).__name__}")
        if stream.name == ATTRIBUTION.name:
            yield from self._visit(record)
            return
        meta = _meta(record)
        customer = text(record, "customer_id", None)
        yield {
            "order_id": text(record, "id"),
            "ts": timestamp(record, "date_created_gmt"),
            "ip": blank_text(record, "customer_ip_address"),
            "user_agent": blank_text(record, "customer_user_agent"),
            "customer_id": None if customer in (None, "", "0") else customer,
            "revenue": number(record, "total"),
            "currency": text(record, "currency", None),
            "discount_codes": joined_codes(record, "coupon_lines"),
            "landing_url": _meta_text(meta, ENTRY_KEY),
            "referrer": _meta_text(meta, REFERRER_KEY),
            "survey_answer": self._survey_answer(meta),
        }

    def _visit(self, record: dict[str, Any]) -> Iterator[dict[str, Any]]:
        meta = _meta(record)
        if not any(_meta_text(meta, key) for key in VISIT_KEYS):
            return
        order_id = text(record, "id")
        started = _meta_text(meta, START_KEY)
        yield {
            "event_id": f"woocommerce_attribution:{order_id}",
            "ts": (
                parse_timestamp(started, f"meta_data.{START_KEY}")
                if started
                else timestamp(record, "date_created_gmt")
            ),
            "ip": blank_text(record, "customer_ip_address"),
            "user_agent": _meta_text(meta, USER_AGENT_KEY)
            or blank_text(record, "customer_user_agent"),
            "event_type": "visit",
            "url": _meta_text(meta, ENTRY_KEY),
            "referrer": _meta_text(meta, REFERRER_KEY),
            "order_id": order_id,
            **{column: _meta_text(meta, key) for column, key in UTM_KEYS.items()},
        }

    def _survey_answer(self, meta: dict[str, Any]) -> str | None:
        key = self.settings.survey_meta_key  # type: ignore[attr-defined]
        if not key or key not in meta:
            return None
        value = meta[key]
        # Survey plugins store a choice as text, several as a list of texts.
        if isinstance(value, list):
            parts = [str(v).strip() for v in value if isinstance(v, str | int | float) and v != ""]
            return ", ".join(parts) or None
        if isinstance(value, dict):
            raise field_error(f"meta_data.{key}", "expected a text answer, got an object")
        return blank_none(str(value))

    # -- webhooks ------------------------------------------------------------------------------

    def webhook_records(self, topic: str, payload: Any) -> tuple[Stream, list[SourceRecord]]:
        """The delivery is the whole order as the REST API renders it: it lands as a sync would
        land it, without asking the site again."""
        if not isinstance(payload, dict):
            raise field_error("order", f"the {topic} delivery is not a JSON object")
        if "id" not in payload and isinstance(payload.get("order"), dict):
            raise field_error(
                "id",
                f"the {topic} delivery is in the legacy API's shape; set the webhook's API "
                "version to 'WP REST API Integration v3'",
            )
        if text(payload, "id", None) in (None, ""):
            raise field_error("id", f"missing in the {topic} delivery")
        return ORDERS, [SourceRecord(payload, f"webhook:woocommerce/{topic}", 0)]


class _TotalPages(BasePaginator):
    """``page`` + 1 while it is below ``X-WP-TotalPages``. Without the header (a caching proxy
    may drop it) a full page means there may be another."""

    def __init__(self, per_page: int) -> None:
        super().__init__()
        self.per_page = per_page
        self.page = 1

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        total = response.headers.get("X-WP-TotalPages", "").strip()
        if total.isdigit():
            self._has_next_page = self.page < int(total)
        else:
            self._has_next_page = len(data or []) >= self.per_page
        if self._has_next_page:
            self.page += 1

    def update_request(self, request: Request) -> None:
        request.params["page"] = self.page


def _check_response(response: Response, url: str) -> None:
    """WooCommerce's own error object, said in its words (never with the credentials)."""
    if response.status_code < 400 or response.status_code == 429:
        return
    try:
        body = response.json()
    except ValueError:
        return
    if not isinstance(body, dict) or "code" not in body:
        return
    code, message = str(body.get("code")), str(body.get("message", ""))[:200]
    status = response.status_code
    if status in (401, 403):
        raise CredentialsError(
            f"woocommerce: the site refused the REST API key ({status} {code}: {message}) at "
            f"{url}; check the tenant's consumer key and secret and that the key may read "
            "orders (earshot connectors check)"
        )
    if code == "rest_no_route":
        raise ConnectorError(
            f"woocommerce: {url} is not a WooCommerce REST route (404 rest_no_route); check "
            "base_url, that WooCommerce is active and that permalinks are not 'Plain'"
        )
    if status < 500:
        raise ConnectorError(f"woocommerce: {status} {code} at {url}: {message}")


def _meta(record: dict[str, Any]) -> dict[str, Any]:
    """``meta_data`` as key -> value (the last entry of a key wins, as WordPress reads it)."""
    entries = get(record, "meta_data", [])
    if not isinstance(entries, list):
        raise field_error("meta_data", f"expected a list, got {type(entries).__name__}")
    meta: dict[str, Any] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            meta[entry["key"]] = entry.get("value")
    return meta


def _meta_text(meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None or isinstance(value, dict | list):
        return None
    return blank_none(str(value))


def _modified(record: Any) -> datetime | None:
    if not isinstance(record, dict) or not record.get("date_modified_gmt"):
        return None
    try:
        return parse_timestamp(record["date_modified_gmt"], "date_modified_gmt")
    except ValueError:
        return None


__all__ = ["ATTRIBUTION", "ORDERS", "WooCommerce", "WooCommerceSettings"]
