"""CRM leads, shop journeys and web analytics figures through the whole dbt project.

A small tenant is written straight into the raw tables (the shapes the CRM, shop and GA4
connectors land), then `dbt build` runs every model and every data test (relationships,
uniqueness, the privacy boundary) on real tables, which the dbt unit tests do not, on DuckDB and
on PostgreSQL. The checks
are the hand-computed outcomes of docs/user/attribution.md ("What converts", "Journey visits")
and docs/user/marts.md (fct_leads, rpt_web_traffic_daily).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from tests.integration.test_dbt_unit_tests import UNIT_TEST_KEY, _create_raw, _dbt
from tests.support.postgres_server import fresh_database
from warehouse.connection import DuckDBWarehouse, PostgresWarehouse, Warehouse
from warehouse.pseudonymisation import dbt_environment

TENANT = "acme"
LINEAGE = {
    "_tenant_id": TENANT,
    "_source": "test",
    "_extracted_at": "2024-02-01 00:00:00",
    "_batch_id": "b1",
    "_source_row": 0,
}


def _insert(wh: Warehouse, table: str, rows: list[dict]) -> None:
    for number, row in enumerate(rows):
        values = {**LINEAGE, "_source_row": number, **row}
        columns = ", ".join(f'"{c}"' for c in values)
        marks = ", ".join("?" for _ in values)
        wh.execute(f"insert into raw.{table} ({columns}) values ({marks})", list(values.values()))


def _rows(wh: Warehouse, query: str) -> list[tuple]:
    return [tuple(r) for r in wh.fetch(query)]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], Warehouse]:
    """The built warehouse, as a function opening a fresh connection to it."""
    engine: str = request.param
    tmp = tmp_path_factory.mktemp(f"leads-{engine}")
    path = tmp / "leads.duckdb"
    env = {
        **os.environ,
        "DBT_TARGET": engine,
        "DBT_TARGET_PATH": str(tmp / "target"),
        "DBT_LOG_PATH": str(tmp / "logs"),
        "EARSHOT_DUCKDB_PATH": str(path),
        **dbt_environment(UNIT_TEST_KEY, base={}),
    }
    if engine == "duckdb":

        def connect() -> Warehouse:
            return DuckDBWarehouse(path)

    else:
        server = request.getfixturevalue("pg_server")
        settings = fresh_database(server, "dbt_leads")
        env.update(server.env())
        env["EARSHOT_PG_DATABASE"] = "dbt_leads"

        def connect() -> Warehouse:
            return PostgresWarehouse(settings)

    wh = connect()
    _create_raw(wh)
    _insert(
        wh,
        "episodes",
        [{"episode_id": "e1", "show_id": "s1", "show_name": "The Morning Cup", "title": "Ep 1"}],
    )
    _insert(
        wh,
        "campaigns",
        [
            {
                "campaign_id": "cmp_a",
                "advertiser": "Roastery",
                "name": "Winter",
                "start_date": "2024-01-01",
                "end_date": "2024-01-31",
                "budget": 1000.0,
                "currency": "USD",
            }
        ],
    )
    _insert(
        wh,
        "placements",
        [
            {
                "placement_id": "p1",
                "campaign_id": "cmp_a",
                "episode_id": "e1",
                "position": "mid",
                "cost": 1000.0,
                "vanity_url": "roast.example/cup",
            }
        ],
    )
    _insert(
        wh,
        "leads",
        [
            {
                "lead_id": "contact:1",
                "lead_type": "contact",
                "ts": "2024-01-10 09:00:00",
                "updated_at": "2024-01-10 09:00:00",
                "email": " Ana@Example.com",
                "ip": "203.0.113.9",
                "currency": "USD",
                "landing_url": "https://www.roast.example/cup/",
                "survey_answer": "the morning cup podcast",
            },
            {
                "lead_id": "deal:7",
                "lead_type": "deal",
                "ts": "2024-01-11 10:00:00",
                # won on the 18th; edited again on the 20th, which must not move its conversion
                "updated_at": "2024-01-20 15:30:00",
                "closed_at": "2024-01-18 00:00:00",
                "value": 1500.0,
                "currency": "USD",
                "status": "closedwon",
                "is_won": True,
                "contact_id": "contact:1",
            },
            {
                "lead_id": "deal:8",
                "lead_type": "deal",
                "ts": "2024-01-12 10:00:00",
                "updated_at": "2024-01-13 10:00:00",
                "value": 900.0,
                "currency": "USD",
                "status": "appointmentscheduled",
                "is_won": False,
                "contact_id": "contact:1",
            },
        ],
    )
    _insert(
        wh,
        "orders",
        [
            {
                "order_id": "o1",
                "ts": "2024-01-15 12:00:00",
                "revenue": 40.0,
                "currency": "USD",
            }
        ],
    )
    _insert(
        wh,
        "site_events",
        [
            {
                # A journey event of o1 without an address: evidences o1 by its UTM columns.
                "event_id": "j1",
                "ts": "2024-01-14 08:00:00",
                "event_type": "page_view",
                "url": "https://roast.example/products",
                "order_id": "o1",
                "utm_source": "podcast",
                "utm_campaign": "CMP_A",
            }
        ],
    )
    traffic = {
        "platform": "ga4",
        "property_id": "123",
        "date": "2024-01-15",
        "conversions": 0.0,
        "revenue": 0.0,
    }
    _insert(
        wh,
        "web_traffic_daily",
        [
            {
                **traffic,
                "session_source": "podcast",
                "session_medium": "audio",
                "session_campaign": "cmp_a",
                "landing_page": "/",
                "sessions": 12,
                "conversions": 2.0,
                "revenue": 80.0,
            },
            {
                **traffic,
                "session_source": "(direct)",
                "session_medium": "(none)",
                "session_campaign": "(not set)",
                "landing_page": "/cup",
                "sessions": 5,
            },
            {
                **traffic,
                "session_source": "google",
                "session_medium": "organic",
                "session_campaign": "(organic)",
                "landing_page": "/",
                "sessions": 30,
            },
        ],
    )
    wh.close()
    result = _dbt(env, "build", "--exclude", "test_type:unit")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return connect


def test_leads_and_won_deals_convert(built: Callable[[], Warehouse]) -> None:
    wh = built()
    rows = _rows(
        wh,
        "select source_record_id, conversion_type, cast(conversion_ts as varchar), revenue,"
        " household_id is not null from intermediate.int_conversions order by source_record_id",
    )
    deal_household, contact_household = _rows(
        wh,
        "select household_id from intermediate.int_conversions"
        " where source_record_id in ('deal:7', 'contact:1') order by source_record_id desc",
    )
    wh.close()
    assert rows == [
        ("contact:1", "lead", "2024-01-10 09:00:00", 0.0, True),
        # won at its close date (not its later edit), with its value; the open deal:8 is none
        ("deal:7", "deal", "2024-01-18 00:00:00", 1500.0, True),
        ("o1", "order", "2024-01-15 12:00:00", 40.0, False),
    ]
    # the deal has no address of its own: it is its contact's household
    assert deal_household == contact_household


def test_signals_reach_leads_and_journeys(built: Callable[[], Warehouse]) -> None:
    wh = built()
    rows = _rows(
        wh,
        "select conversions.source_record_id, signals.campaign_id, signals.signal,"
        " signals.is_primary"
        " from intermediate.int_signal_conversions as signals"
        " inner join intermediate.int_conversions as conversions"
        " on conversions.conversion_id = signals.conversion_id"
        " order by 1, 3",
    )
    wh.close()
    assert rows == [
        # the lead's own landing URL (vanity) and its survey answer
        ("contact:1", "cmp_a", "survey", False),
        ("contact:1", "cmp_a", "vanity_url", True),
        # the lead's landing visit is a visit of its household ten days before the deal won
        ("deal:7", "cmp_a", "vanity_url", True),
        # the journey event names o1: evidence without any household
        ("o1", "cmp_a", "utm", True),
    ]


def test_fct_leads_is_pseudonymous(built: Callable[[], Warehouse]) -> None:
    wh = built()
    columns = {
        r[0]
        for r in wh.fetch(
            "select column_name from information_schema.columns"
            " where table_schema = 'marts' and table_name = 'fct_leads'"
        )
    }
    rows = _rows(
        wh,
        "select lead_id, is_conversion, conversion_type, revenue, primary_signal,"
        " email_key is not null from marts.fct_leads order by lead_id",
    )
    wh.close()
    assert not {"email", "ip", "landing_url", "survey_answer", "network_key"} & columns
    assert rows == [
        ("contact:1", True, "lead", 0.0, "vanity_url", True),
        ("deal:7", True, "deal", 1500.0, "vanity_url", False),
        ("deal:8", False, None, None, None, False),
    ]


def test_web_traffic_by_campaign(built: Callable[[], Warehouse]) -> None:
    wh = built()
    rows = _rows(
        wh,
        "select campaign_id, sessions, conversions, revenue, utm_sessions, vanity_url_sessions"
        " from marts.rpt_web_traffic_daily order by campaign_id nulls last",
    )
    wh.close()
    assert rows == [("cmp_a", 17, 2.0, 80.0, 12, 5), (None, 30, 0.0, 0.0, 0, 0)]
