"""Incrementality (rpt_incrementality, rpt_incrementality_cohorts) on the simulated tenants,
against the simulator's ground truth, on DuckDB and PostgreSQL.

The session's worlds are `tiny` (about 100 exposed households per campaign): with the default
settings no campaign can detect a 50% lift, so every row must say insufficient_sample. To check
the estimates themselves, the report is re-run read-only (`dbt show`, nothing is written) with
thresholds that let every matched group through, and its intervals are compared with what the
simulator says the campaigns caused.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path
from statistics import NormalDist

import pandas as pd
import pytest

from tests.conftest import ROOT, TENANTS, BuiltPipeline
from tests.support.warehouse_query import pipeline_tenant_key, sql

pytestmark = pytest.mark.e2e

DBT_DIR = ROOT / "dbt_project"
WINDOW_DAYS = 30  # the default var incrementality_conversion_window_days
MIN_GROUP = 30  # incrementality_min_group_households
MIN_RELATIVE_LIFT = 0.5  # incrementality_min_relative_lift
ESTIMATES = [
    "absolute_lift", "absolute_lift_ci_low", "absolute_lift_ci_high", "relative_lift",
    "incremental_conversions", "incremental_conversions_ci_low",
    "incremental_conversions_ci_high", "incremental_revenue", "z_score", "p_value",
]  # fmt: skip
# Thresholds low enough for the tiny worlds: every group with 10 matched households per side.
PERMISSIVE = {"incrementality_min_relative_lift": 1000, "incrementality_min_group_households": 10}
Z = NormalDist().inv_cdf(0.975)
Z_POWER = NormalDist().inv_cdf(0.8)


def _report(pipeline: BuiltPipeline) -> pd.DataFrame:
    return sql(pipeline, "select * from marts.rpt_incrementality")


def _show_report(pipeline: BuiltPipeline, tmp_path: Path, dbt_vars: dict) -> pd.DataFrame:
    """rpt_incrementality's rows for every tenant under ``dbt_vars``, computed by `dbt show`
    from the pipeline's int_incrementality_households without writing anything."""
    env = {
        **pipeline.env,
        "DBT_TARGET": pipeline.warehouse,
        "EARSHOT_DUCKDB_PATH": str(pipeline.home / "warehouse.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    dbt = str(Path(sys.executable).parent / "dbt")
    proc = subprocess.run(
        [dbt, "show", "--select", "rpt_incrementality", "--vars", json.dumps(dbt_vars),
         "--output", "json", "--limit", "10000", "--log-format", "json",
         "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
        cwd=DBT_DIR, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for line in proc.stdout.splitlines():
        event = json.loads(line)
        if "preview" in event.get("data", {}):
            return pd.DataFrame(json.loads(event["data"]["preview"]))
    raise AssertionError(f"dbt show printed no rows:\n{proc.stdout[-3000:]}")


def _check_statistics(row: pd.Series) -> None:
    """The row's interval, test and power recomputed in Python from its own rates and sizes."""
    pe, pc = row["exposed_conversion_rate"], row["control_conversion_rate"]
    ne, nc = row["matched_exposed_households"], row["effective_control_households"]
    se = math.sqrt(pe * (1 - pe) / ne + pc * (1 - pc) / nc)
    assert row["absolute_lift"] == pytest.approx(pe - pc, abs=1e-9)
    assert row["absolute_lift_ci_low"] == pytest.approx(pe - pc - Z * se, abs=1e-7)
    assert row["absolute_lift_ci_high"] == pytest.approx(pe - pc + Z * se, abs=1e-7)
    assert row["incremental_conversions_ci_low"] == pytest.approx((pe - pc - Z * se) * ne, abs=1e-5)
    pooled = (pe * ne + pc * nc) / (ne + nc)
    z = (pe - pc) / math.sqrt(pooled * (1 - pooled) * (1 / ne + 1 / nc))
    assert row["z_score"] == pytest.approx(z, abs=1e-7)
    assert row["p_value"] == pytest.approx(2 * (1 - NormalDist().cdf(abs(z))), abs=2e-7)
    mde = (Z + Z_POWER) * math.sqrt(pc * (1 - pc) * (1 / ne + 1 / nc))
    assert row["minimum_detectable_lift"] == pytest.approx(mde, abs=1e-7)
    if pe > 0:
        se_log = math.sqrt((1 - pe) / (ne * pe) + (1 - pc) / (nc * pc))
        low = math.exp(math.log(pe / pc) - Z * se_log) - 1
        assert row["relative_lift_ci_low"] == pytest.approx(low, abs=1e-6)
        assert row["relative_lift_ci_low"] <= row["relative_lift"] <= row["relative_lift_ci_high"]


def _network_household_ids(pipeline: BuiltPipeline, tenant: str) -> pd.DataFrame:
    """The simulator's households and the pipeline's household_id of each home network."""
    from warehouse.data_subjects import network_of
    from warehouse.pseudonymisation import pseudonymise

    key = pipeline_tenant_key(ROOT, pipeline.env, tenant)
    truth = pd.read_csv(pipeline.exports[tenant] / "_truth" / "households.csv")
    rows = []
    for record in truth.itertuples():
        addresses = [record.ip]
        if isinstance(record.ipv6_prefix, str):
            addresses.append(record.ipv6_prefix.split("/")[0])
        for address in addresses:
            network_key = pseudonymise(key, network_of(address))
            rows.append((record.household_key, hashlib.md5(network_key.encode()).hexdigest()))
    return pd.DataFrame(rows, columns=["household_key", "household_id"])


def _true_incremental_conversions(pipeline: BuiltPipeline, tenant: str) -> pd.Series:
    """Per campaign: the orders the simulator says the campaign caused that the observed
    estimate can see: placed from a residential address, within the window after the
    household's first exposure, by a household whose home network is among the matched
    exposed households."""
    truth = pipeline.exports[tenant] / "_truth"
    orders = pd.read_csv(truth / "orders.csv")
    exposures = pd.read_csv(truth / "exposures.csv")
    caused = orders[orders["caused_by_campaign_id"].notna() & (orders["ip_class"] == "household")]
    caused = caused.merge(
        exposures,
        left_on=["household_key", "caused_by_campaign_id"],
        right_on=["household_key", "campaign_id"],
    )
    lag = pd.to_datetime(caused["ts"]) - pd.to_datetime(caused["first_exposed_at"])
    caused = caused[lag.dt.total_seconds() <= WINDOW_DAYS * 86400]
    matched = sql(
        pipeline,
        "select campaign_id, household_id from intermediate.int_incrementality_households"
        f" where tenant_id = '{tenant}' and is_observed and is_matched"
        " and study_group = 'exposed'",
    )
    homes = matched.merge(_network_household_ids(pipeline, tenant), on="household_id")
    seen = caused.merge(homes[["campaign_id", "household_key"]].drop_duplicates())
    return seen.groupby("campaign_id").size()


def test_every_campaign_has_an_observed_and_a_modelled_row(pipeline: BuiltPipeline) -> None:
    report = _report(pipeline)
    campaigns = sql(pipeline, "select tenant_id, campaign_id from staging.stg_files__campaigns")
    assert len(campaigns) >= 6
    assert len(report) == 2 * len(campaigns)
    keys = set(zip(report["tenant_id"], report["campaign_id"], report["is_observed"], strict=True))
    for tenant, campaign in zip(campaigns["tenant_id"], campaigns["campaign_id"], strict=True):
        assert {(tenant, campaign, True), (tenant, campaign, False)} <= keys
    observed = report[report["is_observed"]]
    # Every simulated campaign reaches residential listeners and finds matched controls.
    assert (observed["matched_exposed_households"] > 0).all()
    assert (observed["matched_control_households"] > 0).all()
    assert (report["matched_exposed_households"] <= report["exposed_households"]).all()


def test_tiny_campaigns_are_too_small_for_the_default_effect(pipeline: BuiltPipeline) -> None:
    """About 100 exposed households cannot show a 50% lift: no number is printed, but the
    reason (the minimum detectable effect) is."""
    report = _report(pipeline)
    assert (report["result_status"] == "insufficient_sample").all(), report
    for column in ESTIMATES:
        assert report[column].isna().all(), column
    for row in report.itertuples():
        too_small = row.matched_exposed_households < MIN_GROUP
        too_small |= row.matched_control_households < MIN_GROUP
        too_small |= pd.isna(row.minimum_detectable_relative_lift)
        too_small |= bool(row.minimum_detectable_relative_lift > MIN_RELATIVE_LIFT)
        assert too_small, row
    observed = report[report["is_observed"] & report["minimum_detectable_relative_lift"].notna()]
    assert len(observed) >= 4
    for _, row in observed.iterrows():
        pc = row["control_conversion_rate"]
        ne, nc = row["matched_exposed_households"], row["effective_control_households"]
        mde = (Z + Z_POWER) * math.sqrt(pc * (1 - pc) * (1 / ne + 1 / nc))
        assert row["minimum_detectable_relative_lift"] == pytest.approx(mde / pc, rel=1e-6)


def test_intervals_cover_the_true_incremental_conversions(
    pipeline: BuiltPipeline, tmp_path: Path
) -> None:
    """With thresholds every matched group passes, the observed 95% intervals of incremental
    conversions cover what the campaigns truly caused (as far as the observed households can
    see it) for at least two thirds of the estimated campaigns, and there are at least four."""
    report = _show_report(pipeline, tmp_path, PERMISSIVE)
    observed = report[report["is_observed"] & (report["result_status"] == "estimated")]
    assert len(observed) >= 4, report
    covered = []
    for tenant in TENANTS:
        truth = _true_incremental_conversions(pipeline, tenant)
        rows = observed[observed["tenant_id"] == tenant]
        for _, row in rows.iterrows():
            _check_statistics(row)
            true = int(truth.get(row["campaign_id"], 0))
            assert true > 0, (tenant, row["campaign_id"])
            low = row["incremental_conversions_ci_low"]
            high = row["incremental_conversions_ci_high"]
            covered.append(low <= true <= high)
    assert sum(covered) * 3 >= 2 * len(covered), (covered, observed)


def test_cohorts_accumulate_to_the_report(pipeline: BuiltPipeline) -> None:
    cohorts = sql(pipeline, "select * from marts.rpt_incrementality_cohorts")
    report = _report(pipeline)
    weeks = math.ceil(WINDOW_DAYS / 7)
    assert len(cohorts) > 0
    for (tenant, campaign, observed), group in cohorts.groupby(
        ["tenant_id", "campaign_id", "is_observed"]
    ):
        group = group.sort_values("weeks_since_exposure")
        assert list(group["weeks_since_exposure"]) == list(range(weeks))
        assert group["days_since_exposure"].iloc[-1] == WINDOW_DAYS
        # Cumulative: never decreasing.
        assert group["exposed_conversions"].is_monotonic_increasing
        assert (group["control_conversion_rate"].diff().dropna() >= -1e-12).all()
        last = group.iloc[-1]
        row = report[
            (report["tenant_id"] == tenant)
            & (report["campaign_id"] == campaign)
            & (report["is_observed"] == observed)
        ].iloc[0]
        assert last["exposed_conversions"] == row["exposed_conversions"]
        assert last["matched_exposed_households"] == row["matched_exposed_households"]
        assert last["exposed_conversion_rate"] == pytest.approx(row["exposed_conversion_rate"])
        assert last["control_conversion_rate"] == pytest.approx(row["control_conversion_rate"])
