"""Shopify beyond the generic record contract: order statuses and Link paging, the customer
journey over GraphQL and its cost throttling, the wallet-checkout landing page, note-attribute
survey answers, the orders webhooks and the 60-day note."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from pydantic import ValidationError

from connectors.commerce.shopify import (
    JOURNEYS,
    ORDERS,
    Shopify,
    ShopifySettings,
)
from connectors.framework.connector import FULL, INCREMENTAL, SourceRecord
from connectors.framework.errors import ConnectorError, CredentialsError, RecordError
from connectors.framework.http import RetryAfterHook, whole_retry_after
from connectors.framework.settings import RateLimit
from connectors.framework.state import StreamState
from connectors.framework.sync import sync_connector
from tests.fakes.shop import Shop, make_shop
from tests.fakes.shopify import CostBucket, FakeShopify
from tests.unit.connectors.conftest import landed_rows
from warehouse.landing import LandingZone

FIRST = date(2026, 10, 1)
DAYS = 4
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "shopify_co"
TOKEN = "shpat_unit_token_1"
PATH = "/admin/api/2024-10/orders.json"


@pytest.fixture
def shop() -> Shop:
    return make_shop(FIRST, DAYS)


@pytest.fixture
def fake(shop: Shop) -> Iterator[FakeShopify]:
    with FakeShopify(shop, TOKEN) as server:
        yield server  # type: ignore[misc]


def connector(
    fake: FakeShopify, today: date | None = None, token: str = TOKEN, **settings: Any
) -> Shopify:
    options = {
        "shop": "acme-coffee",
        "base_url": fake.base_url,
        "start_date": FIRST,
        "page_size": 2,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 3,
        **settings,
    }
    return Shopify(
        TENANT,
        ShopifySettings.model_validate(options),
        {"access_token": token},
        today=today or LAST + timedelta(days=1),
    )


def landed(zone: LandingZone, entity: str) -> list[dict[str, Any]]:
    return landed_rows(zone, TENANT, "shopify", entity)


def get(fake: FakeShopify, params: dict[str, str]) -> requests.Response:
    return requests.get(
        fake.base_url + PATH, params=params, headers={"X-Shopify-Access-Token": TOKEN}
    )


# -- orders --------------------------------------------------------------------------------------


def test_orders_of_every_status_land_with_their_rest_fields(
    fake: FakeShopify, shop: Shop, zone: LandingZone
) -> None:
    report = sync_connector(connector(fake), zone, mode=FULL, streams=["orders"])
    rows = {r["order_id"]: r for r in landed(zone, "orders")}
    assert set(rows) == {o.order_id for o in shop.orders}
    statuses = {fake.status_of(o) for o in shop.orders}
    assert statuses == {"open", "closed", "cancelled"}, "the fake holds orders of each status"
    for order in shop.orders:
        assert rows[order.order_id] | {"_record": None} == {
            **rows[order.order_id],
            "_record": None,
            "ts": order.created_at.astimezone(UTC).replace(tzinfo=None),
            "revenue": pytest.approx(order.revenue),
            "currency": "USD",
            "discount_codes": ",".join(order.discount_codes) or None,
            "customer_id": order.customer_id,
            "ip": order.ip,
            "user_agent": order.user_agent,
            "landing_url": order.landing_url,
            "referrer": order.referrer,
            "survey_answer": order.survey_answer,
        }
    assert any(r["discount_codes"] for r in rows.values())
    assert any(r["survey_answer"] for r in rows.values())
    assert report.throttled == 0


def test_the_fake_lists_open_orders_unless_status_any(fake: FakeShopify, shop: Shop) -> None:
    window = {"updated_at_min": "2026-09-01T00:00:00+00:00", "limit": "250"}
    open_only = get(fake, window).json()["orders"]
    every = get(fake, {**window, "status": "any"}).json()["orders"]
    assert len(every) == len(shop.orders) > len(open_only)
    assert all(o["closed_at"] is None and o["cancelled_at"] is None for o in open_only)


def test_pages_follow_the_link_header_with_page_info_and_limit_only(
    fake: FakeShopify, zone: LandingZone
) -> None:
    sync_connector(connector(fake), zone, mode=FULL, streams=["orders"])
    first_pages = [s.query for s in fake.requests_to(PATH) if "page_info" not in s.query]
    next_pages = [s.query for s in fake.requests_to(PATH) if "page_info" in s.query]
    assert len(first_pages) == DAYS and next_pages, "three orders a day, two a page"
    assert all(set(q) == {"page_info", "limit"} for q in next_pages)
    assert all(q["status"] == "any" for q in first_pages)
    # The window is the UTC day, sent with its offset; both bounds are inclusive.
    assert first_pages[0]["updated_at_min"] == "2026-10-01T00:00:00+00:00"
    assert first_pages[0]["updated_at_max"] == "2026-10-01T23:59:59+00:00"


def test_the_fake_refuses_filters_beside_page_info(fake: FakeShopify) -> None:
    first = get(fake, {"status": "any", "limit": "1", "updated_at_min": "2026-10-01T00:00:00Z"})
    following = first.links["next"]["url"]
    again = requests.get(
        following,
        params={"status": "any"},
        headers={"X-Shopify-Access-Token": TOKEN},
    )
    assert again.status_code == 400 and "page_info" in again.json()["errors"]
    ok = requests.get(following, headers={"X-Shopify-Access-Token": TOKEN})
    assert ok.status_code == 200 and ok.json()["orders"]
    assert "/40" in ok.headers["X-Shopify-Shop-Api-Call-Limit"]
    assert 'rel="previous"' in ok.headers["Link"]


def test_a_wallet_checkout_is_no_landing_page(
    fake: FakeShopify, shop: Shop, zone: LandingZone
) -> None:
    # Shop Pay and other wallets report their own API call as the landing site.
    wallet = shop.orders[0]
    fake.wallet_checkout_ids = {wallet.order_id}
    sync_connector(connector(fake), zone, mode=FULL, streams=["orders"])
    rows = {r["order_id"]: r for r in landed(zone, "orders")}
    assert json.loads(rows[wallet.order_id]["_record"])["landing_site"] == (
        "/wallets/checkouts.json"
    )
    assert rows[wallet.order_id]["landing_url"] is None
    other = shop.orders[1]
    assert rows[other.order_id]["landing_url"] == other.landing_url


def order_record(**fields: Any) -> dict[str, Any]:
    return {
        "id": 820982911946154508,
        "created_at": "2026-10-01T05:36:23-04:00",
        "total_price": "149.00",
        "currency": "EUR",
        **fields,
    }


def test_the_survey_answer_is_the_note_attribute_matching_the_pattern(
    fake: FakeShopify,
) -> None:
    attributes = [
        {"name": "gift_message", "value": "happy birthday"},
        {"name": "Where did you HEAR about us?", "value": " The Morning Cup "},
        {"name": "Referral source", "value": "Radio"},
    ]
    record = SourceRecord(order_record(note_attributes=attributes), "u", 0)
    (row,) = connector(fake).rows(ORDERS, record)
    assert row["survey_answer"] == "The Morning Cup"
    assert row["order_id"] == "820982911946154508"
    assert row["ts"] == datetime(2026, 10, 1, 9, 36, 23)
    assert row["revenue"] == 149.0 and row["discount_codes"] is None
    (row,) = connector(fake, survey_attribute=r"^referral").rows(ORDERS, record)
    assert row["survey_answer"] == "Radio"
    (row,) = connector(fake, survey_attribute="nothing").rows(ORDERS, record)
    assert row["survey_answer"] is None
    with pytest.raises(RecordError, match="note_attributes"):
        list(connector(fake).rows(ORDERS, SourceRecord(order_record(note_attributes="x"), "u", 0)))


def test_a_record_without_total_price_is_quarantined_with_the_field(fake: FakeShopify) -> None:
    record = order_record()
    del record["total_price"]
    with pytest.raises(RecordError, match="total_price: missing"):
        list(connector(fake).rows(ORDERS, SourceRecord(record, "u", 0)))


def test_decimal_retry_after_is_honoured_as_whole_seconds(
    fake: FakeShopify, shop: Shop, zone: LandingZone
) -> None:
    response = requests.Response()
    response.headers["Retry-After"] = "2.0"
    assert whole_retry_after(response).headers["Retry-After"] == "2"
    fake.throttle_rest(3, 4.0)
    source = connector(fake)
    assert any(isinstance(h, RetryAfterHook) for h in source.client.rest.session.hooks["response"])
    report = sync_connector(source, zone, mode=FULL, streams=["orders"])
    refused = [s for s in fake.served if s.status == 429]
    assert refused and len(refused) == report.throttled
    assert report.throttled > 0
    assert {r["order_id"] for r in landed(zone, "orders")} == {o.order_id for o in shop.orders}


def test_the_60_day_note_names_read_all_orders(fake: FakeShopify) -> None:
    today = LAST + timedelta(days=1)
    old = connector(fake, today=today, start_date=today - timedelta(days=90))
    plan = old.plan(ORDERS, StreamState(TENANT, "shopify", "orders"), FULL)
    assert len(plan.slices) == 90
    assert any("read_all_orders" in note for note in plan.notes)
    recent = connector(fake, today=today, start_date=today - timedelta(days=30))
    assert recent.plan(ORDERS, StreamState(TENANT, "shopify", "orders"), FULL).notes == ()


def test_check_reports_the_shop_and_a_missing_read_all_orders(fake: FakeShopify) -> None:
    assert "Acme Coffee" in connector(fake).check()
    fake.scopes = ["read_orders"]
    assert "read_all_orders" in connector(fake).check()
    fake.scopes = ["read_products"]
    with pytest.raises(CredentialsError, match="read_orders"):
        connector(fake).check()


def test_a_refused_token_is_a_credentials_error_without_it(fake: FakeShopify) -> None:
    wrong = "shpat_wrong_token_9"
    with pytest.raises(CredentialsError, match="Invalid API key") as failure:
        connector(fake, token=wrong).check()
    assert wrong not in str(failure.value)


def test_settings_read_the_shop_from_a_pasted_domain() -> None:
    settings = ShopifySettings.model_validate({"shop": "https://Acme-Coffee.myshopify.com/admin"})
    assert settings.shop == "acme-coffee"
    with pytest.raises(ValidationError):
        ShopifySettings.model_validate({"shop": "acme", "api_version": "october"})
    with pytest.raises(ValidationError):
        ShopifySettings.model_validate({"shop": "acme", "page_size": 500})


# -- customer journeys ---------------------------------------------------------------------------


def expected_visits(shop: Shop) -> dict[str, dict[str, Any]]:
    """The visits the fake's journeys hold: a first visit for each order with UTM tags, a
    distinct last visit for those with an even id."""
    visits = {}
    for order in shop.orders:
        if not order.utm_source:
            continue
        created = order.created_at.astimezone(UTC).replace(tzinfo=None)
        visits[f"shopify_visit:{int(order.order_id) * 10 + 1}"] = {
            "order_id": order.order_id,
            "ts": created - timedelta(days=2),
            "url": f"https://acme-coffee.myshopify.com{order.landing_url}",
            "referrer": order.referrer,
            "utm_source": order.utm_source,
            "utm_medium": order.utm_medium,
            "utm_campaign": order.utm_campaign,
        }
        if int(order.order_id) % 2 == 0:
            visits[f"shopify_visit:{int(order.order_id) * 10 + 2}"] = {
                "order_id": order.order_id,
                "ts": created - timedelta(minutes=15),
                "url": "https://acme-coffee.myshopify.com/cart",
                "referrer": None,
                "utm_source": None,
                "utm_medium": None,
                "utm_campaign": None,
            }
    return visits


def test_journeys_land_first_and_last_visits_tied_to_the_rest_order(
    fake: FakeShopify, shop: Shop, zone: LandingZone
) -> None:
    report = sync_connector(connector(fake), zone, mode=FULL)
    visits = {r["event_id"]: r for r in landed(zone, "site_events")}
    expected = expected_visits(shop)
    assert set(visits) == set(expected)
    assert any(e.endswith("2") for e in expected) and any(e.endswith("1") for e in expected)
    for event_id, columns in expected.items():
        row = visits[event_id]
        assert {k: row[k] for k in columns} == columns
        assert row["event_type"] == "visit" and row["ip"] is None and row["user_agent"] is None
    orders = {r["order_id"] for r in landed(zone, "orders")}
    assert {r["order_id"] for r in visits.values()} <= orders
    journeys = next(s for s in report.streams if s.stream == JOURNEYS.name)
    assert journeys.rows_quarantined == 0
    # Relay paging: two orders a page, the cursor of the last one asked for the next.
    asked = [s for s in fake.requests_to("/graphql.json")]
    assert len(asked) > DAYS


def test_an_incremental_journey_sync_lands_only_the_new_orders_visits(
    fake: FakeShopify, shop: Shop, zone: LandingZone
) -> None:
    sync_connector(connector(fake), zone, mode=FULL, streams=[JOURNEYS.name])
    batches = {r["_batch_id"] for r in landed(zone, "site_events")}
    _, new_id = shop.change(LAST + timedelta(days=1))
    report = sync_connector(
        connector(fake, today=LAST + timedelta(days=3)),
        zone,
        mode=INCREMENTAL,
        streams=[JOURNEYS.name],
    )
    fresh = [r for r in landed(zone, "site_events") if r["_batch_id"] not in batches]
    # The refunded order's journey did not change; the new order brings its visits.
    assert {r["order_id"] for r in fresh} == {new_id}
    assert report.streams[0].rows_landed == len(fresh) >= 1


def test_graphql_throttling_waits_for_the_cost_to_be_restored(
    fake: FakeShopify, shop: Shop, zone: LandingZone
) -> None:
    # A query of two orders costs 8; a bucket of 10 refilled 40 a second throttles the second.
    fake.graphql_bucket = CostBucket(maximum=10, restore_rate=40)
    source = connector(fake)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    source.sleep = sleep  # type: ignore[method-assign]
    report = sync_connector(source, zone, mode=FULL, streams=[JOURNEYS.name])
    assert waits and report.throttled == len(waits)
    assert all(0 < w <= 8 / 40 for w in waits), "the deficit over the restore rate"
    assert {r["event_id"] for r in landed(zone, "site_events")} == set(expected_visits(shop))


def test_other_graphql_errors_stop_the_sync_naming_the_message(
    fake: FakeShopify, zone: LandingZone
) -> None:
    fake.fail_graphql_next("Field 'bogus' doesn't exist on type 'Order'", "undefinedField")
    with pytest.raises(ConnectorError, match="Field 'bogus' doesn't exist"):
        sync_connector(connector(fake), zone, mode=FULL, streams=[JOURNEYS.name])
    fake.fail_graphql_next("Access denied for customerJourneySummary field.", "ACCESS_DENIED")
    with pytest.raises(CredentialsError, match="read_orders"):
        sync_connector(connector(fake), zone, mode=FULL, streams=[JOURNEYS.name], restart=True)


def test_a_journey_without_visit_ids_or_summary(fake: FakeShopify) -> None:
    source = connector(fake)
    visit = {"landingPage": "https://x/", "occurredAt": "2026-10-01T10:00:00Z"}
    node = {
        "id": "gid://shopify/Order/77",
        "customerJourneySummary": {"firstVisit": visit, "lastVisit": dict(visit)},
    }
    rows = list(source.rows(JOURNEYS, SourceRecord(node, "u", 0)))
    assert [r["event_id"] for r in rows] == ["shopify_visit:77:first"]
    assert rows[0]["order_id"] == "77"
    empty = {"id": "gid://shopify/Order/78", "customerJourneySummary": None}
    assert list(source.rows(JOURNEYS, SourceRecord(empty, "u", 0))) == []
    with pytest.raises(RecordError, match="customerJourneySummary"):
        list(source.rows(JOURNEYS, SourceRecord({"id": "gid://shopify/Order/79"}, "u", 0)))


# -- webhooks ------------------------------------------------------------------------------------


def test_an_order_webhook_maps_like_the_listed_order(fake: FakeShopify, shop: Shop) -> None:
    source = connector(fake)
    order = shop.orders[4]
    day = order.updated_at.date().isoformat()
    listed = next(
        item for item in source.fetch(ORDERS, day) if str(item.record["id"]) == order.order_id
    )
    payload = json.loads(json.dumps(fake.render_order(order)))
    assert Shopify.webhook_topics == ("orders/create", "orders/updated")
    for topic in Shopify.webhook_topics:
        stream, records = source.webhook_records(topic, payload)
        assert stream == ORDERS and [r.record for r in records] == [payload]
        assert list(source.rows(stream, records[0])) == list(source.rows(ORDERS, listed))


def test_a_webhook_without_an_id_is_refused(fake: FakeShopify) -> None:
    source = connector(fake)
    with pytest.raises(RecordError, match="no order id"):
        source.webhook_records("orders/create", {"total_price": "1.00"})


def test_order_names_can_be_the_order_ids_of_orders_and_journeys(
    fake: FakeShopify, shop: Shop, zone: LandingZone
) -> None:
    # A tenant that imported Shopify's CSV exports (keyed by the order's Name) keeps those ids.
    for order in shop.orders:
        order.name = f"#{1000 + shop.orders.index(order)}"
    sync_connector(connector(fake, order_id_from="name"), zone, mode=FULL)
    orders = {r["order_id"] for r in landed(zone, "orders")}
    assert orders == {o.name for o in shop.orders}
    visits = landed(zone, "site_events")
    assert visits and {r["order_id"] for r in visits} <= orders
    stream, [record] = connector(fake, order_id_from="name").webhook_records(
        "orders/create", fake.render_order(shop.orders[0])
    )
    assert next(iter(connector(fake).rows(stream, record)))["order_id"] == shop.orders[0].order_id
    with pytest.raises(ValidationError, match="order_id_from"):
        ShopifySettings.model_validate({"shop": "acme", "order_id_from": "number"})
