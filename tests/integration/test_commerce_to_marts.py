"""Every store, CRM and analytics platform's records, synced from its fake, reach the marts
(DuckDB).

One tenant is connected to all of them at once: each record platform syncs the stream of its
contract case (tests/contract/record_cases.py) fully into one landing zone, a Meta Conversions API
event is processed as the webhook receiver would, the raw loader loads everything and dbt builds
the conversions, visits, leads and web traffic. Each store's orders become order conversions with
their revenue, the CRMs' contacts and leads become lead conversions, Marketo's and Meta's visits
become site events with their household, and GA4's sessions are summed in rpt_web_traffic_daily.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.framework.settings import parse_settings
from connectors.framework.sync import FULL, land_records, sync_connector
from connectors.registry import CONNECTORS
from tests.contract.record_cases import DAYS, FIRST_DAY, RECORD_CASES, key_of
from tests.support.landed_marts import build_marts
from warehouse.connection import DuckDBWarehouse
from warehouse.landing import LandingZone

TENANT = "all_sources"
LAST_DAY = FIRST_DAY + timedelta(days=DAYS - 1)
TODAY = LAST_DAY + timedelta(days=1)
STORES = ("shopify", "woocommerce", "bigcommerce", "squarespace")


def _distinct_ids(platform: str, world: Any) -> None:
    """Give each store's orders ids of their own: the contract worlds share numbers, and one
    tenant's orders share one id space (docs/user/connectors.md)."""
    if platform in ("woocommerce", "bigcommerce"):
        offset = {"woocommerce": 1_000_000_000, "bigcommerce": 2_000_000_000}[platform]
        for order in world.orders:
            order.order_id = str(int(order.order_id) + offset)


def _sync_record_platforms(zone: LandingZone) -> dict[str, dict[Any, dict[str, Any]]]:
    expected = {}
    for platform, factory in sorted(RECORD_CASES.items()):
        case = factory()
        world = case.world()
        _distinct_ids(platform, world)
        with case.fake(world) as fake:
            values = {
                "base_url": fake.base_url,
                "start_date": FIRST_DAY.isoformat(),
                "rate_limit": {"requests": 1000, "per_seconds": 1},
                **case.settings,
            }
            settings = parse_settings(CONNECTORS[platform].settings_model, values, "test", platform)
            connector = CONNECTORS[platform](TENANT, settings, case.secrets, today=TODAY)
            sync_connector(connector, zone, mode=FULL, streams=[case.stream])
        expected[platform] = case.expected(world)
        landed = zone.read(TENANT, platform, case.entity).to_pylist()
        assert {key_of(case, row) for row in landed} == set(expected[platform]), platform
    return expected


META_EVENT = {
    "event_name": "Purchase",
    "event_id": "evt-1",
    "event_time": 0,  # set to a day of the world below
    "action_source": "website",
    "event_source_url": "https://shop.example/?utm_source=podcast&utm_campaign=cmp_1",
    "user_data": {
        "em": ["7b17fb0bd173f625b58636fb796407c22b3d16fc78302d79f0fd30c2fc2fc068"],
        "client_ip_address": "198.51.100.77",
        "client_user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
    },
    "custom_data": {"currency": "USD", "value": 42.0},
}


def _land_meta_event(zone: LandingZone) -> None:
    from datetime import UTC, datetime

    event = dict(META_EVENT)
    event["event_time"] = int(datetime(2026, 10, 5, 12, tzinfo=UTC).timestamp())
    settings = parse_settings(
        CONNECTORS["meta_capi"].settings_model, {"pixel_id": "1234567890"}, "test", "meta_capi"
    )
    connector = CONNECTORS["meta_capi"](TENANT, settings, {"access_token": "t"}, today=TODAY)
    stream, records = connector.webhook_records("events", event)
    land_records(connector, zone, stream, records, label="webhook e1", cursor="webhook:e1")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    home = tmp_path_factory.mktemp("all_sources")
    previous = os.environ.get("EARSHOT_HOME")
    os.environ["EARSHOT_HOME"] = str(home)
    try:
        zone = LandingZone(home / "landing")
        expected = _sync_record_platforms(zone)
        _land_meta_event(zone)
        database, built = build_marts(
            zone, TENANT, home, "+fct_leads +rpt_web_traffic_daily +int_site_visits"
        )
        assert built.returncode == 0, built.stdout[-3000:]
    finally:
        if previous is None:
            os.environ.pop("EARSHOT_HOME", None)
        else:
            os.environ["EARSHOT_HOME"] = previous
    return database, expected


def _fetch(database: Path, sql: str) -> list[tuple]:
    wh = DuckDBWarehouse(database)
    try:
        return wh.fetch(sql)
    finally:
        wh.close()


def test_every_record_platform_is_covered() -> None:
    pushed_only = {p for p, cls in CONNECTORS.items() if not cls.streams}
    hosts = {"buzzsprout", "transistor", "podbean", "simplecast", "libsyn", "castos"}
    hosts |= {"spotify", "youtube"}
    assert set(RECORD_CASES) | pushed_only == set(CONNECTORS) - hosts


def test_every_store_order_is_a_conversion_with_its_revenue(warehouse) -> None:
    database, expected = warehouse
    rows = _fetch(
        database,
        "select source_record_id, revenue from intermediate.int_conversions"
        f" where tenant_id = '{TENANT}' and conversion_type = 'order'",
    )
    revenue = dict(rows)
    for store in STORES:
        for order_id, columns in expected[store].items():
            assert revenue[order_id] == pytest.approx(columns["revenue"]), (store, order_id)
    assert len(revenue) == sum(len(expected[s]) for s in STORES)


def test_crm_leads_are_lead_conversions_without_their_email(warehouse) -> None:
    database, expected = warehouse
    leads = dict(
        _fetch(
            database,
            f"select lead_id, conversion_type from marts.fct_leads where tenant_id = '{TENANT}'",
        )
    )
    for platform in ("hubspot", "salesforce"):
        assert set(expected[platform]) <= set(leads), platform
        assert {leads[k] for k in expected[platform]} == {"lead"}, platform
    columns = {
        name
        for (name,) in _fetch(
            database,
            "select column_name from information_schema.columns"
            " where table_schema = 'marts' and table_name = 'fct_leads'",
        )
    }
    assert "email_key" in columns and "email" not in columns


def test_visits_of_marketo_and_meta_are_site_events_of_a_household(warehouse) -> None:
    database, expected = warehouse
    rows = _fetch(
        database,
        "select event_id, network_key is not null, event_type from staging.stg_files__site_events"
        f" where tenant_id = '{TENANT}'",
    )
    events = {event_id: (has_network, kind) for event_id, has_network, kind in rows}
    assert set(expected["marketo"]) <= set(events)
    assert all(events[e][0] for e in expected["marketo"]), "Marketo visits carry the address"
    assert events["meta:Purchase:evt-1"] == (True, "purchase")


def test_ga4_sessions_add_up_in_the_web_traffic_report(warehouse) -> None:
    database, expected = warehouse
    sessions_by_day: dict[Any, int] = defaultdict(int)
    for key, columns in expected["ga4"].items():
        sessions_by_day[key[2]] += columns["sessions"]  # the key's third column is the date
    rows = _fetch(
        database,
        "select traffic_date, sum(sessions) from marts.rpt_web_traffic_daily"
        f" where tenant_id = '{TENANT}' group by traffic_date",
    )
    assert {day: int(total) for day, total in rows} == dict(sessions_by_day)
