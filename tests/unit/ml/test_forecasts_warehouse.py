"""The forecasts family through the runner on a small synthetic warehouse: training against the
run-rate baseline, scoring into the ml tables, the fallback cut-off, thin data, and the same reads
on PostgreSQL.

The synthetic tenant has the mart, intermediate and staging tables the family reads, with their
real column names, filled with rows that carry the signal. Shows release weekly at a fixed hour;
an episode's daily downloads follow a launch spike and a month-long tail; campaigns place ads in
their shows' recent and coming episodes, deliver to a share of those downloads, and convert a
share of their impressions after a lag (one credited touch per conversion, linear model,
observed). Everything is drawn from one seeded generator.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from connectors.simulator.listening import LISTEN_HOURS
from models_ml.forecasts import FAMILY
from models_ml.forecasts.data import load_tenant_data
from models_ml.runner import score_family, train_family
from tests.support import postgres_server
from warehouse.connection import DuckDBWarehouse, PostgresWarehouse, Warehouse
from warehouse.landing_storage import LocalFolderStorage

START = date(2026, 1, 5)  # a Monday
DAYS = 98
END = START + timedelta(days=DAYS - 1)
# (show, first-30-day downloads of an episode, release hour UTC, release weekday)
SHOWS = (("show_a", 320.0, 5, 0), ("show_b", 220.0, 14, 2), ("show_c", 420.0, 9, 4))
# (campaign, first flight day, last flight day, shows, conversions per impression)
CAMPAIGNS = (
    ("cmp_1", 3, 31, ("show_a", "show_b"), 0.030),
    ("cmp_2", 12, 47, ("show_b", "show_c"), 0.020),
    ("cmp_3", 33, 61, ("show_a", "show_c"), 0.025),
    ("cmp_4", 45, 76, ("show_a", "show_b"), 0.035),
    ("cmp_5", 58, 88, ("show_b", "show_c"), 0.020),
    ("cmp_6", 80, 110, ("show_a", "show_c"), 0.030),  # still in flight on the last day
)
DELIVERY = {"pre": 0.95, "mid": 0.88, "post": 0.8}
POSITIONS = ("pre", "mid", "post")
WEEKDAY = np.array([1.05, 1.05, 1.04, 1.04, 1.02, 0.9, 0.9])
# Listening by hour of day as the simulator has it (only the ratios matter here).
HOUR_WEIGHTS = LISTEN_HOURS
LAG_WEIGHTS = 0.5 ** (np.arange(30) / 4)

TABLES = {
    "marts.dim_campaigns": [
        ("tenant_id", "varchar"), ("campaign_id", "varchar"), ("advertiser", "varchar"),
        ("campaign_name", "varchar"), ("start_date", "date"), ("end_date", "date"),
        ("flight_days", "bigint"), ("budget", "double precision"), ("currency", "varchar"),
        ("placements", "bigint"), ("episodes", "bigint"), ("shows", "bigint"),
        ("spend", "double precision"),
    ],
    "marts.fct_impressions": [
        ("tenant_id", "varchar"), ("campaign_id", "varchar"), ("placement_id", "varchar"),
        ("show_id", "varchar"), ("episode_id", "varchar"), ("impression_date", "date"),
        ("count_window", "varchar"), ("position", "varchar"), ("read_type", "varchar"),
        ("insertion_type", "varchar"), ("impressions", "bigint"),
        ("households_reached", "bigint"), ("household_ip_impressions", "bigint"),
        ("other_ip_impressions", "bigint"),
    ],
    "marts.fct_episode_downloads_daily": [
        ("tenant_id", "varchar"), ("show_id", "varchar"), ("episode_id", "varchar"),
        ("download_date", "date"), ("count_window", "varchar"), ("downloads", "bigint"),
        ("listeners", "bigint"), ("excluded_requests", "bigint"),
    ],
    "marts.fct_attribution_credits": [
        ("tenant_id", "varchar"), ("conversion_id", "varchar"), ("touchpoint_id", "varchar"),
        ("model", "varchar"), ("credit", "double precision"),
        ("credited_revenue", "double precision"), ("revenue", "double precision"),
        ("campaign_id", "varchar"), ("touch_ts", "timestamp"), ("conversion_ts", "timestamp"),
        ("is_observed", "boolean"), ("lookback_days", "double precision"),
    ],
    "intermediate.int_downloads": [
        ("tenant_id", "varchar"), ("episode_id", "varchar"), ("show_id", "varchar"),
        ("user_agent", "varchar"), ("download_date", "date"), ("downloaded_at", "timestamp"),
        ("count_window", "varchar"),
    ],
    "staging.stg_files__episodes": [
        ("tenant_id", "varchar"), ("episode_id", "varchar"), ("show_id", "varchar"),
        ("show_name", "varchar"), ("episode_title", "varchar"), ("published_at", "timestamp"),
        ("duration_s", "double precision"), ("file_bytes", "bigint"),
        ("bitrate_kbps", "double precision"), ("id3_bytes", "bigint"),
    ],
    "staging.stg_files__placements": [
        ("tenant_id", "varchar"), ("placement_id", "varchar"), ("campaign_id", "varchar"),
        ("episode_id", "varchar"), ("position", "varchar"), ("read_type", "varchar"),
        ("insertion_type", "varchar"), ("ad_start_s", "double precision"),
        ("ad_end_s", "double precision"), ("cost", "double precision"),
        ("promo_code", "varchar"), ("vanity_url", "varchar"),
    ],
}  # fmt: skip

_ARROW = {
    "varchar": pa.string(),
    "date": pa.date32(),
    "bigint": pa.int64(),
    "double precision": pa.float64(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
}


def pull(age: np.ndarray) -> np.ndarray:
    """Relative daily downloads of an episode by age in days (sums to about 6.7 over 30 days)."""
    return 0.75 * np.exp(-age / 3.0) + 0.22 * np.exp(-age / 30.0) + 0.01


def create_tables(wh: Warehouse) -> None:
    for name, columns in TABLES.items():
        schema, _ = name.split(".")
        wh.execute(f"create schema if not exists {schema}")
        ddl = ", ".join(f"{c} {t}" for c, t in columns)
        wh.execute(f"create table if not exists {name} ({ddl})")


def _insert(wh: Warehouse, name: str, rows: list[dict]) -> None:
    columns = TABLES[name]
    schema = pa.schema([(c, _ARROW[t]) for c, t in columns])
    table = pa.Table.from_pylist(rows, schema=schema)
    wh.copy_arrow(*name.split("."), table)


def build_tenant(
    wh: Warehouse, tenant_id: str, seed: int = 7, campaigns: tuple = CAMPAIGNS
) -> None:
    """Write one tenant's world into the tables (created if missing)."""
    create_tables(wh)
    rng = np.random.default_rng(seed)
    episodes, published = [], {}
    for show, _, hour, weekday in SHOWS:
        first = START - timedelta(days=35) + timedelta(days=(weekday - START.weekday()) % 7)
        k = 0
        while (day := first + timedelta(days=7 * k)) <= END:
            episode = f"{show}_e{k:02d}"
            ts = datetime.combine(day, time(hour, int(rng.integers(0, 50))))
            published[episode] = (show, ts)
            episodes.append(
                {
                    "tenant_id": tenant_id,
                    "episode_id": episode,
                    "show_id": show,
                    "show_name": show,
                    "episode_title": episode,
                    "published_at": ts,
                    "duration_s": 1800.0,
                    "file_bytes": 28_800_000,
                    "bitrate_kbps": 128.0,
                    "id3_bytes": 0,
                }  # fmt: skip
            )
            k += 1
    level = {show: lvl for show, lvl, _, _ in SHOWS}

    # Downloads: daily counts, and one timestamped row each for the first days after release.
    daily, rows = {}, []
    for episode, (show, ts) in published.items():
        for offset in range(DAYS):
            day = START + timedelta(days=offset)
            age = (day - ts.date()).days
            if age < 0:
                continue
            available = 1.0 if age > 0 else (24 - ts.hour - ts.minute / 60) / 24
            mean = level[show] / 6.7 * pull(np.array(age, float)) * WEEKDAY[day.weekday()]
            n = int(rng.poisson(mean * available))
            if n == 0:
                continue
            daily[(episode, day)] = n
            if age <= 8:
                first_hour = ts.hour if age == 0 else 0
                weights = HOUR_WEIGHTS[first_hour:] / HOUR_WEIGHTS[first_hour:].sum()
                hours = first_hour + rng.choice(len(weights), size=n, p=weights)
                for h in hours:
                    at = datetime.combine(day, time(int(h), int(rng.integers(0, 60))))
                    rows.append(
                        {"tenant_id": tenant_id, "episode_id": episode, "show_id": show,
                         "user_agent": "App/1.0", "download_date": day,
                         "downloaded_at": max(at, ts), "count_window": "calendar_day"}
                    )  # fmt: skip
    _insert(wh, "intermediate.int_downloads", rows)
    _insert(
        wh,
        "marts.fct_episode_downloads_daily",
        [
            {"tenant_id": tenant_id, "show_id": published[e][0], "episode_id": e,
             "download_date": d, "count_window": "calendar_day", "downloads": n,
             "listeners": n, "excluded_requests": 0}
            for (e, d), n in sorted(daily.items())
        ],
    )  # fmt: skip
    _insert(wh, "staging.stg_files__episodes", episodes)

    placements, impressions, credits, dims = [], [], [], []
    for campaign, first, last, shows, rate in campaigns:
        start, end = START + timedelta(days=first), START + timedelta(days=last)
        mine = [
            e for e, (s, ts) in sorted(published.items())
            if s in shows and start - timedelta(days=21) <= ts.date() <= end
        ]  # fmt: skip
        by_day = np.zeros(DAYS)
        for i, episode in enumerate(mine):
            placement = f"{campaign}_p{i:02d}"
            position = POSITIONS[i % 3]
            placements.append(
                {"tenant_id": tenant_id, "placement_id": placement, "campaign_id": campaign,
                 "episode_id": episode, "position": position, "read_type": "host",
                 "insertion_type": "dynamic", "ad_start_s": 0.0, "ad_end_s": 60.0,
                 "cost": 25.0, "promo_code": None, "vanity_url": None}
            )  # fmt: skip
            for offset in range(max(first, 0), min(last, DAYS - 1) + 1):
                day = START + timedelta(days=offset)
                delivered = int(rng.binomial(daily.get((episode, day), 0), DELIVERY[position]))
                if delivered == 0:
                    continue
                by_day[offset] += delivered
                impressions.append(
                    {"tenant_id": tenant_id, "campaign_id": campaign, "placement_id": placement,
                     "show_id": published[episode][0], "episode_id": episode,
                     "impression_date": day, "count_window": "calendar_day",
                     "position": position, "read_type": "host", "insertion_type": "dynamic",
                     "impressions": delivered, "households_reached": delivered,
                     "household_ip_impressions": delivered, "other_ip_impressions": 0}
                )  # fmt: skip
        # Conversions caused by each day's impressions, after a lag.
        for offset in np.flatnonzero(by_day):
            for j in range(int(rng.poisson(rate * by_day[offset]))):
                lag = int(rng.choice(30, p=LAG_WEIGHTS / LAG_WEIGHTS.sum()))
                if offset + lag >= DAYS:
                    continue
                touch = datetime.combine(START + timedelta(days=int(offset)), time(12))
                revenue = float(np.round(rng.uniform(40, 120), 2))
                credits.append(
                    {"tenant_id": tenant_id, "conversion_id": f"{campaign}_{offset}_{j}",
                     "touchpoint_id": f"{campaign}_{offset}_{j}_t", "model": "linear",
                     "credit": 1.0, "credited_revenue": revenue, "revenue": revenue,
                     "campaign_id": campaign, "touch_ts": touch,
                     "conversion_ts": touch + timedelta(days=lag, hours=3),
                     "is_observed": True, "lookback_days": 30.0}
                )  # fmt: skip
        dims.append(
            {"tenant_id": tenant_id, "campaign_id": campaign, "advertiser": "Brand",
             "campaign_name": campaign, "start_date": start, "end_date": end,
             "flight_days": (end - start).days + 1, "budget": 1000.0, "currency": "USD",
             "placements": len(mine), "episodes": len(mine), "shows": len(shows),
             "spend": 25.0 * len(mine)}
        )  # fmt: skip
    _insert(wh, "staging.stg_files__placements", placements)
    _insert(wh, "marts.fct_impressions", impressions)
    _insert(wh, "marts.fct_attribution_credits", credits)
    _insert(wh, "marts.dim_campaigns", dims)


MAIN, DONE, SMALL, RARE = "t_main", "t_done", "t_small", "t_rare"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[DuckDBWarehouse, Path]:
    root = tmp_path_factory.mktemp("forecasts")
    wh = DuckDBWarehouse(root / "w.duckdb")
    build_tenant(wh, MAIN, seed=7)
    # Every flight over by the data's last day: forecasts come from the latest cut-off.
    build_tenant(wh, DONE, seed=11, campaigns=CAMPAIGNS[:5])
    build_tenant(wh, SMALL, seed=13, campaigns=CAMPAIGNS[5:])
    # The same flights converting a tenth as often: a handful of conversions per forecast.
    rare = tuple((c, a, b, shows, rate / 10) for c, a, b, shows, rate in CAMPAIGNS)
    build_tenant(wh, RARE, seed=17, campaigns=rare)
    return wh, root


def _rows(wh: Warehouse, sql: str, params: list) -> list[dict]:
    names, rows = wh.fetch_columns(sql, params)
    return [dict(zip(names, r, strict=True)) for r in rows]


def test_trains_beats_the_run_rate_and_scores_the_flight_in_progress(warehouse) -> None:
    wh, root = warehouse
    store = LocalFolderStorage(root / "models")
    outcome = train_family(wh, store, FAMILY, MAIN)
    version = outcome.version
    assert version is not None and outcome.promoted, outcome.describe()
    assert version.metric == "wape" and version.baseline_name == "run_rate"
    assert version.metrics["wape"] < version.baseline_metrics["wape"]
    # Impressions follow the placements' episodes: far closer than the run-rate.
    assert version.metrics["wape_impressions"] < 0.5 * version.baseline_metrics["wape_impressions"]
    assert version.holdout_rows >= 5
    assert version.data_end == END

    _, written = score_family(wh, store, FAMILY, MAIN)
    # cmp_6 (days 80 to 110) is the one flight in progress on the last day (day 97).
    remaining = (START + timedelta(days=110) - END).days
    assert written == {
        "campaign_forecasts": 3 * remaining,
        "campaign_forecast_totals": 3,
        "publish_times": 3,
    }
    totals = {
        r["metric"]: r
        for r in _rows(wh, "select * from ml.campaign_forecast_totals where tenant_id = ?", [MAIN])
    }
    (delivered,) = wh.fetch(
        "select sum(impressions) from marts.fct_impressions"
        " where tenant_id = ? and campaign_id = 'cmp_6'",
        [MAIN],
    )[0]
    imp = totals["impressions"]
    assert imp["campaign_id"] == "cmp_6" and imp["as_of"] == END
    assert imp["to_date"] == delivered
    assert imp["days_remaining"] == remaining and imp["days_elapsed"] == 18
    assert imp["forecast_total"] == pytest.approx(imp["to_date"] + imp["forecast_remaining"])
    assert imp["actual_remaining"] is None  # the future
    for row in totals.values():
        assert 0 <= row["lower_80_remaining"] <= row["upper_80_remaining"]
        assert row["model_version"] == version.model_version
    daily = _rows(
        wh,
        "select metric, day, forecast, lower_80, upper_80, actual from ml.campaign_forecasts"
        " where tenant_id = ? order by metric, day",
        [MAIN],
    )
    assert {r["day"] for r in daily} == {END + timedelta(days=i) for i in range(1, remaining + 1)}
    assert all(r["actual"] is None and r["lower_80"] <= r["upper_80"] for r in daily)
    by_metric = {m: sum(r["forecast"] for r in daily if r["metric"] == m) for m in totals}
    for metric, total in by_metric.items():
        assert total == pytest.approx(totals[metric]["forecast_remaining"])

    shows = _rows(wh, "select * from ml.publish_times where tenant_id = ?", [MAIN])
    assert sorted(s["show_id"] for s in shows) == ["show_a", "show_b", "show_c"]
    for s in shows:
        assert 0 <= s["best_weekday"] <= 6 and 0 <= s["best_hour_utc"] <= 23
        assert s["expected_downloads_7d"] >= s["usual_expected_downloads_7d"] > 0
        assert s["confidence"] in {"high", "medium", "low"}
        assert s["episodes_observed"] >= 8

    # Scoring again replaces the tenant's rows.
    _, again = score_family(wh, store, FAMILY, MAIN)
    assert again == written
    (count,) = wh.fetch("select count(*) from ml.campaign_forecasts where tenant_id = ?", [MAIN])[0]
    assert count == written["campaign_forecasts"]


def test_without_a_flight_in_progress_it_forecasts_from_the_latest_cut_off(warehouse) -> None:
    wh, root = warehouse
    store = LocalFolderStorage(root / "models")
    outcome = train_family(wh, store, FAMILY, DONE)
    assert outcome.promoted, outcome.describe()
    score_family(wh, store, FAMILY, DONE)
    totals = _rows(
        wh,
        "select campaign_id, as_of, metric, to_date, actual_remaining, flight_end"
        " from ml.campaign_forecast_totals where tenant_id = ?",
        [DONE],
    )
    # cmp_5 runs to day 88; cut-offs are weekly back from day 97: day 90 has no flight, day 83
    # has cmp_5's.
    assert {(r["campaign_id"], r["as_of"]) for r in totals} == {("cmp_5", START + timedelta(83))}
    actual = {r["metric"]: r["actual_remaining"] for r in totals}
    (delivered,) = wh.fetch(
        "select sum(impressions) from marts.fct_impressions where tenant_id = ?"
        " and campaign_id = 'cmp_5' and impression_date > ?",
        [DONE, START + timedelta(83)],
    )[0]
    assert actual["impressions"] == delivered
    daily = _rows(wh, "select actual from ml.campaign_forecasts where tenant_id = ?", [DONE])
    assert daily and all(r["actual"] is not None for r in daily)
    # The other tenant's rows are untouched.
    (main_rows,) = wh.fetch(
        "select count(*) from ml.campaign_forecast_totals where tenant_id = ?", [MAIN]
    )[0]
    assert main_rows in (0, 3)


def test_a_single_campaign_is_not_enough_to_evaluate(warehouse) -> None:
    wh, root = warehouse
    outcome = train_family(wh, LocalFolderStorage(root / "models"), FAMILY, SMALL)
    assert outcome.version is None
    assert "campaign forecasts to evaluate" in (outcome.not_enough_data or "")


def test_too_few_conversions_to_judge_give_no_candidate(warehouse) -> None:
    wh, root = warehouse
    outcome = train_family(wh, LocalFolderStorage(root / "models"), FAMILY, RARE)
    assert outcome.version is None
    assert "Poisson noise alone" in (outcome.not_enough_data or "")


@pytest.mark.postgres
def test_the_reads_are_the_same_on_postgresql(warehouse, request: pytest.FixtureRequest) -> None:
    wh, _ = warehouse
    server = request.getfixturevalue("pg_server")
    pg = PostgresWarehouse(postgres_server.fresh_database(server, "forecasts_reads"))
    try:
        build_tenant(pg, MAIN, seed=7)
        pg.conn.commit()
        on_duckdb, on_postgres = load_tenant_data(wh, MAIN), load_tenant_data(pg, MAIN)
    finally:
        pg.close()
    assert on_postgres.data_end == on_duckdb.data_end == END
    assert on_postgres.lookback_days == on_duckdb.lookback_days == 30.0
    for name in ("campaigns", "placements", "episodes", "episode_days", "placement_days",
                 "credit_days", "order_values", "download_hours"):  # fmt: skip
        left, right = getattr(on_duckdb, name), getattr(on_postgres, name)
        keys = list(left.columns)
        left = left.sort_values(keys).reset_index(drop=True)
        right = right[keys].sort_values(keys).reset_index(drop=True)
        assert len(left) == len(right) > 0, name
        for column in keys:
            if left[column].dtype.kind == "f":
                assert right[column].astype(float).to_numpy() == pytest.approx(
                    left[column].to_numpy()
                ), (name, column)
            else:
                assert list(left[column]) == list(right[column]), (name, column)
