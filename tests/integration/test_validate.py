"""`earshot validate` end to end on two tiny worlds, and its table on both engines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from attribution_validation import evaluate, store
from tests.conftest import run_earshot
from tests.support.warehouses import cli_env
from warehouse.connection import DuckDBWarehouse, Warehouse

TABLE = f"{store.SCHEMA}.{store.TABLE}"


def _rows(models: list[str], value: float) -> pd.DataFrame:
    rows = [
        {"scope": "observed", "model": m, "metric": "verdict", "value": value, "rank": i + 1,
         "verdict": "closest" if i == 0 else "not distinguishable from a"}
        for i, m in enumerate(models)
    ] + [
        {"scope": "observed", "model": models[0], "metric": "mape_conversions",
         "value": float("nan")},
        {"scope": "observed", "model": models[0], "metric": "wape_conversions_difference",
         "dimension": "other_model", "group_value": models[-1], "value": -0.1, "lower": -0.2,
         "upper": -0.05, "significant": True},
    ]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=evaluate.ROW_COLUMNS)


def _write(wh: Warehouse, rows: pd.DataFrame, run_id: str, scenario: str) -> int:
    return store.write_world(
        wh, rows, run_id=run_id, scenario=scenario, tenant_id=f"validate_{scenario}",
        world_params='{"preset": "tiny"}', seed=4, bootstrap_samples=10,
        computed_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )  # fmt: skip


def test_a_rerun_replaces_its_world_and_keeps_the_others(wh: Warehouse) -> None:
    assert _write(wh, _rows(["a", "b"], 0.5), "run_one", "reference") == 4
    _write(wh, _rows(["a", "b"], 0.5), "run_one", "long_lag")
    _write(wh, _rows(["a", "b"], 0.5), "run_two", "reference")
    # The same (run, world) again, now with three models: replaced, not added to.
    assert _write(wh, _rows(["a", "b", "c"], 0.25), "run_one", "reference") == 5
    counts = dict(wh.fetch(f"select run_id || '/' || scenario, count(*) from {TABLE} group by 1"))
    assert counts == {"run_one/reference": 5, "run_one/long_lag": 4, "run_two/reference": 4}
    verdicts = wh.fetch(
        f"select model, value, rank, verdict, seed, computed_at from {TABLE} "
        "where run_id = 'run_one' and scenario = 'reference' and metric = 'verdict' "
        "order by rank"
    )
    assert [(m, v, r) for m, v, r, *_ in verdicts] == [
        ("a", 0.25, 1),
        ("b", 0.25, 2),
        ("c", 0.25, 3),
    ]
    assert verdicts[0][3] == "closest" and verdicts[0][4] == 4
    assert verdicts[0][5] == datetime(2026, 1, 2, 3, 4, 5)
    # An undefined figure is NULL (not NaN), so SQL aggregates skip it.
    assert wh.fetch(f"select value from {TABLE} where metric = 'mape_conversions' limit 1") == [
        (None,)
    ]
    assert wh.fetch(
        f"select significant, lower, upper from {TABLE} "
        "where metric = 'wape_conversions_difference' and run_id = 'run_two'"
    ) == [(True, -0.2, -0.05)]


def test_an_empty_run_id_is_refused(wh: Warehouse) -> None:
    with pytest.raises(ValueError, match="run_id must not be empty"):
        _write(wh, _rows(["a"], 0.1), "", "reference")


def test_validate_judges_every_model_of_two_tiny_worlds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = cli_env(home, "validator")
    args = ("--preset", "tiny", "--scenario", "reference", "--scenario", "long_lag")
    done = run_earshot(env, "validate", *args, "--bootstrap", "50", "--run-id", "it_run")
    assert "== reference:" in done.stdout and "== long_lag:" in done.stdout, done.stdout

    wh = DuckDBWarehouse(home / "warehouse.duckdb", read_only=True)
    try:
        for scenario in ("reference", "long_lag"):
            _check_world(wh, home, scenario)
    finally:
        wh.close()

    bad = run_earshot(env, "validate", "--scenario", "nowhere", check=False)
    assert bad.returncode == 2 and "unknown validation scenario 'nowhere'" in bad.stderr


def _frame(wh: Warehouse, sql: str, params: list) -> pd.DataFrame:
    columns, rows = wh.fetch_columns(sql, params)
    return pd.DataFrame.from_records(rows, columns=columns)


def _check_world(wh: Warehouse, home: Path, scenario: str) -> None:
    tenant = f"validate_{scenario}"
    rows = _frame(wh, f"select * from {TABLE} where run_id = 'it_run' and scenario = ?", [scenario])
    assert (rows["tenant_id"] == tenant).all()
    models = sorted(
        m for (m,) in wh.fetch(
            "select distinct model from marts.fct_attribution_credits where tenant_id = ?", [tenant]
        )
    )  # fmt: skip
    assert len(models) >= 5

    # A verdict for every model in each scope; exactly one model (or a tie) ranked first.
    for scope in ("observed", "all"):
        verdicts = rows[(rows["scope"] == scope) & (rows["metric"] == "verdict")]
        assert sorted(verdicts["model"]) == models
        assert verdicts["rank"].min() == 1
        assert verdicts[verdicts["rank"] == 1]["verdict"].str.startswith("closest").all()
        assert (verdicts["lower"] <= verdicts["upper"]).all()
        pairs = rows[(rows["scope"] == scope) & (rows["metric"] == "wape_conversions_difference")]
        assert len(pairs) == len(models) * (len(models) - 1)

    # The truth side of each campaign is the simulator's true incremental orders.
    effects = pd.read_csv(home / "inbox" / tenant / "_truth" / "campaign_effects.csv")
    campaign_rows = rows[(rows["metric"] == "campaign_error_conversions")]
    truth = campaign_rows.drop_duplicates("group_value").set_index("group_value")["truth"]
    expected = effects.set_index("campaign_id")["true_incremental_orders"].astype(float)
    assert truth.sort_index().to_dict() == expected.sort_index().to_dict()
    assert (campaign_rows["value"] == campaign_rows["attributed"] - campaign_rows["truth"]).all()

    # The attributed side is what the mart holds: observed credits per model and campaign.
    mart = _frame(
        wh,
        "select model, campaign_id, sum(credit) as credit from marts.fct_attribution_credits "
        "where tenant_id = ? and is_observed group by 1, 2",
        [tenant],
    ).set_index(["model", "campaign_id"])["credit"]
    observed = campaign_rows[campaign_rows["scope"] == "observed"].set_index(
        ["model", "group_value"]
    )["attributed"]
    for key, credit in mart.items():
        assert observed[key] == pytest.approx(float(credit))

    # Bias rows for every dimension; the world's knobs on every row.
    dims = set(rows[rows["metric"] == "bias_conversions"]["dimension"])
    assert dims == {"position", "read_type", "show_size", "ip_class"}
    params = json.loads(rows["world_params"].iloc[0])
    assert params["preset"] == "tiny"
    assert params["response_lag_scale"] == (3.0 if scenario == "long_lag" else 1.0)
    assert (rows["bootstrap_samples"] == 50).all() and (rows["seed"] == 0).all()
