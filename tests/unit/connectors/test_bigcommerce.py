"""BigCommerce beyond the generic contract: RFC-2822 windows and offsets, 204 as "no more
orders", coupons as a sub-resource, the reset-time wait on 429, its errors and the thin order
webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from connectors.commerce.bigcommerce import (
    ORDERS,
    BigCommerce,
    BigCommerceSettings,
    _reset_seconds,
)
from connectors.framework.connector import FULL, SourceRecord
from connectors.framework.errors import ConnectorError, CredentialsError, RecordError
from connectors.framework.http import RetryAfterHook
from connectors.framework.settings import RateLimit
from connectors.framework.sync import sync_connector
from tests.fakes.bigcommerce import FakeBigCommerce
from tests.fakes.shop import Shop, ShopOrder, make_shop
from tests.unit.connectors.conftest import landed_rows
from warehouse.landing import LandingZone

FIRST = date(2026, 10, 1)
DAYS = 3
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "bigc_co"
STORE = "x7k2m9"
TOKEN = "bc-unit-token-1"


def shop_with_a_guest() -> Shop:
    """Three days of three orders, and a guest order on day two."""
    shop = make_shop(FIRST, DAYS)
    moment = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
    shop.orders.append(ShopOrder("450789999", moment, moment + timedelta(hours=1), 12.5))
    return shop


@pytest.fixture
def shop() -> Shop:
    return shop_with_a_guest()


@pytest.fixture
def fake(shop: Shop) -> Iterator[FakeBigCommerce]:
    # Rendered five hours west of UTC: the connector must convert, not just drop the offset.
    with FakeBigCommerce(shop, STORE, TOKEN, utc_offset=timedelta(hours=-5)) as server:
        yield server  # type: ignore[misc]


def connector(
    fake: FakeBigCommerce, token: str = TOKEN, today: date | None = None, **settings: Any
) -> BigCommerce:
    options = {
        "base_url": fake.base_url,
        "store_hash": STORE,
        "start_date": FIRST,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 3,
        "page_size": 2,
        **settings,
    }
    return BigCommerce(
        TENANT,
        BigCommerceSettings.model_validate(options),
        {"access_token": token},
        today=today or LAST + timedelta(days=1),
    )


def landed(zone: LandingZone) -> list[dict[str, Any]]:
    return landed_rows(zone, TENANT, "bigcommerce", "orders")


def test_orders_are_asked_per_day_in_rfc2822_and_land_with_their_coupons(
    fake: FakeBigCommerce, shop: Shop, zone: LandingZone
) -> None:
    sync_connector(connector(fake), zone, mode=FULL)
    lists = [s.query for s in fake.requests_to(f"/stores/{STORE}/v2/orders") if "page" in s.query]
    first_day = [q for q in lists if q["min_date_modified"] == "Thu, 01 Oct 2026 00:00:00 +0000"]
    assert {q["max_date_modified"] for q in first_day} == {"Thu, 01 Oct 2026 23:59:59 +0000"}
    assert [q["page"] for q in first_day] == ["1", "2"]  # three orders, two a page
    assert all(q["sort"] == "date_modified:asc" and q["limit"] == "2" for q in lists)
    # One coupons request per order.
    coupons = [s.path for s in fake.requests_to("/coupons")]
    assert sorted(coupons) == sorted(
        f"/stores/{STORE}/v2/orders/{o.order_id}/coupons" for o in shop.orders
    )

    rows = {r["order_id"]: r for r in landed(zone)}
    assert set(rows) == {o.order_id for o in shop.orders}
    for order in shop.orders:
        row = rows[order.order_id]
        assert row["ts"] == order.created_at.astimezone(UTC).replace(tzinfo=None)
        assert row["revenue"] == pytest.approx(order.revenue)
        assert row["currency"] == "USD"
        assert row["discount_codes"] == (",".join(order.discount_codes) or None)
        assert row["ip"] == order.ip
        assert row["customer_id"] == order.customer_id
        assert row["user_agent"] is None and row["landing_url"] is None
        assert row["referrer"] is None
        assert row["survey_answer"] is None, "customer_message is read only when asked"
    assert any(r["discount_codes"] for r in rows.values())


def test_204_ends_the_pages_and_a_day_without_orders_lands_nothing(
    fake: FakeBigCommerce, shop: Shop, zone: LandingZone
) -> None:
    # Day two has four orders: two full pages, then a third page answered 204 No Content.
    # Day four has none: its first page is a 204.
    report = sync_connector(connector(fake, today=LAST + timedelta(days=2)), zone, mode=FULL)
    second_day = [
        s
        for s in fake.requests_to(f"/stores/{STORE}/v2/orders")
        if s.query.get("min_date_modified") == "Fri, 02 Oct 2026 00:00:00 +0000"
    ]
    assert [(s.query["page"], s.status) for s in second_day] == [
        ("1", 200),
        ("2", 200),
        ("3", 204),
    ]
    empty_day = [
        s.status
        for s in fake.requests_to(f"/stores/{STORE}/v2/orders")
        if s.query.get("min_date_modified") == "Sun, 04 Oct 2026 00:00:00 +0000"
    ]
    assert empty_day == [204]
    assert {s.status for s in fake.requests_to("/coupons")} == {200, 204}
    assert report.streams[0].rows_landed == len(shop.orders)
    assert report.streams[0].rows_quarantined == 0


def test_a_guest_order_has_no_customer(fake: FakeBigCommerce, zone: LandingZone) -> None:
    sync_connector(connector(fake), zone, mode=FULL)
    guest = next(r for r in landed(zone) if r["order_id"] == "450789999")
    assert guest["customer_id"] is None and guest["ip"] is None
    assert guest["discount_codes"] is None


def test_the_customer_message_is_the_survey_answer_when_asked(
    fake: FakeBigCommerce, shop: Shop, zone: LandingZone
) -> None:
    shop.orders[0].survey_answer = "The Morning Cup podcast"
    sync_connector(connector(fake, survey_from_customer_message=True), zone, mode=FULL)
    rows = {r["order_id"]: r["survey_answer"] for r in landed(zone)}
    assert rows == {o.order_id: o.survey_answer for o in shop.orders}
    assert rows[shop.orders[0].order_id] == "The Morning Cup podcast"


def test_a_429_waits_for_the_quota_reset_and_the_sync_completes(
    fake: FakeBigCommerce, shop: Shop, zone: LandingZone
) -> None:
    # A 2.5 s window and one retry: a blind backoff (1 s first) would be refused again and
    # stop the sync; waiting for the reset the 429 announced gets through.
    fake.throttle(10, 2.5)
    report = sync_connector(connector(fake, max_retry_delay_s=5, max_attempts=2), zone, mode=FULL)
    assert report.throttled > 0
    assert {r["order_id"] for r in landed(zone)} == {o.order_id for o in shop.orders}


def test_the_reset_time_becomes_the_retry_after_the_retry_honours() -> None:
    hook = RetryAfterHook(_reset_seconds)
    throttled = requests.Response()
    throttled.status_code = 429
    throttled.headers["X-Rate-Limit-Time-Reset-Ms"] = "2400"
    assert hook(throttled).headers["Retry-After"] == "3"
    soon = requests.Response()
    soon.status_code = 429
    soon.headers["X-Rate-Limit-Time-Reset-Ms"] = "0"
    assert hook(soon).headers["Retry-After"] == "1"
    served = requests.Response()
    served.status_code = 200
    served.headers["X-Rate-Limit-Time-Reset-Ms"] = "2400"
    assert "Retry-After" not in hook(served).headers


def test_a_bad_order_is_quarantined_with_the_field_named(
    fake: FakeBigCommerce, shop: Shop, zone: LandingZone
) -> None:
    fake.patches[shop.orders[1].order_id] = {"date_created": "yesterday, at noon"}
    fake.patches[shop.orders[2].order_id] = {"total_inc_tax": None}
    report = sync_connector(connector(fake), zone, mode=FULL)
    reasons = report.streams[0].reasons
    assert any("date_created: not an RFC-2822 time" in r for r in reasons)
    assert any("total_inc_tax: null" in r for r in reasons)
    assert len(landed(zone)) == len(shop.orders) - 2


def test_a_refused_token_is_a_credentials_error_without_the_token(
    fake: FakeBigCommerce, zone: LandingZone
) -> None:
    with pytest.raises(CredentialsError) as failure:
        sync_connector(connector(fake, token="bc-wrong-77"), zone, mode=FULL)
    message = str(failure.value)
    assert "bigcommerce" in message and "not authorized" in message
    assert "bc-wrong-77" not in message


def test_an_unknown_store_hash_is_a_clear_error(fake: FakeBigCommerce) -> None:
    with pytest.raises(ConnectorError, match="404.*/stores/nosuchstore/v2/orders/count"):
        connector(fake, store_hash="nosuchstore").check()


def test_check_counts_the_orders(fake: FakeBigCommerce, shop: Shop) -> None:
    assert connector(fake).check() == f"{len(shop.orders)} order(s) in store {STORE}"


def test_a_thin_webhook_fetches_the_order_and_its_coupons(
    fake: FakeBigCommerce, shop: Shop
) -> None:
    order = next(o for o in shop.orders if o.discount_codes)
    bigc = connector(fake)
    payload = {
        "scope": "store/order/updated",
        "store_id": "1001234",
        "data": {"type": "order", "id": int(order.order_id)},
        "hash": "3f9ea420af83450d7ef9f78b08c8af25b2213637",
        "created_at": 1561488106,
        "producer": f"stores/{STORE}",
    }
    stream, records = bigc.webhook_records("store/order/updated", payload)
    assert stream is ORDERS and len(records) == 1
    assert fake.requests_to(f"/stores/{STORE}/v2/orders/{order.order_id}/coupons")
    (row,) = bigc.rows(stream, records[0])
    assert row["discount_codes"] == ",".join(order.discount_codes)
    rest = next(
        r
        for r in bigc.fetch(ORDERS, order.updated_at.date().isoformat())
        if str(r.record["id"]) == order.order_id
    )
    assert row == next(iter(bigc.rows(ORDERS, rest)))


def test_a_webhook_it_cannot_read_is_a_clear_error(fake: FakeBigCommerce) -> None:
    bigc = connector(fake)
    assert bigc.webhook_topics == ("store/order/created", "store/order/updated")
    with pytest.raises(RecordError, match="data.id: missing"):
        bigc.webhook_records("store/order/created", {"scope": "store/order/created", "data": {}})
    with pytest.raises(ConnectorError, match="404"):
        bigc.webhook_records("store/order/created", {"data": {"type": "order", "id": 1}})


def test_a_record_with_only_the_coupons_link_is_refused(fake: FakeBigCommerce) -> None:
    record = fake.render(make_shop(FIRST, 1).orders[0])
    with pytest.raises(RecordError, match="coupons"):
        list(connector(fake).rows(ORDERS, SourceRecord(record, "u", 0)))
