"""Churn through the registry and the ml tables, on a small synthetic DuckDB warehouse holding
the four relations it reads (with their real column names).

The world: two weekly shows; each household follows one or both and downloads each new episode
with its own probability (most rarely, a few almost always), within a few days of the release.
So how often a household listened predicts whether it takes one of the next three episodes
better than how long ago it last did — the signal the model must find and the recency baseline
misses. A cellular network downloading everything and another tenant's households are there
to be left out.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models_ml.churn import FAMILY
from models_ml.churn.model import HIGH_RISK, MEDIUM_RISK
from models_ml.registry import ModelRegistry
from models_ml.runner import score_family, train_family
from warehouse.connection import DuckDBWarehouse
from warehouse.landing_storage import LocalFolderStorage

TENANT, OTHER = "acme", "globex"
FIRST_DAY, LAST_DAY = date(2024, 1, 1), date(2024, 4, 9)  # 100 days of downloads
SHOWS = {"s1": date(2023, 12, 4), "s2": date(2023, 12, 7)}  # weekly from these days


def _world(tenant: str, households: int, seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    episodes = []
    for show, start in SHOWS.items():
        day = start
        while day <= LAST_DAY:
            episodes.append((tenant, show, f"{show}_e{day:%m%d}", day))
            day += timedelta(days=7)
    downloads, homes = [], []
    agents = ["Overcast/3.0 (iOS)", "Spotify/8.9 Android/34 (Pixel 8)", "Mozilla/5.0 (Windows)"]
    for h in range(households):
        network = f"{tenant}_nk{h}"
        homes.append((tenant, f"{tenant}_hh{h}", network, "household"))
        p = rng.beta(0.6, 1.2)  # this household's chance of taking a new episode
        agent = agents[h % len(agents)]
        follows = [s for s in SHOWS if rng.random() < 0.6] or ["s1"]
        for _, show, episode, released in episodes:
            if show in follows and rng.random() < p:
                day = released + timedelta(days=int(rng.geometric(0.5)) - 1)
                if FIRST_DAY <= day <= LAST_DAY:
                    downloads.append((tenant, network, show, episode, day, agent))
    # A carrier pool: shared by many households, it takes every episode; never a household.
    homes.append((tenant, f"{tenant}_cgnat", f"{tenant}_cgnat_nk", "cellular"))
    for _, show, episode, released in episodes:
        if FIRST_DAY <= released <= LAST_DAY:
            downloads.append((tenant, f"{tenant}_cgnat_nk", show, episode, released, agents[0]))
    return {
        "downloads": pd.DataFrame(
            downloads,
            columns=[
                "tenant_id",
                "network_key",
                "show_id",
                "episode_id",
                "download_date",
                "user_agent",
            ],
        ),
        "households": pd.DataFrame(
            homes, columns=["tenant_id", "household_id", "network_key", "ip_class"]
        ),
        "episodes": pd.DataFrame(
            [(t, s, e, pd.Timestamp(d) + pd.Timedelta(hours=6)) for t, s, e, d in episodes],
            columns=["tenant_id", "show_id", "episode_id", "published_at"],
        ),
        "shows": pd.DataFrame(
            [(tenant, s, f"Show {s}") for s in SHOWS], columns=["tenant_id", "show_id", "show_name"]
        ),
    }


def _warehouse(path: Path, worlds: list[dict[str, pd.DataFrame]]) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(path)
    targets = {
        "downloads": "intermediate.int_downloads",
        "households": "intermediate.int_households",
        "episodes": "staging.stg_files__episodes",
        "shows": "marts.dim_shows",
    }
    for schema in ("intermediate", "staging", "marts"):
        wh.execute(f"create schema if not exists {schema}")
    for name, table in targets.items():
        frame = pd.concat([w[name] for w in worlds], ignore_index=True)
        wh.conn.register("_frame", frame)
        wh.execute(f"create table {table} as select * from _frame")
        wh.conn.unregister("_frame")
    wh.execute(
        "alter table intermediate.int_downloads alter download_date type date"
    )  # a date, as dbt builds it
    return wh


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("churn")
    mine, other = _world(TENANT, 700, seed=3), _world(OTHER, 200, seed=4)
    wh = _warehouse(tmp / "w.duckdb", [mine, other])
    store = LocalFolderStorage(tmp / "models")
    outcome = train_family(wh, store, FAMILY, TENANT)
    version, written = score_family(wh, store, FAMILY, TENANT)
    yield wh, store, mine, outcome, version, written
    wh.close()


def test_the_model_beats_recency_and_is_promoted(world) -> None:
    _, _, _, outcome, version, _ = world
    assert outcome.promoted, outcome.describe()
    v = outcome.version
    assert v.metric == "auc" and v.baseline_name == "recency"
    assert v.metrics["auc"] > v.baseline_metrics["auc"]
    assert v.metrics["brier"] < v.baseline_metrics["brier"]
    for side in (v.metrics, v.baseline_metrics):
        assert 0 < side["brier"] < 0.25 and 0 < side["pr_auc"] <= 1
    assert v.details["holdout_churned"] >= 100 and v.details["holdout_retained"] >= 100
    assert v.training_rows == v.details["training_churned"] + v.details["training_retained"]
    assert v.holdout_rows == v.details["holdout_churned"] + v.details["holdout_retained"]
    assert len(v.details["calibration"]["model"]) == 10
    assert sum(r["rows"] for r in v.details["calibration"]["baseline"]) == v.holdout_rows
    low, high = v.details["auc_gain_interval_90"]
    assert low <= v.metrics["auc"] - v.baseline_metrics["auc"] <= high
    assert (v.data_start, v.data_end) == (FIRST_DAY, LAST_DAY)
    # Training labels closed by the boundary; holdout cut-offs on or after it.
    boundary = v.details["boundary"]
    assert all(cutoff < boundary for _, cutoff in v.details["training_cutoffs"])
    assert all(cutoff >= boundary for _, cutoff, _ in v.details["holdout_cutoffs"])
    assert all(end <= str(LAST_DAY) for _, _, end in v.details["holdout_cutoffs"])
    assert version.model_version == v.model_version


def test_training_is_deterministic(world) -> None:
    wh, store, _, outcome, _, _ = world
    again = train_family(wh, store, FAMILY, TENANT).version
    assert again.version_number == outcome.version.version_number + 1
    assert again.metrics == outcome.version.metrics
    assert again.baseline_metrics == outcome.version.baseline_metrics
    first = ModelRegistry(wh, store).load(outcome.version)
    second = ModelRegistry(wh, store).load(again)
    assert first.importance() == second.importance()


def test_scores_every_active_household_of_each_show(world) -> None:
    wh, _, mine, _, version, written = world
    names, rows = wh.fetch_columns(
        "select * from ml.churn_scores where tenant_id = ? order by show_id, household_id",
        [TENANT],
    )
    scores = pd.DataFrame(rows, columns=names)
    assert written["churn_scores"] == len(scores)
    # Active = a download of the show in the 21 days up to the last day, from a household
    # network (the carrier pool is left out).
    d = mine["downloads"]
    d = d[d["download_date"] > LAST_DAY - timedelta(days=21)]
    d = d.merge(mine["households"], on=["tenant_id", "network_key"])
    d = d[d["ip_class"] == "household"]
    expected = d.groupby(["show_id", "household_id"])["download_date"].max()
    assert list(zip(scores["show_id"], scores["household_id"], strict=True)) == list(expected.index)
    assert (scores["last_download_date"].to_numpy() == expected.to_numpy()).all()
    assert (
        scores["days_since_last_download"] == [(LAST_DAY - day).days for day in expected.to_numpy()]
    ).all()
    assert set(scores["as_of"]) == {LAST_DAY}
    assert set(scores["model_version"]) == {version.model_version}
    p = scores["churn_probability"]
    assert ((p > 0) & (p < 1)).all()
    band = np.where(p >= HIGH_RISK, "high", np.where(p >= MEDIUM_RISK, "medium", "low"))
    assert (scores["risk_band"] == band).all()
    assert {"medium", "low"} <= set(scores["risk_band"]) <= {"high", "medium", "low"}
    # Frequent listeners are scored less likely to churn than one-off ones.
    frequent = scores["downloads_21d"] >= 3
    assert p[frequent].mean() < p[scores["downloads_21d"] == 1].mean()


def test_show_rates_add_up_the_scores(world) -> None:
    wh, _, _, _, version, written = world
    names, rows = wh.fetch_columns(
        "select * from ml.churn_show_rates where tenant_id = ? order by show_id", [TENANT]
    )
    rates = pd.DataFrame(rows, columns=names)
    assert written["churn_show_rates"] == 2
    assert rates["show_id"].tolist() == ["s1", "s2"]
    assert rates["show_name"].tolist() == ["Show s1", "Show s2"]
    by_show = wh.fetch(
        "select show_id, count(*), sum(churn_probability),"
        " sum(case when risk_band = 'high' then 1 else 0 end)"
        " from ml.churn_scores where tenant_id = ? group by show_id order by show_id",
        [TENANT],
    )
    for row, (show, active, expected, high) in zip(rates.itertuples(), by_show, strict=True):
        assert row.show_id == show and row.active_households == active
        assert row.expected_churners == pytest.approx(expected, abs=1e-4)
        assert row.predicted_churn_rate == pytest.approx(expected / active, abs=1e-5)
        assert row.at_risk_households == high
        assert row.as_of == LAST_DAY and row.model_version == version.model_version
    # The last complete label: s1 releases on Mondays (04-08 the last); its episodes 03-18,
    # 03-25, 04-01 close on 04-08, so the cut-off is 03-17. s2 (Thursdays, 04-04 the last):
    # 03-14, 03-21, 03-28 close on 04-04, cut-off 03-13.
    assert rates["observed_cutoff"].tolist() == [date(2024, 3, 17), date(2024, 3, 13)]
    assert (rates["observed_households"] > 50).all()
    assert rates["observed_churn_rate_last_period"].between(0.1, 0.9).all()


def test_scoring_again_replaces_the_rows_and_leaves_other_tenants(world) -> None:
    wh, store, _, _, _, written = world
    wh.execute(
        "insert into ml.churn_scores (tenant_id, show_id, household_id, model_version)"
        " values (?, 's1', 'theirs', 'churn-v9')",
        [OTHER],
    )
    _, again = score_family(wh, store, FAMILY, TENANT)
    assert again == written
    counts = dict(wh.fetch("select tenant_id, count(*) from ml.churn_scores group by tenant_id"))
    assert counts == {TENANT: written["churn_scores"], OTHER: 1}
    households = {r[0] for r in wh.fetch("select household_id from ml.churn_scores")}
    assert not {h for h in households if h.startswith(f"{OTHER}_") or "cgnat" in h}


def test_a_small_or_empty_tenant_has_not_enough_data(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path / "small.duckdb", [_world("small", 60, seed=5)])
    store = LocalFolderStorage(tmp_path / "models")
    outcome = train_family(wh, store, FAMILY, "small")
    assert outcome.version is None
    assert "an honest verdict needs at least 100 of each" in outcome.not_enough_data
    empty = train_family(wh, store, FAMILY, "nobody")
    assert empty.version is None and "no downloads" in empty.not_enough_data
    # Scoring an empty tenant writes empty tables rather than failing.
    assert FAMILY.score(wh, "nobody", None, "churn-v1")["churn_scores"].num_rows == 0


def test_a_tenant_without_household_listeners_scores_nothing(world, tmp_path: Path) -> None:
    wh_main, store, _, _, version, _ = world
    model = ModelRegistry(wh_main, store).load(version)
    wh = _warehouse(tmp_path / "shared.duckdb", [_world("shared", 0, seed=6)])
    tables = FAMILY.score(wh, "shared", model, version.model_version)
    assert tables["churn_scores"].num_rows == 0
    assert tables["churn_show_rates"].num_rows == 0
    assert tables["churn_scores"].column_names[-1] == "model_version"
