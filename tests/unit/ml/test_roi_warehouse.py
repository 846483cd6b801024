"""ROI end to end on a small synthetic DuckDB warehouse: train and score through the runner.

The world: three shows, campaigns of 28-day flights starting every 10 days, each buying a pre,
a mid and a post-roll on every show. A placement's ROAS depends on its position and read type
(post-rolls are cheap, host reads dear) with noise, and not on its show, so the show's mean
ROAS (the baseline) cannot see what the model sees. A second tenant has too few placements.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from models_ml.roi import FAMILY
from models_ml.roi.allocation import BINDING_FREQUENCY_CAP, BINDING_MAX, BINDING_MIN, BINDING_NONE
from models_ml.runner import score_family, train_family
from warehouse.connection import DuckDBWarehouse
from warehouse.landing_storage import LocalFolderStorage

TENANT, SMALL = "t_roi", "t_small"
FIRST_DAY = date(2026, 1, 5)
LAST_DAY = date(2026, 5, 31)
SHOWS = {"s1": 300.0, "s2": 800.0, "s3": 2000.0}  # weekly listeners
POSITION_ROAS = {"pre": 30.0, "mid": 18.0, "post": 60.0}
HOST_FACTOR = {"host": 0.6, "produced": 1.0}
CPM = {"pre": 22.0, "mid": 25.0, "post": 15.0}

TABLES = {
    "staging.stg_files__placements": (
        "tenant_id varchar, placement_id varchar, campaign_id varchar, episode_id varchar,"
        " position varchar, read_type varchar, insertion_type varchar, ad_start_s double,"
        " ad_end_s double, cost double"
    ),
    "staging.stg_files__episodes": (
        "tenant_id varchar, episode_id varchar, show_id varchar, published_at timestamp,"
        " duration_s double"
    ),
    "marts.dim_campaigns": "tenant_id varchar, campaign_id varchar, start_date date, end_date date",
    "marts.fct_impressions": (
        "tenant_id varchar, placement_id varchar, show_id varchar, impression_date date,"
        " count_window varchar, impressions bigint, household_ip_impressions bigint"
    ),
    "marts.fct_attribution_credits": (
        "tenant_id varchar, conversion_id varchar, model varchar, placement_id varchar,"
        " conversion_ts timestamp, credit double, credited_revenue double, is_observed boolean"
    ),
    "marts.rpt_reach_frequency": (
        "tenant_id varchar, scope varchar, campaign_id varchar, show_id varchar,"
        " impressions bigint, reach bigint"
    ),
    "marts.rpt_incrementality": (
        "tenant_id varchar, campaign_id varchar, is_observed boolean,"
        " matched_exposed_households bigint, exposed_conversion_rate double,"
        " control_conversion_rate double, result_status varchar"
    ),
    "intermediate.int_listeners": (
        "tenant_id varchar, show_id varchar, period varchar, period_start date, listeners bigint,"
        " downloads bigint, count_window varchar"
    ),
    "intermediate.int_conversions": (
        "tenant_id varchar, conversion_id varchar, conversion_ts timestamp"
    ),
}


def _world(tenant: str, campaigns: int, seed: int) -> dict[str, list[tuple]]:
    rng = np.random.default_rng(seed)
    rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
    for show, weekly in SHOWS.items():
        week = FIRST_DAY
        while week <= LAST_DAY:
            rows["intermediate.int_listeners"].append(
                (tenant, show, "week", week, int(weekly), int(weekly * 1.1), "calendar_day")
            )
            week += timedelta(days=7)
        for month in range(1, 6):
            rows["intermediate.int_listeners"].append(
                (tenant, show, "month", date(2026, month, 1), int(weekly * 2.5), 0, "calendar_day")
            )
    conversion = 0
    for c in range(campaigns):
        campaign = f"{tenant}_c{c:02d}"
        start = FIRST_DAY + timedelta(days=10 * c)
        end = start + timedelta(days=27)
        rows["marts.dim_campaigns"].append((tenant, campaign, start, end))
        exposed = 1000
        rows["marts.rpt_incrementality"].append(
            (tenant, campaign, True, exposed, 0.05, 0.03, "insufficient_sample")
        )
        for show, weekly in SHOWS.items():
            show_impressions = 0
            for p, position in enumerate(("pre", "mid", "post")):
                read = "host" if (c + p) % 2 == 0 else "produced"
                placement = f"{campaign}_{show}_{position}"
                episode = f"{tenant}_{show}_e{c:02d}"
                published = start - timedelta(days=int(rng.integers(0, 5)))
                if p == 0:
                    rows["staging.stg_files__episodes"].append(
                        (
                            tenant,
                            episode,
                            show,
                            datetime.combine(published, datetime.min.time()),
                            1800.0,
                        )
                    )
                impressions = int(weekly * 0.5 * rng.uniform(0.8, 1.2))
                cpm = CPM[position] * (1.25 if read == "host" else 1.0)
                cost = round(cpm * impressions / 1000.0, 2)
                start_s = {"pre": 5.0, "mid": 800.0, "post": 1700.0}[position]
                rows["staging.stg_files__placements"].append(
                    (
                        tenant,
                        placement,
                        campaign,
                        episode,
                        position,
                        read,
                        "dynamic" if p != 1 else "baked_in",
                        start_s,
                        start_s + 40.0,
                        cost,
                    )
                )
                for day in range(14):
                    rows["marts.fct_impressions"].append(
                        (
                            tenant,
                            placement,
                            show,
                            start + timedelta(days=day),
                            "calendar_day",
                            impressions // 14,
                            int(impressions // 14 * 0.75),
                        )
                    )
                show_impressions += impressions // 14 * 14
                roas = POSITION_ROAS[position] * HOST_FACTOR[read] * rng.lognormal(0.0, 0.15)
                revenue = roas * cost
                for k in range(5):  # five conversions over the first three weeks
                    conversion += 1
                    rows["marts.fct_attribution_credits"].append(
                        (
                            tenant,
                            f"{tenant}_o{conversion}",
                            "linear",
                            placement,
                            datetime.combine(
                                start + timedelta(days=2 + 4 * k), datetime.min.time()
                            ),
                            1.0,
                            revenue / 5.0,
                            True,
                        )
                    )
            rows["marts.rpt_reach_frequency"].append(
                (
                    tenant,
                    "campaign_show",
                    campaign,
                    show,
                    show_impressions,
                    int(show_impressions / 1.4),
                )
            )
    rows["intermediate.int_conversions"].append(
        (tenant, f"{tenant}_last", datetime.combine(LAST_DAY, datetime.min.time()))
    )
    return rows


def build_warehouse(path: Path) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(path)
    for schema in ("staging", "marts", "intermediate"):
        wh.execute(f"create schema if not exists {schema}")
    for name, columns in TABLES.items():
        wh.execute(f"create table {name} ({columns})")
    for tenant, campaigns, seed in ((TENANT, 12, 1), (SMALL, 2, 2)):
        for name, rows in _world(tenant, campaigns, seed).items():
            if rows:
                columns = [c.split()[0] for c in TABLES[name].split(",")]
                data = pa.Table.from_pylist([dict(zip(columns, r, strict=True)) for r in rows])
                wh.copy_arrow(*name.split("."), data)
    return wh


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("roi")
    wh = build_warehouse(root / "warehouse.duckdb")
    store = LocalFolderStorage(root / "models")
    outcome = train_family(wh, store, FAMILY, TENANT)
    version, written = score_family(wh, store, FAMILY, TENANT)
    yield wh, store, outcome, version, written
    wh.close()


def _rows(wh: DuckDBWarehouse, table: str, tenant: str = TENANT) -> list[dict]:
    names, rows = wh.fetch_columns(
        f'select * from ml."{table}" where tenant_id = ? order by 2', [tenant]
    )
    return [dict(zip(names, r, strict=True)) for r in rows]


def test_the_model_beats_the_show_mean_on_later_placements(scored) -> None:
    _, _, outcome, version, _ = scored
    assert outcome.promoted, outcome.describe()
    assert version.metric == "roas_mae" and not version.higher_is_better
    # Position and read type move ROAS by a factor of up to five; the show mean ignores both.
    assert version.metrics["roas_mae"] < 0.7 * version.baseline_metrics["roas_mae"]
    assert version.metrics["roas_spearman"] > 0.5
    assert version.holdout_rows >= 12 and version.training_rows > version.holdout_rows
    assert version.details["horizon_days"] == 28
    # The holdout is the latest placements: the cutoff is after the first two campaigns.
    assert version.details["holdout_cutoff"] > str(FIRST_DAY + timedelta(days=20))


def test_every_priced_placement_is_predicted_and_actuals_only_when_known(scored) -> None:
    wh, _, _, version, written = scored
    rows = _rows(wh, "roi_predictions")
    assert written["roi_predictions"] == len(rows) == 12 * 3 * 3
    assert {r["model_version"] for r in rows} == {version.model_version}
    assert list(rows[0]) == [
        "tenant_id", "placement_id", "campaign_id", "show_id", "position", "read_type",
        "start_date", "cost", "predicted_roas", "predicted_cac", "actual_roas", "actual_cac",
        "model_version",
    ]  # fmt: skip
    for r in rows:
        assert r["predicted_roas"] >= 0 and r["predicted_cac"] > 0
        mature = r["start_date"] + timedelta(days=28) <= LAST_DAY + timedelta(days=1)
        assert (r["actual_roas"] is not None) == mature
        if mature:
            # Five conversions each: CAC = cost / 5, and ROAS = revenue / cost.
            assert r["actual_cac"] == pytest.approx(r["cost"] / 5)
    # Post-rolls are predicted well above mid-rolls, as they returned.
    by_position = {
        p: np.mean([r["predicted_roas"] for r in rows if r["position"] == p])
        for p in ("mid", "post")
    }
    assert by_position["post"] > 1.5 * by_position["mid"]


def test_the_budget_is_spread_within_the_limits(scored) -> None:
    wh, _, _, version, written = scored
    rows = _rows(wh, "budget_allocation")
    assert written["budget_allocation"] == len(rows) == 3
    assert {r["show_id"] for r in rows} == set(SHOWS)
    budget = rows[0]["budget_total"]
    # Default budget: placements started in the 30 days up to the latest start (campaigns 9-11,
    # started on days 90, 100 and 110; day 80 is 30 days before the last one and is left out).
    costs = wh.fetch(
        "select sum(cost) from staging.stg_files__placements where tenant_id = ?"
        " and campaign_id in (?, ?, ?)",
        [TENANT, f"{TENANT}_c09", f"{TENANT}_c10", f"{TENANT}_c11"],
    )[0][0]
    assert budget == pytest.approx(costs)
    assert sum(r["allocated_spend"] for r in rows) == pytest.approx(budget)
    for r in rows:
        assert r["min_spend"] - 1e-9 <= r["allocated_spend"] <= r["max_spend"] + 1e-9
        assert r["binding_constraint"] in {
            BINDING_MIN,
            BINDING_MAX,
            BINDING_FREQUENCY_CAP,
            BINDING_NONE,
        }
        assert r["predicted_incremental_revenue"] > 0
        assert r["predicted_roas"] == pytest.approx(
            r["predicted_incremental_revenue"] / r["allocated_spend"]
        )
        # Every campaign: 1 - 0.03 / 0.05 of the conversions were caused.
        assert r["incremental_share"] == pytest.approx(0.4)
        assert r["model_version"] == version.model_version


def test_scoring_again_replaces_the_rows_and_other_tenants_are_short_of_data(scored) -> None:
    wh, store, _, _, _ = scored
    before = _rows(wh, "roi_predictions")
    score_family(wh, store, FAMILY, TENANT)
    assert _rows(wh, "roi_predictions") == before
    small = train_family(wh, store, FAMILY, SMALL)
    assert small.version is None
    assert "18 mature placements with a cost" in small.describe()
    assert _rows(wh, "roi_predictions", SMALL) == []


def test_the_scored_tables_are_arrow_tables_of_the_declared_names(scored) -> None:
    wh, store, _, version, _ = scored
    from models_ml.registry import ModelRegistry

    model = ModelRegistry(wh, store).load(version)
    tables = FAMILY.score(wh, TENANT, model, version.model_version)
    assert set(tables) == set(FAMILY.tables)
    assert all(isinstance(t, pa.Table) for t in tables.values())
