"""A session tenant whose orders and leads come from a store and a CRM instead of files.

The simulated world's orders are served by a Shopify fake (the order's name is the export's order
id, so the truth files still name them) and synced by `earshot connectors sync` up to the day
before the last order day; the last day's orders arrive as signed `orders/create` webhooks at
`earshot webhooks serve` and land when it drains. A HubSpot fake holds contacts (some from the
podcast, tagged with the world's first campaign and naming its first show in a survey property)
and deals. Everything else of the world (logs, catalogue, campaigns) is imported from files as
for every tenant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import requests

from tests.fakes.crm import Crm, make_crm
from tests.fakes.ga4 import FakeGa4, Ga4World, make_ga4_world
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.shop import Shop, ShopOrder
from tests.fakes.shopify import FakeShopify

SECRETS = {
    "shopify_access_token": "shpat_e2e_token",
    "shopify_webhook_secret": "shpss_e2e_webhook_secret",
    "hubspot_access_token": "pat-e2e-hubspot-token",
    "ga4_client_id": "e2e-ga4.apps.googleusercontent.com",
    "ga4_client_secret": "e2e-ga4-secret",
    "ga4_refresh_token": "1//e2e-ga4-refresh",
}
STORE_SECRETS = ("shopify_access_token", "shopify_webhook_secret")
GA4_PROPERTY = "312345678"
SURVEY_PROPERTY = "how_did_you_hear_about_us"


@dataclass
class CommerceWorld:
    """What the store and the CRM held, for the tests to compare the warehouse with."""

    shop: Shop | None
    crm: Crm
    traffic: Ga4World
    webhook_day: date
    webhook_orders: list[str]
    campaign_id: str
    show_name: str


def export_files(export: Path, entity: str) -> list[Path]:
    return sorted(export.glob(f"{entity}.*")) + sorted(export.glob(f"{entity}-*.*"))


def ingest_folder_without_orders(export: Path, folder: Path) -> Path:
    """A folder with the export's files but its orders (symbolic links, nothing copied)."""
    folder.mkdir(parents=True, exist_ok=True)
    orders = set(export_files(export, "orders"))
    for path in export.iterdir():
        if path.is_file() and path not in orders:
            (folder / path.name).symlink_to(path)
    return folder


def shop_from_export(export: Path) -> Shop:
    """The export's orders as a store holds them: numeric ids, the export's order id as the
    order's name, times to the second (Shopify has no fraction), customers as numbers."""
    rows: list[dict[str, Any]] = []
    for path in export_files(export, "orders"):
        table = pq.read_table(path) if path.suffix == ".parquet" else pa_csv.read_csv(path)
        rows += table.to_pylist()
    orders = []
    for number, row in enumerate(sorted(rows, key=lambda r: r["order_id"]), start=1):
        created = _utc(row["ts"])
        customer = row.get("customer_id")
        orders.append(
            ShopOrder(
                order_id=str(5_000_000_000 + number),
                name=row["order_id"],
                created_at=created,
                updated_at=created,
                revenue=float(row["revenue"]),
                currency=row.get("currency") or "USD",
                ip=row.get("ip"),
                user_agent=row.get("user_agent"),
                customer_id=str(int(hashlib.sha256(customer.encode()).hexdigest()[:12], 16))
                if customer
                else None,
                discount_codes=[c for c in (row.get("discount_codes") or "").split(",") if c],
                landing_url=row.get("landing_url"),
                referrer=row.get("referrer"),
                survey_answer=row.get("survey_answer"),
            )
        )
    return Shop(orders)


def _utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=0)


def crm_for_world(export: Path, first_day: date, days: int) -> tuple[Crm, str, str]:
    """Contacts and deals over the world's days; the podcast's contacts carry the world's first
    campaign in their UTM tags and name its first show in the survey property."""
    campaigns = pq.read_table(export_files(export, "campaigns")[0]).to_pylist()
    episodes = pq.read_table(export_files(export, "episodes")[0]).to_pylist()
    campaign_id = sorted(c["campaign_id"] for c in campaigns)[0]
    show_name = sorted(e["show_name"] for e in episodes)[0]
    crm = make_crm(first_day, days, per_day=1)
    for contact in crm.contacts:
        if contact.utm_campaign:
            contact.utm_campaign = campaign_id
            contact.first_url = (
                f"https://brand.example/demo?utm_source=podcast&utm_campaign={campaign_id}"
            )
            contact.survey_answer = f"I heard it on {show_name}" if contact.survey_answer else None
    return crm, campaign_id, show_name


def connect_store_and_crm(
    env: dict[str, str],
    home: Path,
    tenant: str,
    export: Path,
    add_connectors: Callable[[dict[str, Any]], None],
    store_secret: Callable[[str, str], str],
    run_earshot: Callable[..., subprocess.CompletedProcess[str]],
    store: bool = True,
) -> tuple[CommerceWorld, str]:
    """Connect the tenant's HubSpot and Google Analytics 4 (every tenant: their marts then hold
    rows of each tenant) and, with ``store``, its Shopify store in place of the order export."""
    exported = shop_from_export(export)
    days = sorted({o.created_at.date() for o in exported.orders})
    first_day, webhook_day = days[0], days[-1]
    span = (webhook_day - first_day).days
    crm, campaign_id, show_name = crm_for_world(export, first_day, span)
    traffic = make_ga4_world(first_day, span, GA4_PROPERTY)
    wanted = {k: v for k, v in SECRETS.items() if store or k not in STORE_SECRETS}
    logs = [store_secret(name, value) for name, value in wanted.items()]
    with (
        FakeShopify(exported, SECRETS["shopify_access_token"]) as shopify,
        FakeHubSpot(crm, SECRETS["hubspot_access_token"], survey_property=SURVEY_PROPERTY) as hub,
        FakeGa4(
            traffic,
            SECRETS["ga4_client_id"],
            SECRETS["ga4_client_secret"],
            SECRETS["ga4_refresh_token"],
        ) as ga4,
    ):
        common = {
            "start_date": first_day.isoformat(),
            "rate_limit": {"requests": 1000, "per_seconds": 1},
        }
        connectors: dict[str, Any] = {
            "hubspot": {"base_url": hub.base_url, "survey_property": SURVEY_PROPERTY, **common},
            "ga4": {
                "base_url": ga4.base_url,
                "token_url": "{base_url}/token",
                "property_id": GA4_PROPERTY,
                **common,
            },
        }
        if store:
            connectors["shopify"] = {
                "shop": "e2e-store",
                "base_url": shopify.base_url,
                "order_id_from": "name",
                **common,
            }
        add_connectors(connectors)
        # Until the day before the last: that day's orders come by webhook.
        until = (webhook_day - timedelta(days=1)).isoformat()
        for platform in connectors:
            sync = run_earshot(
                env, "connectors", "sync", "--tenant", tenant, "--platform", platform,
                "--full", "--until", until,
            )  # fmt: skip
            logs += [sync.stdout, sync.stderr]
        pushed = [o for o in exported.orders if o.created_at.date() == webhook_day]
        if store:
            logs.append(_deliver_webhooks(env, tenant, shopify, pushed))
            drain = run_earshot(env, "webhooks", "drain", "--tenant", tenant)
            logs += [drain.stdout, drain.stderr]
    world = CommerceWorld(
        exported if store else None,
        crm,
        traffic,
        webhook_day,
        [o.name or o.order_id for o in pushed] if store else [],
        campaign_id,
        show_name,
    )
    return world, "\n".join(logs)


def _deliver_webhooks(
    env: dict[str, str], tenant: str, shopify: FakeShopify, orders: list[ShopOrder]
) -> str:
    """POST each order to the receiver as Shopify signs it; returns the receiver's output."""
    command = [sys.executable, "-m", "pipelines.cli", "webhooks", "serve", "--port", "0"]
    server = subprocess.Popen(
        [*command, "--no-drain"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        found = re.search(r"http://[\d.]+:\d+", line)
        assert found, f"the receiver did not say where it listens: {line!r}"
        url = f"{found.group(0)}/webhooks/shopify/{tenant}"
        secret = SECRETS["shopify_webhook_secret"].encode()
        for order in orders:
            body = json.dumps(shopify.render_order(order)).encode()
            signature = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest())
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Hmac-Sha256": signature.decode(),
                "X-Shopify-Webhook-Id": f"e2e-{order.order_id}",
                "X-Shopify-Shop-Domain": shopify.domain,
            }
            answer = _post(url, body, headers)
            assert answer.status_code == 200, (answer.status_code, answer.text)
    finally:
        server.terminate()
        output, errors = server.communicate(timeout=30)
    return output + errors


def _post(url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    for _ in range(50):
        try:
            return requests.post(url, data=body, headers=headers, timeout=30)
        except requests.ConnectionError:
            time.sleep(0.1)  # the socket is bound before the app answers
    return requests.post(url, data=body, headers=headers, timeout=30)
