"""WooCommerce beyond the generic contract: GMT day windows and X-WP-TotalPages paging, the
order mapping (guests, coupons, survey meta), Order Attribution visits, WooCommerce's own errors
and the order webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from connectors.commerce.woocommerce import ATTRIBUTION, ORDERS, WooCommerce, WooCommerceSettings
from connectors.framework.connector import FULL, SourceRecord
from connectors.framework.errors import ConnectorError, CredentialsError, RecordError
from connectors.framework.settings import RateLimit
from connectors.framework.state import StreamState
from connectors.framework.sync import sync_connector
from tests.fakes.shop import Shop, ShopOrder, make_shop
from tests.fakes.woocommerce import SITE, SURVEY_META_KEY, FakeWooCommerce, session_start
from tests.unit.connectors.conftest import landed_rows
from warehouse.landing import LandingZone

FIRST = date(2026, 10, 1)
DAYS = 3
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "woo_co"
KEY, SECRET = "ck_unit_1", "cs_unit_secret_1"


def shop_with_a_guest() -> Shop:
    """Three days of three orders, and one guest order without a tracked visit on day two."""
    shop = make_shop(FIRST, DAYS)
    moment = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
    shop.orders.append(ShopOrder("450789999", moment, moment + timedelta(hours=1), 12.5))
    return shop


@pytest.fixture
def shop() -> Shop:
    return shop_with_a_guest()


@pytest.fixture
def fake(shop: Shop) -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce(shop, KEY, SECRET) as server:
        yield server  # type: ignore[misc]


def connector(
    fake: FakeWooCommerce, secret: str = SECRET, base_url: str | None = None, **settings: Any
) -> WooCommerce:
    options = {
        "base_url": base_url or fake.base_url,
        "start_date": FIRST,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 2,
        "page_size": 2,
        "survey_meta_key": SURVEY_META_KEY,
        **settings,
    }
    return WooCommerce(
        TENANT,
        WooCommerceSettings.model_validate(options),
        {"consumer_key": KEY, "consumer_secret": secret},
        today=LAST + timedelta(days=1),
    )


def landed(zone: LandingZone, entity: str) -> list[dict[str, Any]]:
    return landed_rows(zone, TENANT, "woocommerce", entity)


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def test_orders_are_asked_per_gmt_day_and_paged_by_total_pages(
    fake: FakeWooCommerce, shop: Shop, zone: LandingZone
) -> None:
    sync_connector(connector(fake), zone, mode=FULL, streams=["orders"])
    asked = [s.query for s in fake.requests_to("/wp-json/wc/v3/orders")]
    first_day = [q for q in asked if q["modified_before"] == "2026-10-02T00:00:00"]
    # WordPress excludes both bounds: the window opens one second before the day.
    assert {q["modified_after"] for q in first_day} == {"2026-09-30T23:59:59"}
    assert [q["page"] for q in first_day] == ["1", "2"]  # three orders, two a page
    assert all(q["dates_are_gmt"] == "true" and q["status"] == "any" for q in asked)
    assert all(q["per_page"] == "2" for q in asked)
    # Four orders on day two: X-WP-TotalPages says two pages, and no third is asked.
    assert len([q for q in asked if q["modified_before"] == "2026-10-03T00:00:00"]) == 2
    assert all("consumer_key" not in q and "consumer_secret" not in q for q in asked)

    rows = {r["order_id"]: r for r in landed(zone, "orders")}
    assert set(rows) == {o.order_id for o in shop.orders}
    for order in shop.orders:
        row = rows[order.order_id]
        assert row["ts"] == naive(order.created_at)
        assert row["revenue"] == pytest.approx(order.revenue)
        assert row["currency"] == "USD"
        assert row["discount_codes"] == (",".join(order.discount_codes) or None)
        assert row["ip"] == order.ip and row["user_agent"] == order.user_agent
        assert row["customer_id"] == order.customer_id
        assert row["landing_url"] == (SITE + order.landing_url if order.landing_url else None)
        assert row["referrer"] == order.referrer
        assert row["survey_answer"] == order.survey_answer


def test_a_guest_order_without_a_visit_has_no_customer_and_no_visit_row(
    fake: FakeWooCommerce, zone: LandingZone
) -> None:
    sync_connector(connector(fake), zone, mode=FULL)
    guest = next(r for r in landed(zone, "orders") if r["order_id"] == "450789999")
    # customer_id 0 and empty address/agent strings are nothing known.
    assert guest["customer_id"] is None and guest["ip"] is None and guest["user_agent"] is None
    assert guest["discount_codes"] is None and guest["landing_url"] is None
    assert "450789999" not in {r["order_id"] for r in landed(zone, "site_events")}


def test_order_attribution_lands_one_visit_per_attributed_order(
    fake: FakeWooCommerce, shop: Shop, zone: LandingZone
) -> None:
    sync_connector(connector(fake), zone, mode=FULL, streams=["order_attribution"])
    rows = {r["event_id"]: r for r in landed(zone, "site_events")}
    attributed = [o for o in shop.orders if o.landing_url]
    assert set(rows) == {f"woocommerce_attribution:{o.order_id}" for o in attributed}
    for order in attributed:
        row = rows[f"woocommerce_attribution:{order.order_id}"]
        assert row["ts"] == naive(session_start(order))
        assert row["event_type"] == "visit"
        assert row["order_id"] == order.order_id
        assert row["url"] == SITE + order.landing_url
        assert row["referrer"] == order.referrer
        assert row["ip"] == order.ip and row["user_agent"] == order.user_agent
        assert (row["utm_source"], row["utm_medium"], row["utm_campaign"]) == (
            order.utm_source,
            order.utm_medium,
            order.utm_campaign,
        )
    assert any(r["utm_source"] == "podcast" for r in rows.values())


def test_a_visit_without_a_session_start_is_dated_by_the_order(
    fake: FakeWooCommerce, shop: Shop
) -> None:
    order = shop.orders[0]
    record = fake.render(order)
    record["meta_data"] = [
        m for m in record["meta_data"] if m["key"] != "_wc_order_attribution_session_start_time"
    ]
    (row,) = connector(fake).rows(ATTRIBUTION, SourceRecord(record, "u", 0))
    assert row["ts"] == naive(order.created_at)
    record["meta_data"] = [
        {"key": "_wc_order_attribution_source_type", "value": "admin"},
    ]
    assert list(connector(fake).rows(ATTRIBUTION, SourceRecord(record, "u", 0))) == []


def test_order_attribution_can_be_switched_off(fake: FakeWooCommerce) -> None:
    plan = connector(fake, order_attribution=False).plan(
        ATTRIBUTION, StreamState(TENANT, "woocommerce", "order_attribution"), FULL
    )
    assert plan.slices == [] and "order_attribution is off" in plan.notes[0]


def test_an_order_changed_at_midnight_lands_in_exactly_one_day(
    fake: FakeWooCommerce, shop: Shop, zone: LandingZone
) -> None:
    order = shop.orders[0]
    order.updated_at = datetime(2026, 10, 2, 0, 0, 0, tzinfo=UTC)
    sync_connector(connector(fake), zone, mode=FULL, streams=["orders"])
    assert [r["order_id"] for r in landed(zone, "orders")].count(order.order_id) == 1


def test_a_server_that_includes_the_bounds_still_gives_each_order_one_day(
    fake: FakeWooCommerce, shop: Shop, zone: LandingZone
) -> None:
    # Each order belongs to the day of its modification only, whatever else the server answers.
    fake.bounds_inclusive = True
    shop.orders[0].updated_at = datetime(2026, 10, 1, 23, 59, 59, tzinfo=UTC)
    shop.orders[1].updated_at = datetime(2026, 10, 2, 0, 0, 0, tzinfo=UTC)
    sync_connector(connector(fake), zone, mode=FULL, streams=["orders"])
    ids = [r["order_id"] for r in landed(zone, "orders")]
    assert sorted(ids) == sorted(o.order_id for o in shop.orders)


def test_a_bad_order_is_quarantined_with_the_field_named(
    fake: FakeWooCommerce, shop: Shop, zone: LandingZone
) -> None:
    fake.patches[shop.orders[1].order_id] = {"total": "not a number"}
    fake.patches[shop.orders[2].order_id] = {"coupon_lines": [{"discount": "5.00"}]}
    report = sync_connector(connector(fake), zone, mode=FULL, streams=["orders"])
    reasons = report.streams[0].reasons
    assert any("total: expected a number" in r for r in reasons)
    assert any("coupon_lines.0.code: missing" in r for r in reasons)
    assert len(landed(zone, "orders")) == len(shop.orders) - 2


def test_a_survey_answer_of_several_choices_is_joined(fake: FakeWooCommerce) -> None:
    record = fake.render(make_shop(FIRST, 1).orders[0])
    record["meta_data"].append({"id": 1, "key": SURVEY_META_KEY, "value": ["Podcast", "Friend"]})
    (row,) = connector(fake).rows(ORDERS, SourceRecord(record, "u", 0))
    assert row["survey_answer"] == "Podcast, Friend"
    (row,) = connector(fake, survey_meta_key=None).rows(ORDERS, SourceRecord(record, "u", 0))
    assert row["survey_answer"] is None


def test_a_wrong_secret_is_a_credentials_error_in_woocommerces_words(
    fake: FakeWooCommerce, zone: LandingZone
) -> None:
    with pytest.raises(CredentialsError) as failure:
        sync_connector(connector(fake, secret="cs_wrong_42"), zone, mode=FULL)
    message = str(failure.value)
    assert "woocommerce_rest_authentication_error" in message
    assert "Consumer secret is invalid" in message
    assert "cs_wrong_42" not in message and KEY not in message


def test_a_site_without_the_rest_route_says_what_to_check(fake: FakeWooCommerce) -> None:
    with pytest.raises(ConnectorError, match="rest_no_route.*base_url"):
        connector(fake, base_url=fake.base_url + "/blog").check()


def test_check_counts_the_orders(fake: FakeWooCommerce, shop: Shop) -> None:
    assert connector(fake).check() == f"{len(shop.orders)} order(s) visible"


def test_an_order_webhook_lands_what_the_rest_api_would(fake: FakeWooCommerce, shop: Shop) -> None:
    woo = connector(fake)
    order = shop.orders[0]
    served_before = len(fake.served)
    stream, records = woo.webhook_records("order.updated", fake.render(order))
    assert stream is ORDERS and len(records) == 1
    assert len(fake.served) == served_before, "a fat payload needs no request"
    rest = next(
        r
        for r in woo.fetch(ORDERS, order.updated_at.date().isoformat())
        if str(r.record["id"]) == order.order_id
    )
    assert list(woo.rows(stream, records[0])) == list(woo.rows(ORDERS, rest))


def test_a_webhook_it_cannot_read_is_a_clear_error(fake: FakeWooCommerce, shop: Shop) -> None:
    woo = connector(fake)
    assert woo.webhook_topics == ("order.created", "order.updated")
    with pytest.raises(RecordError, match="id: missing"):
        woo.webhook_records("order.created", {"total": "1.00"})
    with pytest.raises(RecordError, match="WP REST API Integration v3"):
        woo.webhook_records("order.created", {"order": {"id": 1}})
    with pytest.raises(RecordError, match="not a JSON object"):
        woo.webhook_records("order.created", [1, 2])
