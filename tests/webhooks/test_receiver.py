"""The receiver over real HTTP on loopback: each platform's signature, redeliveries, the limits
and the answers senders rely on. Nothing is processed here (test_processing.py does that)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.webhooks.support import (
    SECRETS,
    TENANT,
    bigcommerce_headers,
    dumps,
    hubspot_headers,
    inbox_files,
    meta_event,
    receiving,
    shopify_headers,
    shopify_order,
    squarespace_headers,
    woocommerce_headers,
    write_tenant,
)

pytestmark = pytest.mark.usefixtures("stand_ins")

SETTINGS = {
    "shopify": {"shop": "acme-coffee"},
    "woocommerce": {},
    "squarespace": {},
    "hubspot": {},
    "bigcommerce": {},
    "meta_capi": {"pixel_id": "1234567890"},
}


@pytest.fixture
def tenant(world):
    write_tenant(world.tenants, SETTINGS)
    return world


def _stored(world, platform: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in inbox_files(world.home, platform, "pending")]


def _landing_files(world) -> list:
    root = world.home / "landing" / TENANT
    return [p for p in root.rglob("*") if p.is_file() and "_webhooks" not in p.parts]


# -- one delivery per platform: good, bad, again -------------------------------------------------


def _shopify(receiver, body: bytes, secret: str | None = None, webhook_id: str = "wh-1"):
    return receiver.post(
        f"/webhooks/shopify/{TENANT}",
        body,
        shopify_headers(body, "orders/create", webhook_id, secret),
    )


def test_shopify_signed_stored_forged_refused_redelivery_duplicate(tenant):
    body = dumps(shopify_order(450789469, datetime(2026, 11, 20, 14, 0, tzinfo=UTC)))
    with receiving(tenant.zone, tenant.tenants) as receiver:
        forged = _shopify(receiver, body, secret="not-the-secret")
        assert forged.status_code == 401
        assert _stored(tenant, "shopify") == []
        first = _shopify(receiver, body)
        again = _shopify(receiver, body)
        unsigned = receiver.post(
            f"/webhooks/shopify/{TENANT}",
            body,
            {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "wh-9"},
        )
    assert first.status_code == 200 and first.json()["status"] == "stored"
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert unsigned.status_code == 401
    [document] = _stored(tenant, "shopify")
    assert document["topic"] == "orders/create"
    assert document["key"] == "wh-1"
    assert document["payload"]["id"] == 450789469
    assert document["headers"]["X-Shopify-Shop-Domain"] == "acme-coffee.myshopify.com"
    assert "X-Shopify-Hmac-Sha256" not in json.dumps(document)
    # The inbox is not a landed entity: nothing else is written before processing.
    assert _landing_files(tenant) == []


def test_a_body_changed_after_signing_is_refused(tenant):
    body = dumps(shopify_order(1, datetime(2026, 11, 20, tzinfo=UTC)))
    headers = shopify_headers(body, "orders/create", "wh-2")
    tampered = body.replace(b'"149.00"', b'"1.00"')
    with receiving(tenant.zone, tenant.tenants) as receiver:
        answer = receiver.post(f"/webhooks/shopify/{TENANT}", tampered, headers)
    assert answer.status_code == 401
    assert _stored(tenant, "shopify") == []


def test_woocommerce_signature_ping_and_redelivery(tenant):
    body = dumps({"id": 727, "status": "processing", "total": "29.35"})
    with receiving(tenant.zone, tenant.tenants) as receiver:
        ping = receiver.post(
            f"/webhooks/woocommerce/{TENANT}",
            b"webhook_id=15",
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        forged = receiver.post(
            f"/webhooks/woocommerce/{TENANT}",
            body,
            woocommerce_headers(body, "order.created", "d-1", secret="wrong"),
        )
        good = receiver.post(
            f"/webhooks/woocommerce/{TENANT}",
            body,
            woocommerce_headers(body, "order.created", "d-1"),
        )
        again = receiver.post(
            f"/webhooks/woocommerce/{TENANT}",
            body,
            woocommerce_headers(body, "order.created", "d-1"),
        )
    assert ping.status_code == 200 and ping.json()["status"] == "ignored"
    assert forged.status_code == 401
    assert good.json()["status"] == "stored"
    assert again.json()["status"] == "duplicate"
    [document] = _stored(tenant, "woocommerce")
    assert (document["topic"], document["key"]) == ("order.created", "d-1")


def test_squarespace_hex_key_signature(tenant):
    body = dumps(
        {
            "id": "5f1a9c4e8a1b2c3d4e5f6a7b",
            "topic": "order.create",
            "websiteId": "5e9d8c7b6a5f4e3d2c1b0a99",
            "createdOn": "2026-11-20T14:00:00.000Z",
            "data": {"orderId": "60b7e2f4a1b2c3d4e5f60718"},
        }
    )
    # Signing with the secret's text instead of its hex-decoded bytes is not Squarespace's
    # scheme and must not pass.
    import hashlib
    import hmac

    text_keyed = hmac.new(
        SECRETS["squarespace_webhook_secret"].encode(), body, hashlib.sha256
    ).hexdigest()
    with receiving(tenant.zone, tenant.tenants) as receiver:
        wrong = receiver.post(
            f"/webhooks/squarespace/{TENANT}",
            body,
            {"Content-Type": "application/json", "Squarespace-Signature": text_keyed},
        )
        good = receiver.post(f"/webhooks/squarespace/{TENANT}", body, squarespace_headers(body))
        again = receiver.post(f"/webhooks/squarespace/{TENANT}", body, squarespace_headers(body))
    assert wrong.status_code == 401
    assert good.json()["status"] == "stored"
    assert again.json()["status"] == "duplicate"
    [document] = _stored(tenant, "squarespace")
    assert document["key"] == "5f1a9c4e8a1b2c3d4e5f6a7b"
    assert document["topic"] == "order.create"


def _hubspot_events() -> list[dict]:
    return [
        {
            "eventId": 1001,
            "subscriptionId": 77,
            "portalId": 62515,
            "occurredAt": 1764165600000,
            "subscriptionType": "contact.creation",
            "attemptNumber": 0,
            "objectId": 123,
        },
        {
            "eventId": 1002,
            "subscriptionId": 78,
            "portalId": 62515,
            "occurredAt": 1764165600000,
            "subscriptionType": "company.creation",
            "attemptNumber": 0,
            "objectId": 9,
        },
    ]


def test_hubspot_v3_signs_the_public_url_and_refuses_stale_timestamps(tenant):
    body = dumps(_hubspot_events())
    public = "https://hooks.example.com"
    with receiving(tenant.zone, tenant.tenants, public_base_url=public) as receiver:
        path = f"/webhooks/hubspot/{TENANT}"
        # Signed over the URL HubSpot called (the proxy's), not the receiver's own.
        local_signed = receiver.post(path, body, hubspot_headers(receiver.url + path, body))
        stale = receiver.post(
            path,
            body,
            hubspot_headers(public + path, body, at=datetime.now(UTC) - timedelta(minutes=6)),
        )
        good = receiver.post(path, body, hubspot_headers(public + path, body))
        again = receiver.post(path, body, hubspot_headers(public + path, body))
    assert local_signed.status_code == 401
    assert stale.status_code == 401 and "old" in stale.json()["error"]
    assert good.status_code == 200
    # Each event is a delivery; a topic the connector does not use is acknowledged, not kept.
    assert good.json()["stored"] == 1
    assert good.json()["ignored_topics"] == ["company.creation"]
    assert again.json()["status"] == "duplicate"
    [document] = _stored(tenant, "hubspot")
    assert (document["key"], document["topic"]) == ("1001", "contact.creation")
    assert document["payload"]["objectId"] == 123


def test_bigcommerce_header_secret_and_body_key(tenant):
    body = dumps(
        {
            "scope": "store/order/created",
            "store_id": "1025646",
            "data": {"type": "order", "id": 173331},
            "hash": "3f9ea420af83450d7ef9f78b08c8af25b2213637",
            "created_at": 1561488106,
            "producer": "stores/abc123",
        }
    )
    with receiving(tenant.zone, tenant.tenants) as receiver:
        path = f"/webhooks/bigcommerce/{TENANT}"
        missing = receiver.post(path, body, {"Content-Type": "application/json"})
        wrong = receiver.post(path, body, bigcommerce_headers("bc-wrong"))
        good = receiver.post(path, body, bigcommerce_headers())
        again = receiver.post(path, body, bigcommerce_headers())
    assert missing.status_code == 401 and wrong.status_code == 401
    assert good.json()["status"] == "stored"
    assert again.json()["status"] == "duplicate"
    [document] = _stored(tenant, "bigcommerce")
    assert document["topic"] == "store/order/created"
    assert document["payload"]["data"]["id"] == 173331


# -- Meta's Conversions API request ----------------------------------------------------------------


def _meta(receiver, events: list[dict], token: str | None = None, **kwargs):
    path = f"/webhooks/meta_capi/{TENANT}/v21.0/1234567890/events"
    return receiver.post(
        path,
        dumps({"data": events}),
        {"Content-Type": "application/json"},
        params={"access_token": token or SECRETS["meta_capi_webhook_secret"]},
        **kwargs,
    )


def test_meta_token_dedup_and_answer_shape(tenant):
    with receiving(tenant.zone, tenant.tenants) as receiver:
        wrong = _meta(receiver, [meta_event("o-1")], token="nope")
        first = _meta(receiver, [meta_event("o-1"), meta_event("o-2", name="Lead")])
        # The same event_name + event_id again (a browser pixel and the server both sent it).
        again = _meta(receiver, [meta_event("o-1")])
        # Same id, another event name: another event.
        other = _meta(receiver, [meta_event("o-1", name="AddToCart")])
        bearer = receiver.post(
            f"/webhooks/meta_capi/{TENANT}/v21.0/1234567890/events",
            dumps({"data": [meta_event("o-3")]}),
            {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {SECRETS['meta_capi_webhook_secret']}",
            },
        )
    assert wrong.status_code == 401
    assert first.status_code == 200
    assert first.json()["events_received"] == 2 and first.json()["messages"] == []
    assert "fbtrace_id" in first.json()
    assert again.status_code == 200
    assert other.status_code == 200 and bearer.status_code == 200
    keys = sorted(d["key"] for d in _stored(tenant, "meta_capi"))
    assert keys == ["AddToCart:o-1", "Lead:o-2", "Purchase:o-1", "Purchase:o-3"]


def test_meta_one_old_event_rejects_the_whole_request(tenant):
    old = meta_event("o-old", at=datetime.now(UTC) - timedelta(days=8))
    with receiving(tenant.zone, tenant.tenants) as receiver:
        answer = _meta(receiver, [meta_event("o-fresh"), old])
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["type"] == "OAuthException" and "7 days" in error["message"]
    assert _stored(tenant, "meta_capi") == []


def test_meta_unhashed_email_is_rejected_and_never_stored(tenant):
    leaky = meta_event("o-9")
    leaky["user_data"]["em"] = ["buyer@example.com"]
    upper = meta_event("o-10")
    upper["user_data"]["ph"] = sha_upper = upper["user_data"]["ph"][0].upper()
    with receiving(tenant.zone, tenant.tenants) as receiver:
        answer = _meta(receiver, [leaky, upper, meta_event("o-11")])
    assert answer.status_code == 200
    body = answer.json()
    assert body["events_received"] == 1
    assert len(body["messages"]) == 2
    assert "user_data.em" in body["messages"][0] and "user_data.ph" in body["messages"][1]
    assert "buyer@example.com" not in answer.text
    stored = _stored(tenant, "meta_capi")
    assert [d["key"] for d in stored] == ["Purchase:o-11"]
    inbox = tenant.home / "landing" / TENANT / "_webhooks"
    for path in inbox.rglob("*.json"):
        text = path.read_text()
        assert "buyer@example.com" not in text and sha_upper not in text


# -- limits and refusals ---------------------------------------------------------------------------


def test_unknown_platform_unconfigured_tenant_and_disabled_connector_are_404(tenant, world):
    body = dumps(shopify_order(1, datetime(2026, 11, 20, tzinfo=UTC)))
    headers = shopify_headers(body, "orders/create", "wh-404")
    write_tenant(world.tenants, {"squarespace": {"enabled": False}}, tenant="other")
    with receiving(tenant.zone, tenant.tenants) as receiver:
        assert receiver.post(f"/webhooks/nosuch/{TENANT}", body, headers).status_code == 404
        # A registered connector without webhooks.
        assert receiver.post(f"/webhooks/buzzsprout/{TENANT}", body, headers).status_code == 404
        assert receiver.post("/webhooks/shopify/nobody", body, headers).status_code == 404
        assert receiver.post("/webhooks/shopify/other", body, headers).status_code == 404
        disabled = receiver.post("/webhooks/squarespace/other", body, squarespace_headers(body))
        assert disabled.status_code == 404
        assert receiver.post("/webhooks/shopify/Bad..Id", body, headers).status_code == 404
        assert receiver.post(f"/webhooks/shopify/{TENANT}/x", body, headers).status_code == 404
        health = receiver.post("/healthz", b"", {})
        assert health.status_code == 405
    assert _stored(tenant, "shopify") == []


def test_body_over_the_limit_is_413(tenant):
    big = dumps({"padding": "x" * (1024 * 1024)})
    with receiving(tenant.zone, tenant.tenants) as receiver:
        answer = receiver.post(
            f"/webhooks/shopify/{TENANT}", big, shopify_headers(big, "orders/create", "wh-big")
        )
    assert answer.status_code == 413
    assert _stored(tenant, "shopify") == []


def test_missing_secret_is_503_naming_it_never_its_value(tenant, monkeypatch):
    monkeypatch.delenv(f"EARSHOT_SECRET_SHOPIFY_WEBHOOK_SECRET__{TENANT.upper()}")
    body = dumps(shopify_order(1, datetime(2026, 11, 20, tzinfo=UTC)))
    with receiving(tenant.zone, tenant.tenants) as receiver:
        answer = _shopify(receiver, body)
    assert answer.status_code == 503
    assert "shopify_webhook_secret" in answer.json()["error"]
    assert SECRETS["shopify_webhook_secret"] not in answer.text


def test_topic_the_connector_does_not_use_is_acknowledged_not_stored(tenant):
    body = dumps({"id": 99, "title": "A product"})
    with receiving(tenant.zone, tenant.tenants) as receiver:
        answer = receiver.post(
            f"/webhooks/shopify/{TENANT}", body, shopify_headers(body, "products/create", "wh-p")
        )
    assert answer.status_code == 200
    assert answer.json()["status"] == "ignored"
    assert answer.json()["ignored_topics"] == ["products/create"]
    assert "disable" in answer.json()["reason"] or "enabled" in answer.json()["reason"]
    assert _stored(tenant, "shopify") == []


def test_an_inbox_that_cannot_be_written_is_5xx_so_the_sender_retries(tenant, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tenant.zone.storage, "open_write", broken)
    body = dumps(shopify_order(5, datetime(2026, 11, 20, tzinfo=UTC)))
    with receiving(tenant.zone, tenant.tenants) as receiver:
        answer = _shopify(receiver, body, webhook_id="wh-disk")
    assert answer.status_code == 503
    assert _stored(tenant, "shopify") == []


def test_healthz(tenant):
    with receiving(tenant.zone, tenant.tenants) as receiver:
        import requests

        assert requests.get(receiver.url + "/healthz", timeout=10).json() == {"status": "ok"}


def test_meta_form_encoded_request(tenant):
    from urllib.parse import urlencode

    body = urlencode(
        {
            "data": json.dumps([meta_event("form-1")]),
            "access_token": SECRETS["meta_capi_webhook_secret"],
        }
    ).encode()
    with receiving(tenant.zone, tenant.tenants) as receiver:
        answer = receiver.post(
            f"/webhooks/meta_capi/{TENANT}/v21.0/1234567890/events",
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 200 and answer.json()["events_received"] == 1
    assert [d["key"] for d in _stored(tenant, "meta_capi")] == ["Purchase:form-1"]
