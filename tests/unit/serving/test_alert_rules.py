"""The alert rules on a small hand-made warehouse: what each raises, keyed to be sent once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from serving.alerts.rules import (
    anomaly_alerts,
    budget_pacing_alerts,
    newest_listening_day,
    quality_gate_alerts,
    stale_data_alerts,
    warehouse_alerts,
)
from serving.settings import (
    AnomalyRule,
    BudgetPacingRule,
    QualityGateRule,
    ServingSettings,
    StaleDataRule,
)
from warehouse.connection import DuckDBWarehouse


@pytest.fixture
def wh(tmp_path: Path):
    warehouse = DuckDBWarehouse(tmp_path / "alerts.duckdb")
    for schema in ("marts", "ml", "raw"):
        warehouse.execute(f"create schema {schema}")
    warehouse.execute(
        "create table marts.fct_episode_downloads_daily"
        " (tenant_id text, download_date date, downloads bigint)"
    )
    warehouse.execute(
        "insert into marts.fct_episode_downloads_daily values"
        " ('acme', '2026-11-20', 10), ('acme', '2026-11-21', 0),"
        " ('globex', '2026-11-25', 3)"
    )
    warehouse.execute(
        "create table ml.anomalies (anomaly_id text, tenant_id text, detected_at_day date,"
        " metric text, entity_type text, entity_id text, observed double, expected double,"
        " expected_low double, expected_high double, severity text, explanation text,"
        " model_version text)"
    )
    rows = [
        # in the 7-day window ending 2026-11-20 (from 11-14): a1 high, a2 critical, a3 low
        ("a1", "acme", "2026-11-20", "high"),
        ("a2", "acme", "2026-11-14", "critical"),
        ("a3", "acme", "2026-11-19", "low"),
        # one day before the window
        ("a4", "acme", "2026-11-13", "critical"),
        ("g1", "globex", "2026-11-20", "critical"),
    ]
    for anomaly_id, tenant, day, severity in rows:
        warehouse.execute(
            "insert into ml.anomalies values (?, ?, ?, 'downloads', 'show', 'show_1', 50, 100,"
            " 80, 120, ?, 'Downloads fell by half.', 'anomalies-v1')",
            [anomaly_id, tenant, day, severity],
        )
    warehouse.execute(
        "create table marts.rpt_budget_pacing (tenant_id text, campaign_id text,"
        " campaign_name text, as_of_date date, flight_status text, budget double,"
        " currency text, booked_spend double, expected_spend double, pacing_ratio double,"
        " budget_used_share double, end_date date)"
    )
    warehouse.execute(
        "insert into marts.rpt_budget_pacing values"
        " ('acme', 'slow', 'Slow', '2026-11-20', 'in_flight', 100, 'USD', 20, 50, 0.4, 0.2,"
        "  '2026-12-01'),"
        " ('acme', 'fine', 'Fine', '2026-11-20', 'in_flight', 100, 'USD', 50, 50, 1.0, 0.5,"
        "  '2026-12-01'),"
        " ('acme', 'fast', 'Fast', '2026-11-20', 'in_flight', 100, 'USD', 75, 50, 1.5, 0.75,"
        "  '2026-12-01'),"
        " ('acme', 'blown', 'Blown', '2026-11-20', 'ended', 100, 'USD', 130, 100, 1.3, 1.3,"
        "  '2026-11-10'),"
        " ('acme', 'later', 'Later', '2026-11-20', 'not_started', 100, 'USD', 0, 0, null, 0,"
        "  '2027-01-01'),"
        " ('globex', 'g', 'G', '2026-11-25', 'in_flight', 100, 'USD', 1, 50, 0.02, 0.01,"
        "  '2026-12-01')"
    )
    warehouse.execute(
        "create table raw.orders (_tenant_id text, _source text, _extracted_at timestamp,"
        " order_id text)"
    )
    warehouse.execute(
        "create table raw.download_requests (_tenant_id text, _source text,"
        " _extracted_at timestamp, ip text)"
    )
    warehouse.execute(
        "insert into raw.orders values ('acme', 'shopify', '2026-11-24 06:00:00', 'o1'),"
        " ('acme', 'shopify', '2026-11-25 06:00:00', 'o2'),"
        " ('globex', 'shopify', '2026-11-01 00:00:00', 'g1')"
    )
    warehouse.execute(
        "insert into raw.download_requests values"
        " ('acme', 'logs', '2026-11-26 05:00:00', '192.0.2.1')"
    )
    # A raw table without batch columns is not a source.
    warehouse.execute("create table raw.notes (tenant_id text)")
    yield warehouse
    warehouse.close()


def test_the_newest_listening_day_ignores_days_without_downloads(wh) -> None:
    assert newest_listening_day(wh, "acme") == date(2026, 11, 20)
    assert newest_listening_day(wh, "nobody") is None


def test_anomalies_at_or_above_the_severity_within_the_window(wh) -> None:
    rule = AnomalyRule(rule="anomalies", min_severity="high", within_days=7, channels=["team"])
    alerts = anomaly_alerts(wh, "acme", rule)
    assert [a.key for a in alerts] == ["anomalies:a2", "anomalies:a1"]
    assert [a.severity for a in alerts] == ["critical", "high"]
    assert alerts[0].text == "Downloads fell by half."
    assert ("Expected", "100.0 (80.0 to 120.0)") in alerts[0].fields
    assert alerts[0].channels == ("team",)
    low = AnomalyRule(rule="anomalies", min_severity="low", within_days=8, channels=["team"])
    assert {a.key for a in anomaly_alerts(wh, "acme", low)} == {
        "anomalies:a1",
        "anomalies:a2",
        "anomalies:a3",
        "anomalies:a4",
    }


def test_no_anomaly_table_raises_nothing(wh) -> None:
    wh.execute("drop table ml.anomalies")
    rule = AnomalyRule(rule="anomalies", channels=["team"])
    assert anomaly_alerts(wh, "acme", rule) == []


def test_budget_pacing_under_over_and_over_budget(wh) -> None:
    rule = BudgetPacingRule(rule="budget_pacing", under=0.8, over=1.2, channels=["ads"])
    alerts = budget_pacing_alerts(wh, "acme", rule)
    # 2026-11-20 is in ISO week 2026-W47.
    assert [a.key for a in alerts] == [
        "budget_pacing:blown:over_budget:2026-W47",
        "budget_pacing:fast:over:2026-W47",
        "budget_pacing:slow:under:2026-W47",
    ]
    assert [a.severity for a in alerts] == ["high", "medium", "medium"]
    assert alerts[2].text == "Slow is pacing at 40% of plan (alert below 80%)."
    assert ("Booked spend", "USD 20.00") in alerts[2].fields
    lenient = BudgetPacingRule(rule="budget_pacing", under=0.3, over=1.6, channels=["ads"])
    assert [a.key for a in budget_pacing_alerts(wh, "acme", lenient)] == [
        "budget_pacing:blown:over_budget:2026-W47"
    ]


def test_stale_data_per_source_against_the_wall_clock(wh) -> None:
    now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    rule = StaleDataRule(rule="stale_data", max_age_hours=24, channels=["ops"])
    alerts = stale_data_alerts(wh, "acme", rule, now)
    # shopify's newest batch is 25 h old; the logs landed 2 h ago.
    assert [a.key for a in alerts] == ["stale_data:shopify:2026-11-25T06:00:00"]
    assert "25 hours ago" in alerts[0].text
    assert (
        stale_data_alerts(wh, "acme", StaleDataRule(rule="stale_data", channels=["o"]), now) == []
    )
    assert [a.key for a in stale_data_alerts(wh, "globex", rule, now)] == [
        "stale_data:shopify:2026-11-01T00:00:00"
    ]


def test_quality_gate_alert_names_the_checks() -> None:
    rule = QualityGateRule(rule="quality_gate", channels=["ops"])
    assert quality_gate_alerts("acme", rule, "run-1", "tenant_pipeline", [], ["x"]) == []
    checks = [f"marts/fct_{i} / not_null" for i in range(12)]
    (alert,) = quality_gate_alerts("acme", rule, "run-1", "tenant_pipeline", checks, ["dbt"])
    assert alert.key == "quality_gate:run-1" and alert.severity == "critical"
    assert "marts/fct_0 / not_null" in alert.text and "and 2 more" in alert.text


def test_rules_of_one_tenant_never_read_anothers_rows(wh) -> None:
    settings = ServingSettings.model_validate(
        {
            "channels": {"team": {"type": "slack_webhook", "secret": "slack_url"}},
            "alerts": [
                {
                    "rule": "anomalies",
                    "min_severity": "low",
                    "within_days": 30,
                    "channels": ["team"],
                },
                {"rule": "budget_pacing", "channels": ["team"]},
                {"rule": "stale_data", "max_age_hours": 1, "channels": ["team"]},
            ],
        }
    )
    now = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    globex = warehouse_alerts(wh, "globex", settings, now)
    assert {a.key for a in globex} == {
        "anomalies:g1",
        "budget_pacing:g:under:2026-W48",
        "stale_data:shopify:2026-11-01T00:00:00",
    }
    assert all(a.tenant_id == "globex" for a in globex)
