"""Squarespace beyond the generic contract: the day window and cursor paging, the order mapping
(promo codes, survey answer, test mode), the cool-down 429, Squarespace's errors and webhooks."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from connectors.commerce.squarespace import ORDERS, Squarespace, SquarespaceSettings
from connectors.framework.connector import FULL, SourceRecord
from connectors.framework.errors import (
    ConnectorError,
    CredentialsError,
    RecordError,
    SettingsError,
)
from connectors.framework.settings import RateLimit, parse_settings
from connectors.framework.sync import sync_connector
from tests.fakes.shop import Shop, ShopOrder
from tests.fakes.squarespace import (
    FakeSquarespace,
    squarespace_id,
    squarespace_shop,
    thin_notification,
)
from tests.unit.connectors.conftest import landed_rows
from warehouse.landing import LandingZone

FIRST = date(2026, 10, 1)
DAYS = 4
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "square_co"
KEY = "sq-unit-key"


@pytest.fixture
def shop() -> Shop:
    return squarespace_shop(FIRST, DAYS)


@pytest.fixture
def fake(shop: Shop) -> Iterator[FakeSquarespace]:
    with FakeSquarespace(shop, KEY, page_size=2) as server:
        yield server  # type: ignore[misc]


def connector(fake: FakeSquarespace, key: str = KEY, **settings: Any) -> Squarespace:
    options = {
        "base_url": fake.base_url,
        "start_date": FIRST,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 2,
        **settings,
    }
    return Squarespace(
        TENANT, SquarespaceSettings(**options), {"api_key": key}, today=LAST + timedelta(days=1)
    )


def order(fake: FakeSquarespace, **changes: Any) -> dict[str, Any]:
    """One rendered order of the fake's shop, with ``changes`` applied to the rendering."""
    record = fake.render(fake.shop.orders[0])
    record.update(changes)
    return record


def rows_of(sq: Squarespace, record: Any) -> list[dict[str, Any]]:
    return list(sq.rows(ORDERS, SourceRecord(record, "https://example.test/orders", 0)))


# -- requests ----------------------------------------------------------------------------------


def test_a_day_is_asked_as_its_utc_window_then_by_cursor_alone(fake: FakeSquarespace) -> None:
    sq = connector(fake)
    records = list(sq.fetch(ORDERS, FIRST.isoformat()))
    expected = fake.shop.changed_between(
        datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)
    )
    assert [r.record["id"] for r in records] == [o.order_id for o in expected]
    asked = fake.requests_to("/1.0/commerce/orders")
    assert len(asked) == 2, "three orders at two a page"
    assert asked[0].query == {
        "modifiedAfter": "2026-10-01T00:00:00.000Z",
        "modifiedBefore": "2026-10-02T00:00:00.000Z",
    }
    assert set(asked[1].query) == {"cursor"}
    assert all(s.status == 200 for s in fake.served)


def test_the_fake_refuses_what_the_api_refuses(fake: FakeSquarespace) -> None:
    base = f"{fake.base_url}/1.0/commerce/orders"
    auth = {"Authorization": f"Bearer {KEY}", "User-Agent": "test/1"}
    half = requests.get(base, params={"modifiedAfter": "2026-10-01T00:00:00Z"}, headers=auth)
    assert half.status_code == 400 and half.json()["subtype"] == "MISSING_ARGUMENT"
    both = requests.get(
        base,
        params={
            "cursor": "abc",
            "modifiedAfter": "2026-10-01T00:00:00Z",
            "modifiedBefore": "2026-10-02T00:00:00Z",
        },
        headers=auth,
    )
    assert both.status_code == 400
    assert set(both.json()) == {"type", "subtype", "message", "details", "contextId"}
    # http.client sends no User-Agent of its own (requests and urllib3 always add one).
    host, port = fake.base_url.removeprefix("http://").split(":")
    plain = http.client.HTTPConnection(host, int(port))
    plain.request("GET", "/1.0/commerce/orders", headers={"Authorization": f"Bearer {KEY}"})
    no_agent = plain.getresponse()
    assert no_agent.status == 400 and b"User-Agent" in no_agent.read()
    plain.close()
    assert requests.get(base, headers={"User-Agent": "test/1"}).status_code == 401


def test_a_refused_request_names_squarespaces_reason(fake: FakeSquarespace) -> None:
    sq = connector(fake)
    with pytest.raises(ConnectorError, match="INVALID_REQUEST_ERROR/MISSING_ARGUMENT"):
        sq.client.get("/1.0/commerce/orders", params={"modifiedAfter": "2026-10-01T00:00:00Z"})


def test_a_wrong_api_key_is_a_credentials_error(fake: FakeSquarespace) -> None:
    with pytest.raises(CredentialsError, match="401") as failure:
        connector(fake, key="not-the-key").check()
    assert "not-the-key" not in str(failure.value)


def test_the_cool_down_429_without_headers_is_waited_out(
    fake: FakeSquarespace, zone: LandingZone
) -> None:
    fake.throttle(3, 1.0, cool_down_s=0.5)
    report = sync_connector(connector(fake), zone, mode=FULL)
    refused = [s for s in fake.served if s.status == 429]
    assert refused and report.throttled == len(refused)
    landed = {r["order_id"] for r in landed_rows(zone, TENANT, "squarespace", "orders")}
    assert landed == {o.order_id for o in fake.shop.orders}


def test_check_reports_the_orders_of_the_last_day(fake: FakeSquarespace) -> None:
    assert connector(fake).check() == (
        f"orders API readable (2 or more order(s) changed on {LAST.isoformat()})"
    )


# -- mapping -----------------------------------------------------------------------------------


def test_an_order_becomes_its_canonical_row(fake: FakeSquarespace) -> None:
    sq = connector(fake)
    source = fake.shop.orders[0]
    record = order(
        fake,
        discountLines=[
            {"description": "a", "amount": {"value": "5.00", "currency": "USD"}, "promoCode": "A"},
            {"description": "auto", "amount": {"value": "1.00", "currency": "USD"}},
            {"description": "blank", "promoCode": "  "},
            {"description": "again", "promoCode": "A"},
            {"description": "b", "promoCode": "B"},
        ],
        formSubmission=[
            {"label": "Email", "value": "x@example.com"},
            {"label": "How did you HEAR ABOUT us?", "value": "  The Morning Cup  "},
        ],
        grandTotal={"currency": "EUR", "value": "149.90"},
    )
    assert rows_of(sq, record) == [
        {
            "order_id": source.order_id,
            "ts": source.created_at.replace(tzinfo=None, microsecond=0),
            "ip": None,
            "user_agent": None,
            "customer_id": None,
            "revenue": 149.9,
            "currency": "EUR",
            "discount_codes": "A,B",
            "landing_url": None,
            "referrer": None,
            "survey_answer": "The Morning Cup",
        }
    ]


def test_the_survey_question_is_a_setting(fake: FakeSquarespace) -> None:
    record = order(fake, formSubmission=[{"label": "Which podcast sent you?", "value": "Cup"}])
    assert rows_of(connector(fake), record)[0]["survey_answer"] is None
    custom = connector(fake, survey_label="podcast sent")
    assert rows_of(custom, record)[0]["survey_answer"] == "Cup"


def test_empty_arrays_may_be_null(fake: FakeSquarespace) -> None:
    row = rows_of(connector(fake), order(fake, discountLines=None, formSubmission=None))[0]
    assert row["discount_codes"] is None and row["survey_answer"] is None


def test_test_mode_orders_land_nothing(fake: FakeSquarespace, zone: LandingZone) -> None:
    assert rows_of(connector(fake), order(fake, testmode=True)) == []
    moment = datetime(2026, 10, 2, 9, tzinfo=UTC)
    fake.testmode_orders.append(ShopOrder(squarespace_id("test"), moment, moment, 5.0))
    report = sync_connector(connector(fake), zone, mode=FULL)
    landed = {r["order_id"] for r in landed_rows(zone, TENANT, "squarespace", "orders")}
    assert squarespace_id("test") not in landed and len(landed) == len(fake.shop.orders)
    assert report.streams[0].records == len(fake.shop.orders) + 1
    assert report.streams[0].rows_quarantined == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"grandTotal": {"currency": "USD", "value": "lots"}}, "grandTotal.value"),
        ({"grandTotal": None}, "grandTotal.value"),
        ({"createdOn": "yesterday"}, "createdOn"),
        ({"id": None}, "id"),
        ({"discountLines": "SAVE10"}, "discountLines"),
        ({"formSubmission": {"label": "x"}}, "formSubmission"),
    ],
)
def test_a_bad_order_is_a_record_error_naming_the_field(
    fake: FakeSquarespace, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(RecordError, match=field):
        rows_of(connector(fake), order(fake, **changes))


def test_a_bad_order_is_quarantined_and_the_others_land(
    fake: FakeSquarespace, zone: LandingZone
) -> None:
    fake.shop.orders[0].currency = None  # type: ignore[assignment]
    report = sync_connector(connector(fake), zone, mode=FULL)
    assert report.streams[0].rows_quarantined == 1
    assert "grandTotal.currency" in next(iter(report.streams[0].reasons))
    landed = {r["order_id"] for r in landed_rows(zone, TENANT, "squarespace", "orders")}
    assert landed == {o.order_id for o in fake.shop.orders[1:]}


def test_settings_refuse_a_blank_survey_label() -> None:
    with pytest.raises(SettingsError, match="survey_label"):
        parse_settings(SquarespaceSettings, {"survey_label": "  "}, "t.yaml", "squarespace")


# -- webhooks ----------------------------------------------------------------------------------


def test_a_thin_notification_fetches_the_order_and_maps_it_like_a_sync(
    fake: FakeSquarespace,
) -> None:
    sq = connector(fake)
    target = fake.shop.orders[4]
    assert sq.webhook_topics == ("order.create", "order.update")
    stream, records = sq.webhook_records(
        "order.update", thin_notification(target.order_id, "order.update")
    )
    assert stream == ORDERS and len(records) == 1
    assert fake.requests_to(f"/1.0/commerce/orders/{target.order_id}")
    day = target.updated_at.date().isoformat()
    synced = next(r for r in sq.fetch(ORDERS, day) if r.record["id"] == target.order_id)
    assert records[0].record == synced.record
    assert list(sq.rows(ORDERS, records[0])) == list(sq.rows(ORDERS, synced))


def test_webhook_errors_are_clear(fake: FakeSquarespace) -> None:
    sq = connector(fake)
    with pytest.raises(RecordError, match="data.orderId"):
        sq.webhook_records("order.create", {"topic": "order.create", "data": {}})
    with pytest.raises(ConnectorError, match="404"):
        sq.webhook_records("order.create", thin_notification("0" * 24))
