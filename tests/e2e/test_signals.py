"""Attribution signals beyond impressions on the simulated worlds, on DuckDB and PostgreSQL.

The simulator knows which campaign caused each order (`_truth/orders.csv`) and wrote the promo
codes, vanity URLs, UTM links and survey answers of those orders into the export; the signal
models must find them from the export alone, and the combined view must count each conversion
once."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.conftest import TENANTS, BuiltPipeline
from tests.support.warehouse_query import sql

LOOKBACK = timedelta(days=30)  # dbt_project.yml lookback_days, which the pipeline leaves as is


def _export(pipeline: BuiltPipeline, tenant: str, entity: str) -> pd.DataFrame:
    """One entity of a tenant's export (Parquet or CSV, whole or in parts)."""
    folder = pipeline.exports[tenant]
    files = sorted(folder.glob(f"{entity}.*")) + sorted(folder.glob(f"{entity}-*.*"))
    assert files, f"no {entity} file in {folder}"
    frames = [
        pq.read_table(f).to_pandas() if f.suffix == ".parquet" else pd.read_csv(f, dtype=str)
        for f in files
    ]
    return pd.concat(frames, ignore_index=True)


def _truth_orders(pipeline: BuiltPipeline, tenant: str) -> pd.DataFrame:
    path: Path = pipeline.exports[tenant] / "_truth" / "orders.csv"
    assert path.exists(), f"the simulator's truth is missing: {path}"
    truth = pd.read_csv(path, dtype=str, keep_default_na=False)
    return truth[["order_id", "caused_by_campaign_id"]]


def _code(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def _orders_with_truth(pipeline: BuiltPipeline, tenant: str) -> pd.DataFrame:
    orders = _export(pipeline, tenant, "orders")
    orders["ts"] = pd.to_datetime(orders["ts"], utc=True).dt.tz_localize(None)
    merged = orders.merge(_truth_orders(pipeline, tenant), on="order_id", how="left")
    assert merged["caused_by_campaign_id"].notna().all(), "every order has a truth row"
    return merged


def _campaigns(pipeline: BuiltPipeline, tenant: str) -> pd.DataFrame:
    campaigns = _export(pipeline, tenant, "campaigns")
    campaigns["start_date"] = pd.to_datetime(campaigns["start_date"])
    campaigns["end_date"] = pd.to_datetime(campaigns["end_date"])
    return campaigns.set_index("campaign_id")


def _pairs(frame: pd.DataFrame, *columns: str) -> set[tuple[str, ...]]:
    return {tuple(str(v) for v in row) for row in frame[list(columns)].itertuples(index=False)}


@pytest.mark.parametrize("tenant", TENANTS)
def test_promo_code_redemptions_match_the_export_and_truth(
    pipeline: BuiltPipeline, tenant: str
) -> None:
    orders = _orders_with_truth(pipeline, tenant)
    placements = _export(pipeline, tenant, "placements")
    campaigns = _campaigns(pipeline, tenant)
    codes = {
        (_code(code), campaign)
        for code, campaign in zip(placements["promo_code"], placements["campaign_id"], strict=True)
        if isinstance(code, str) and _code(code)
    }
    # Recomputed here from the export: codes split on commas, normalised, from the start on.
    expected: set[tuple[str, str]] = set()
    caused_with_own_code: set[tuple[str, str]] = set()
    for order in orders.itertuples(index=False):
        if not isinstance(order.discount_codes, str):
            continue
        used = {_code(c) for c in order.discount_codes.split(",")}
        for code, campaign in codes:
            if code in used and order.ts >= campaigns.loc[campaign, "start_date"]:
                expected.add((order.order_id, campaign))
                if order.caused_by_campaign_id == campaign:
                    caused_with_own_code.add((order.order_id, campaign))
    found = sql(
        pipeline,
        "select order_id, campaign_id from intermediate.int_promo_code_redemptions"
        f" where tenant_id = '{tenant}'",
    )
    assert _pairs(found, "order_id", "campaign_id") == expected
    # The simulator gave its code to about 30% of caused orders: those are all found.
    assert caused_with_own_code, "the world has caused orders that used the ad's code"
    assert caused_with_own_code <= _pairs(found, "order_id", "campaign_id")


@pytest.mark.parametrize("tenant", TENANTS)
def test_landing_urls_find_the_caused_orders_of_their_campaign(
    pipeline: BuiltPipeline, tenant: str
) -> None:
    orders = _orders_with_truth(pipeline, tenant)
    visits = sql(
        pipeline,
        "select source_record_id, campaign_id, visit_kind from intermediate.int_site_visits"
        f" where tenant_id = '{tenant}' and visit_source = 'order_landing'",
    )
    assert len(visits) > 0
    # Only orders that came through the ad land on a vanity URL or a podcast UTM link: every
    # match is an order the truth says its campaign caused.
    truth = dict(zip(orders["order_id"], orders["caused_by_campaign_id"], strict=True))
    pairs = zip(visits["source_record_id"], visits["campaign_id"], strict=True)
    wrong = [(order, campaign) for order, campaign in pairs if truth[order] != campaign]
    assert wrong == []
    # And every caused order that landed through the podcast UTM link is found as utm.
    utm_orders = orders[
        orders["landing_url"].fillna("").str.contains("utm_source=podcast", regex=False)
        & (orders["caused_by_campaign_id"] != "")
    ]
    assert len(utm_orders) > 0
    found = _pairs(visits[visits["visit_kind"] == "utm"], "source_record_id", "campaign_id")
    assert _pairs(utm_orders, "order_id", "caused_by_campaign_id") <= found


@pytest.mark.parametrize("tenant", TENANTS)
def test_survey_answers_naming_the_show_evidence_its_campaign(
    pipeline: BuiltPipeline, tenant: str
) -> None:
    orders = _orders_with_truth(pipeline, tenant)
    campaigns = _campaigns(pipeline, tenant)
    episodes = _export(pipeline, tenant, "episodes")
    placements = _export(pipeline, tenant, "placements")
    shows_of = (
        placements.merge(episodes, on="episode_id").groupby("campaign_id")["show_name"].apply(set)
    )
    expected = set()
    for order in orders.itertuples(index=False):
        campaign = order.caused_by_campaign_id
        if not campaign or order.survey_answer not in shows_of.get(campaign, set()):
            continue
        window_end = campaigns.loc[campaign, "end_date"] + timedelta(days=1) + LOOKBACK
        if order.ts <= window_end:
            expected.add((order.order_id, campaign))
    assert expected, "caused buyers name the show in the survey"
    found = sql(
        pipeline,
        "select order_id, campaign_id, mention_type, similarity"
        f" from intermediate.int_survey_mentions where tenant_id = '{tenant}'"
        # a lead's or deal's mention has no order (tests/e2e/test_store_and_crm.py)
        " and conversion_type = 'order'",
    )
    assert expected <= _pairs(found, "order_id", "campaign_id")
    # Answers such as "podcast" or "google" name nothing: every mention is of a show the
    # answer names (the simulator writes show names without typos).
    named = set(orders.loc[orders["survey_answer"].isin(episodes["show_name"]), "order_id"])
    assert set(found["order_id"]) <= named


def test_every_conversion_counts_once_in_combined(pipeline: BuiltPipeline) -> None:
    evidence = sql(
        pipeline,
        "select tenant_id, conversion_id, campaign_id, signal, is_observed, revenue, is_primary,"
        " signal_priority from intermediate.int_signal_conversions",
    )
    assert set(evidence["signal"]) == {
        "promo_code",
        "vanity_url",
        "utm",
        "survey",
        "podcast_impression",
    }
    primaries = evidence[evidence["is_primary"].astype(bool)]
    per_conversion = evidence.groupby(["tenant_id", "conversion_id"])["is_primary"].sum()
    # Every signal is in the default priority, so every evidenced conversion has one primary row.
    assert (per_conversion == 1).all()
    # The primary row has the best (lowest) rank of its conversion.
    best = evidence.groupby(["tenant_id", "conversion_id"])["signal_priority"].min()
    ranks = primaries.set_index(["tenant_id", "conversion_id"])["signal_priority"]
    assert (ranks.sort_index() == best.sort_index()).all()

    report = sql(
        pipeline,
        "select tenant_id, campaign_id, signal, conversions, revenue, modelled_conversions,"
        " modelled_revenue from marts.rpt_signal_performance",
    )
    report["all_conversions"] = report["conversions"] + report["modelled_conversions"]
    combined = report[report["signal"] == "combined"]
    # Combined rows add up to the distinct evidenced conversions of each tenant: none twice.
    totals = combined.groupby("tenant_id")["all_conversions"].sum()
    distinct = evidence.groupby("tenant_id")["conversion_id"].nunique()
    assert totals.sort_index().tolist() == distinct.sort_index().tolist()
    # A campaign's combined count never exceeds its per-signal totals.
    per_signal = report[report["signal"] != "combined"]
    signal_sums = per_signal.groupby(["tenant_id", "campaign_id"])["all_conversions"].sum()
    joined = combined.set_index(["tenant_id", "campaign_id"])["all_conversions"]
    assert (joined <= signal_sums.loc[joined.index]).all()
    assert (combined["conversions"] > 0).any()


def test_signal_rows_match_their_evidence(pipeline: BuiltPipeline) -> None:
    evidence = sql(
        pipeline,
        "select tenant_id, campaign_id, signal, is_observed, revenue"
        " from intermediate.int_signal_conversions",
    )
    evidence["is_observed"] = evidence["is_observed"].astype(bool)
    report = sql(
        pipeline,
        "select tenant_id, campaign_id, signal, conversions, revenue, modelled_conversions,"
        " modelled_revenue from marts.rpt_signal_performance where signal <> 'combined'",
    ).set_index(["tenant_id", "campaign_id", "signal"])
    for observed, count_col, revenue_col in (
        (True, "conversions", "revenue"),
        (False, "modelled_conversions", "modelled_revenue"),
    ):
        part = evidence[evidence["is_observed"] == observed]
        counts = part.groupby(["tenant_id", "campaign_id", "signal"]).size()
        revenue = part.groupby(["tenant_id", "campaign_id", "signal"])["revenue"].sum()
        assert (report.loc[counts.index, count_col] == counts).all()
        assert (report.loc[revenue.index, revenue_col] - revenue).abs().max() < 1e-6
        rest = report.index.difference(counts.index)
        assert (report.loc[rest, count_col] == 0).all()

    # The impression signal is the campaigns on the conversion's path, nothing else.
    paths = sql(
        pipeline,
        "select distinct tenant_id, conversion_id, campaign_id"
        " from intermediate.int_conversion_paths",
    )
    impressions = sql(
        pipeline,
        "select tenant_id, conversion_id, campaign_id from intermediate.int_signal_conversions"
        " where signal = 'podcast_impression'",
    )
    assert len(paths) > 0
    columns = ("tenant_id", "conversion_id", "campaign_id")
    assert _pairs(impressions, *columns) == _pairs(paths, *columns)


def test_promo_code_leakage_reconciles_with_redemptions_and_reach(
    pipeline: BuiltPipeline,
) -> None:
    leakage = sql(pipeline, "select * from marts.rpt_promo_code_leakage")
    redemptions = sql(
        pipeline,
        "select r.tenant_id, r.campaign_id, r.promo_code, r.order_id,"
        " case when exists ("
        "   select 1 from intermediate.int_ad_impressions i"
        "   where i.tenant_id = r.tenant_id and i.campaign_id = r.campaign_id"
        "   and i.household_id = r.household_id and i.impressed_at <= r.redeemed_at"
        " ) then 1 else 0 end as exposed"
        " from intermediate.int_promo_code_redemptions r",
    )
    reach = sql(
        pipeline,
        "select tenant_id, campaign_id, count(distinct household_id) as reach"
        " from intermediate.int_ad_impressions where household_id is not null"
        " group by tenant_id, campaign_id",
    ).set_index(["tenant_id", "campaign_id"])["reach"]
    assert len(redemptions) > 0
    grouped = redemptions.groupby(["tenant_id", "campaign_id", "promo_code"])
    used = grouped.size()
    exposed = grouped["exposed"].sum()
    for row in leakage.itertuples(index=False):
        key = (row.tenant_id, row.campaign_id, row.promo_code)
        n = int(used.get(key, 0))
        unexposed = n - int(exposed.get(key, 0))
        assert row.redemptions == n, key
        assert row.unexposed_redemptions == unexposed, key
        assert row.reached_households == int(reach.get(key[:2], 0)), key
        leaked = n >= row.leakage_min_redemptions and unexposed > (
            row.leakage_max_unexposed_share * n
        )
        assert bool(row.is_leaked) == leaked, key
    # Every redemption belongs to a code row of the report.
    assert set(used.index) <= set(
        zip(leakage["tenant_id"], leakage["campaign_id"], leakage["promo_code"], strict=True)
    )


@pytest.mark.parametrize(
    ("priority", "message"),
    [
        ("promo_code,coupon", "unknown signal 'coupon'"),
        (" , ", "names no signal"),
    ],
)
def test_a_bad_signal_priority_stops_the_build(priority: str, message: str, tmp_path: Path) -> None:
    """The tenant setting arrives as a dbt var; a name dbt does not know must not silently
    de-duplicate conversions by a different rule."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    dbt_dir = ROOT / "dbt_project"
    env = {
        **os.environ,
        "DBT_TARGET": "duckdb",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "EARSHOT_DUCKDB_PATH": str(tmp_path / "compile.duckdb"),
    }
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *("compile", "--select", "int_signal_conversions"),
            *("--vars", json.dumps({"signal_priority": priority})),
            *("--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir)),
        ],
        cwd=dbt_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "var 'signal_priority'" in proc.stdout and message in proc.stdout, proc.stdout[-2000:]
