"""Draining the inbox through real connectors: Shopify (the order is the payload), Squarespace
(a thin notification: the order is fetched from its fake API, which can be down) and Meta's
Conversions API events; and a crash between landing and marking deliveries done."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from connectors.framework.errors import CredentialsError
from connectors.framework.runtime import build_connector
from connectors.webhooks.deliveries import Delivery
from connectors.webhooks.inbox import Inbox
from connectors.webhooks.processor import drain
from tests.fakes.meta import FakeMetaGraph
from tests.fakes.squarespace import FakeSquarespace, squarespace_shop, thin_notification
from tests.webhooks.support import (
    SECRETS,
    TENANT,
    dumps,
    inbox_files,
    meta_event,
    receiving,
    shopify_headers,
    shopify_order,
    squarespace_headers,
    write_tenant,
)


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def _send_shopify(receiver, order: dict, webhook_id: str, topic: str = "orders/create") -> None:
    body = dumps(order)
    answer = receiver.post(
        f"/webhooks/shopify/{TENANT}", body, shopify_headers(body, topic, webhook_id)
    )
    assert answer.status_code == 200, answer.text


def _orders(world) -> list[dict]:
    return world.zone.read(TENANT, "shopify", "orders").to_pylist()


def test_shopify_deliveries_land_as_orders_then_move_to_done(world):
    write_tenant(world.tenants, {"shopify": {"shop": "acme-coffee"}})
    created = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)
    with receiving(world.zone, world.tenants) as receiver:
        _send_shopify(receiver, shopify_order(450789469, created), "wh-1")
        _send_shopify(receiver, shopify_order(450789470, created, total="20.00"), "wh-2")
        _send_shopify(receiver, shopify_order(450789469, created), "wh-1")  # redelivery
    [report] = drain(world.zone)
    assert (report.deliveries, report.done, report.rows_landed) == (2, 2, 2)
    rows = {r["order_id"]: r for r in _orders(world)}
    assert set(rows) == {"450789469", "450789470"}
    first = rows["450789469"]
    assert first["ts"] == datetime(2026, 11, 20, 18, 30)
    assert first["revenue"] == 149.0 and first["discount_codes"] == "MORNING20"
    assert first["survey_answer"] == "Morning Cup"
    assert first["_source_file"] == "webhook:shopify/orders/create"
    assert '"id": 450789469' in first["_record"]
    assert inbox_files(world.home, "shopify", "pending") == []
    assert len(inbox_files(world.home, "shopify", "done")) == 2
    assert Inbox(world.zone).landed_marker(TENANT) == 2
    # A redelivery after processing is still a duplicate, and a second drain lands nothing.
    with receiving(world.zone, world.tenants) as receiver:
        body = dumps(shopify_order(450789469, created))
        again = receiver.post(
            f"/webhooks/shopify/{TENANT}", body, shopify_headers(body, "orders/create", "wh-1")
        )
    assert again.json()["status"] == "duplicate"
    assert drain(world.zone) == []
    assert len(_orders(world)) == 2


def test_crash_after_landing_before_done_lands_the_same_batch_again(world):
    write_tenant(world.tenants, {"shopify": {"shop": "acme-coffee"}})
    created = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    with receiving(world.zone, world.tenants) as receiver:
        _send_shopify(receiver, shopify_order(1001, created), "wh-a")
        _send_shopify(receiver, shopify_order(1002, created), "wh-b")

    def crash(*args: object) -> None:
        raise Crash

    with pytest.raises(Crash):
        drain(world.zone, after_landing=crash)
    assert Counter(r["order_id"] for r in _orders(world)) == {"1001": 1, "1002": 1}
    pending = Inbox(world.zone).pending(TENANT, "shopify")
    assert len(pending) == 2 and len({p.document["group"] for p in pending}) == 1
    files_before = sorted((world.home / "landing" / TENANT / "shopify").rglob("*.parquet"))
    # A new delivery arrives before the next drain: it must not change the crashed group.
    with receiving(world.zone, world.tenants) as receiver:
        _send_shopify(receiver, shopify_order(1003, created), "wh-c")
    reports = drain(world.zone)
    assert reports[0].done == 3
    assert Counter(r["order_id"] for r in _orders(world)) == {"1001": 1, "1002": 1, "1003": 1}
    files_after = sorted((world.home / "landing" / TENANT / "shopify").rglob("*.parquet"))
    assert set(files_before) <= set(files_after) and len(files_after) == len(files_before) + 1
    assert inbox_files(world.home, "shopify", "pending") == []


def test_a_topic_the_connector_does_not_receive_is_failed_at_once(world):
    # The receiver refuses such a topic; one stored before a connector dropped it still fails
    # in the processor, without asking the connector or using up the attempts.
    write_tenant(world.tenants, {"shopify": {"shop": "acme-coffee"}})
    created = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    stored = Delivery(
        "shopify", TENANT, "products/update", "wh-p", shopify_order(7, created), {}, "2026-11-22"
    )
    assert Inbox(world.zone).put(stored)
    [report] = drain(world.zone, max_attempts=5)
    assert (report.done, report.retrying, report.failed) == (0, 0, 1)
    assert "unusable delivery" in report.errors[0] and "products/update" in report.errors[0]
    [failed] = Inbox(world.zone).failed(TENANT, "shopify")
    assert failed.document["attempts"] == 1
    assert world.zone.files(TENANT, "shopify", "orders") == []


@pytest.fixture
def squarespace(world):
    shop = squarespace_shop(date(2026, 11, 1), days=3, per_day=2)
    with FakeSquarespace(shop, api_key=SECRETS["squarespace_api_key"]) as fake:
        write_tenant(
            world.tenants,
            {
                "squarespace": {
                    "base_url": fake.base_url,
                    "max_attempts": 1,
                    "max_retry_delay_s": 0.1,
                }
            },
        )
        yield fake


def _send_squarespace(world, order_id: str) -> None:
    body = dumps(thin_notification(order_id))
    with receiving(world.zone, world.tenants) as receiver:
        answer = receiver.post(f"/webhooks/squarespace/{TENANT}", body, squarespace_headers(body))
    assert answer.json()["status"] == "stored"


def test_thin_notification_fetches_the_order_and_survives_the_api_being_down(world, squarespace):
    order = squarespace.shop.orders[1]
    _send_squarespace(world, order.order_id)
    squarespace.fail_next(100, 503, "/commerce/orders/")
    [first] = drain(world.zone, max_attempts=2)
    assert (first.done, first.retrying, first.failed) == (0, 1, 0)
    assert "503" in first.errors[0]
    [waiting] = Inbox(world.zone).pending(TENANT, "squarespace")
    assert waiting.document["attempts"] == 1
    [second] = drain(world.zone, max_attempts=2)
    assert (second.done, second.failed) == (0, 1)
    assert Inbox(world.zone).counts(TENANT)["squarespace"] == {
        "pending": 0,
        "done": 0,
        "failed": 1,
    }
    [failed] = Inbox(world.zone).failed(TENANT, "squarespace")
    assert len(failed.document["errors"]) == 2
    assert world.zone.files(TENANT, "squarespace", "orders") == []
    # The API is back; the operator puts the failed delivery back in line.
    squarespace._faults.clear()
    assert Inbox(world.zone).requeue_failed(TENANT, "squarespace") == 1
    [third] = drain(world.zone, max_attempts=2)
    assert third.done == 1
    [row] = world.zone.read(TENANT, "squarespace", "orders").to_pylist()
    assert row["order_id"] == order.order_id
    assert row["revenue"] == pytest.approx(order.revenue)
    assert "/1.0/commerce/orders/" in row["_source_file"]


def test_meta_events_land_as_site_events(world):
    write_tenant(world.tenants, {"meta_capi": {"pixel_id": "1234567890"}})
    with_order = meta_event("ord-1")
    lead = meta_event("lead-1", name="Lead", custom_data={})
    no_id = meta_event("x")
    del no_id["event_id"]
    with receiving(world.zone, world.tenants) as receiver:
        answer = receiver.post(
            f"/webhooks/meta_capi/{TENANT}/v21.0/1234567890/events",
            dumps({"data": [with_order, lead, no_id]}),
            {"Content-Type": "application/json"},
            params={"access_token": SECRETS["meta_capi_webhook_secret"]},
        )
    assert answer.json()["events_received"] == 2
    [refused] = answer.json()["messages"]
    assert "event_id" in refused
    [report] = drain(world.zone)
    assert (report.done, report.rows_landed, report.rows_quarantined) == (2, 2, 0)
    rows = {
        r["event_id"]: r for r in world.zone.read(TENANT, "meta_capi", "site_events").to_pylist()
    }
    purchase = rows["meta:Purchase:ord-1"]
    assert purchase["event_type"] == "purchase"
    assert purchase["ts"] == datetime.fromtimestamp(with_order["event_time"], UTC).replace(
        tzinfo=None
    )
    assert purchase["ip"] == "203.0.113.9"
    assert purchase["user_agent"].startswith("Mozilla/5.0 (iPhone")
    assert purchase["url"] == "https://shop.example/thank-you?utm_source=podcast"
    assert purchase["order_id"] == "1001"
    assert purchase["referrer"] is None and purchase["utm_source"] is None
    assert rows["meta:Lead:lead-1"]["order_id"] is None


def test_meta_check_reads_the_pixel_with_the_tenants_token(world, monkeypatch):
    with FakeMetaGraph({"1234567890": "Acme pixel"}) as fake:
        write_tenant(
            world.tenants,
            {"meta_capi": {"pixel_id": "1234567890", "base_url": fake.base_url}},
        )
        connector = build_connector(TENANT, "meta_capi")
        assert connector.check() == "pixel 1234567890 (Acme pixel)"
        [served] = fake.requests_to("/v21.0/1234567890")
        # The fake answers only the tenant's token; the token is not in the URL.
        assert served.status == 200 and served.query == {"fields": "id,name"}
        monkeypatch.setenv(f"EARSHOT_SECRET_META_CAPI_ACCESS_TOKEN__{TENANT.upper()}", "expired")
        with pytest.raises(CredentialsError, match="190"):
            build_connector(TENANT, "meta_capi").check()
        assert connector.streams == ()


def test_hubspot_events_fetch_the_contact_and_a_deleted_one_is_set_aside(world):
    from tests.fakes.crm import make_crm
    from tests.fakes.hubspot import FakeHubSpot
    from tests.webhooks.support import hubspot_headers

    crm = make_crm(date(2026, 11, 1), days=2)
    contact = crm.contacts[0]
    with FakeHubSpot(crm, token=SECRETS["hubspot_access_token"]) as fake:
        write_tenant(
            world.tenants,
            {"hubspot": {"base_url": fake.base_url, "max_attempts": 1, "max_retry_delay_s": 0.1}},
        )
        events = [
            {
                "eventId": 501,
                "subscriptionId": 1,
                "portalId": 62515,
                "occurredAt": 1764165600000,
                "subscriptionType": "contact.creation",
                "attemptNumber": 0,
                "objectId": int(contact.contact_id),
            },
            {
                "eventId": 502,
                "subscriptionId": 1,
                "portalId": 62515,
                "occurredAt": 1764165600000,
                "subscriptionType": "contact.creation",
                "attemptNumber": 0,
                "objectId": 987654321,
            },
        ]
        body = dumps(events)
        with receiving(world.zone, world.tenants) as receiver:
            path = f"/webhooks/hubspot/{TENANT}"
            answer = receiver.post(path, body, hubspot_headers(receiver.url + path, body))
        assert answer.json()["stored"] == 2
        [report] = drain(world.zone)
    assert (report.done, report.failed, report.retrying) == (1, 1, 0)
    [row] = world.zone.read(TENANT, "hubspot", "leads").to_pylist()
    assert row["lead_id"] == f"contact:{contact.contact_id}"
    assert row["email"] == contact.email
    [failed] = Inbox(world.zone).failed(TENANT, "hubspot")
    assert failed.document["key"] == "502" and "unusable" in failed.document["errors"][0]
