"""What the webhook tests share: senders that sign as each platform does (written apart from
connectors/webhooks/signatures.py, so a wrong scheme there fails here), a receiver on a loopback
port, tenant settings and secrets, and reading what landed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
import uvicorn
import yaml

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import ConnectorError
from connectors.webhooks.receiver import ReceiverConfig, build_app, listening_socket
from warehouse.landing import LandingZone

TENANT = "acme"
SECRETS = {
    "shopify_webhook_secret": "shpss_0123456789abcdef0123",
    "woocommerce_webhook_secret": "wc-webhook-secret-42",
    # Squarespace hands out its secret as hex text.
    "squarespace_webhook_secret": "9f86d081884c7d659a2feaa0c55ad015",
    "hubspot_webhook_secret": "hubspot-app-client-secret-1",
    "bigcommerce_webhook_secret": "bc-shared-header-secret-1",
    "meta_capi_webhook_secret": "earshot-capi-token-123",
    "shopify_access_token": "shpat_unused_by_webhooks",
    "squarespace_api_key": "sq-key-1",
    "meta_capi_access_token": "meta-token-1",
    "hubspot_access_token": "hs-token-1",
}
# Topics of the platforms whose connectors are not part of these tests (their real lists when
# the connector is registered).
STAND_IN_TOPICS = {
    "woocommerce": ("order.created", "order.updated"),
    "hubspot": ("contact.creation", "contact.propertyChange", "deal.creation"),
    "bigcommerce": ("store/order/created", "store/order/updated"),
}


def stand_in(platform: str, topics: tuple[str, ...]) -> type[Connector]:
    """A test-only connector for a platform whose connector is not used here: the receiver
    needs only its name and topics; processing is tested with real connectors."""

    class StandIn(Connector):
        display_name = f"{platform} (stand-in)"
        streams: tuple[Stream, ...] = ()
        webhook_topics = topics

        def check(self) -> str:
            raise ConnectorError("stand-in")

        def plan(self, stream: Stream, state: Any, mode: str) -> Plan:
            raise ConnectorError("stand-in")

        def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
            raise ConnectorError("stand-in")

        def rows(self, stream: Stream, item: SourceRecord) -> Iterator[dict[str, Any]]:
            raise ConnectorError("stand-in")

    StandIn.platform = platform
    return StandIn


def write_tenant(folder: Path, connectors: dict[str, Any], tenant: str = TENANT) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{tenant}.yaml").write_text(yaml.safe_dump({"connectors": connectors}))


def secret_env(tenant: str = TENANT, secrets: dict[str, str] | None = None) -> dict[str, str]:
    return {
        f"EARSHOT_SECRET_{name.upper()}__{tenant.upper()}": value
        for name, value in (secrets or SECRETS).items()
    }


# -- signing as each platform does ----------------------------------------------------------------


def _b64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def shopify_headers(body: bytes, topic: str, webhook_id: str, secret: str | None = None) -> dict:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": _b64_hmac(
            (secret or SECRETS["shopify_webhook_secret"]).encode(), body
        ),
        "X-Shopify-Shop-Domain": "acme-coffee.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-API-Version": "2024-10",
    }


def woocommerce_headers(body: bytes, topic: str, delivery: str, secret: str | None = None) -> dict:
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": _b64_hmac(
            (secret or SECRETS["woocommerce_webhook_secret"]).encode(), body
        ),
        "X-WC-Webhook-Delivery-ID": delivery,
        "X-WC-Webhook-Source": "https://shop.example/",
    }


def squarespace_headers(body: bytes, secret: str | None = None) -> dict:
    key = bytes.fromhex(secret or SECRETS["squarespace_webhook_secret"])
    return {
        "Content-Type": "application/json",
        "Squarespace-Signature": hmac.new(key, body, hashlib.sha256).hexdigest(),
    }


def hubspot_headers(
    url: str, body: bytes, at: datetime | None = None, secret: str | None = None
) -> dict:
    stamp = str(int((at or datetime.now(UTC)).timestamp() * 1000))
    message = b"POST" + url.encode() + body + stamp.encode()
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": _b64_hmac(
            (secret or SECRETS["hubspot_webhook_secret"]).encode(), message
        ),
        "X-HubSpot-Request-Timestamp": stamp,
    }


def bigcommerce_headers(secret: str | None = None) -> dict:
    return {
        "Content-Type": "application/json",
        "X-Earshot-Webhook-Secret": secret or SECRETS["bigcommerce_webhook_secret"],
    }


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def meta_event(
    event_id: str, at: datetime | None = None, name: str = "Purchase", **extra: Any
) -> dict:
    moment = at or datetime.now(UTC) - timedelta(hours=1)
    event = {
        "event_name": name,
        "event_time": int(moment.timestamp()),
        "event_id": event_id,
        "action_source": "website",
        "event_source_url": "https://shop.example/thank-you?utm_source=podcast",
        "user_data": {
            "em": [sha256_hex("Buyer@Example.com ")],
            "ph": [sha256_hex("15551234567")],
            "client_ip_address": "203.0.113.9",
            "client_user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
            "fbp": "fb.1.1700000000000.123",
        },
        "custom_data": {"currency": "USD", "value": 42.5, "order_id": "1001"},
    }
    event.update(extra)
    return event


def shopify_order(order_id: int, created: datetime, total: str = "149.00", **extra: Any) -> dict:
    """An order as Shopify's REST Admin API (and its orders/* webhooks) renders it."""
    # Shopify renders times in the shop's zone with its offset.
    local = created.astimezone(timezone(timedelta(hours=-4))).replace(microsecond=0)
    order = {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id % 10000}",
        "created_at": local.isoformat(),
        "updated_at": local.isoformat(),
        "total_price": total,
        "currency": "USD",
        "discount_codes": [{"code": "MORNING20", "amount": "10.00", "type": "percentage"}],
        "landing_site": "/products/beans?utm_source=podcast&utm_campaign=cmp_1",
        "referring_site": "https://podcasts.example/show",
        "source_name": "web",
        "browser_ip": "198.51.100.7",
        "client_details": {"browser_ip": "198.51.100.7", "user_agent": "Mozilla/5.0 Safari"},
        "customer": {"id": 7001, "email": "buyer@example.com"},
        "note_attributes": [{"name": "How did you hear about us?", "value": "Morning Cup"}],
        "email": "buyer@example.com",
    }
    order.update(extra)
    return order


# -- a receiver on loopback ---------------------------------------------------------------------


class Receiver:
    """The webhook app served by uvicorn in a thread on a free loopback port."""

    def __init__(self, config: ReceiverConfig) -> None:
        self.sock = listening_socket("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(
            uvicorn.Config(build_app(config), log_level="warning", access_log=False, lifespan="off")
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Receiver:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()

    def post(self, path: str, body: bytes, headers: dict, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, data=body, headers=headers, timeout=20, **kwargs)


@contextmanager
def receiving(zone: LandingZone, folder: Path, **options: Any) -> Iterator[Receiver]:
    with Receiver(ReceiverConfig(zone=zone, tenants_folder=folder, **options)) as receiver:
        yield receiver


def dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def inbox_files(home: Path, platform: str, state: str, tenant: str = TENANT) -> list[Path]:
    folder = home / "landing" / tenant / "_webhooks" / platform / state
    return sorted(folder.glob("*.json")) if folder.is_dir() else []
