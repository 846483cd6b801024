"""Reach and frequency, audience overlap, the lag curve and placement performance on the
simulated worlds, through the whole pipeline on DuckDB and PostgreSQL. Each mart is checked
against the same figures computed here, independently, from the intermediate tables it
summarises, and against the identities its documentation promises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import TENANTS, BuiltPipeline
from tests.support.warehouse_query import sql

pytestmark = pytest.mark.e2e

BUCKETS = ["households_1", "households_2", "households_3", "households_4", "households_5_plus"]


def _impressions(p: BuiltPipeline) -> pd.DataFrame:
    return sql(
        p,
        "select tenant_id, campaign_id, show_id, household_id from intermediate.int_ad_impressions",
    )


def _expected_reach(impressions: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Impressions, reach and frequency buckets per ``keys``, from one row per impression."""
    per_household = (
        impressions.groupby(keys + ["household_id"], dropna=False).size().rename("n").reset_index()
    )
    grouped = per_household.groupby(keys, dropna=False)["n"]
    out = pd.DataFrame(
        {
            "impressions": grouped.sum(),
            "reach": grouped.size(),
            "households_1": grouped.apply(lambda n: int((n == 1).sum())),
            "households_2": grouped.apply(lambda n: int((n == 2).sum())),
            "households_3": grouped.apply(lambda n: int((n == 3).sum())),
            "households_4": grouped.apply(lambda n: int((n == 4).sum())),
            "households_5_plus": grouped.apply(lambda n: int((n >= 5).sum())),
        }
    )
    return out.reset_index()


def test_reach_frequency_is_deduplicated_and_adds_up(pipeline: BuiltPipeline) -> None:
    report = sql(pipeline, "select * from marts.rpt_reach_frequency")
    impressions = _impressions(pipeline)
    assert set(report["tenant_id"]) == set(TENANTS)
    for column in ["impressions", "reach", *BUCKETS]:
        report[column] = report[column].astype("int64")

    # Every row: the buckets split the reach, the average is impressions per household.
    assert (report[BUCKETS].sum(axis=1) == report["reach"]).all()
    assert np.allclose(report["average_frequency"], report["impressions"] / report["reach"])

    for tenant in TENANTS:
        mine = report[report["tenant_id"] == tenant]
        seen = impressions[impressions["tenant_id"] == tenant]
        total = mine[mine["scope"] == "tenant"].iloc[0]
        # The de-duplicated total reach is the distinct households of int_ad_impressions, and
        # impressions add up over campaigns and over shows; reach does not, it overlaps.
        assert total["reach"] == seen["household_id"].nunique()
        assert total["impressions"] == len(seen)
        campaigns = mine[mine["scope"] == "campaign"]
        assert campaigns["impressions"].sum() == len(seen)
        assert mine[mine["scope"] == "show"]["impressions"].sum() == len(seen)
        assert total["reach"] <= campaigns["reach"].sum()
        assert total["reach"] >= campaigns["reach"].max()
        # Every scope agrees with the same counts made here from the impressions.
        for scope, keys in {
            "campaign": ["campaign_id"],
            "show": ["show_id"],
            "campaign_show": ["campaign_id", "show_id"],
        }.items():
            expected = _expected_reach(seen, keys).sort_values(keys).reset_index(drop=True)
            actual = mine[mine["scope"] == scope].sort_values(keys).reset_index(drop=True)
            assert len(actual) == len(expected), scope
            for column in ["impressions", "reach", *BUCKETS]:
                assert actual[column].tolist() == expected[column].astype("int64").tolist(), (
                    scope,
                    column,
                )
    # The campaign reach is the reach fct_campaign_performance reports.
    performance = sql(
        pipeline,
        "select distinct tenant_id, campaign_id, reach from marts.fct_campaign_performance "
        "where impressions > 0",
    )
    merged = performance.merge(
        report[report["scope"] == "campaign"], on=["tenant_id", "campaign_id"], how="outer"
    )
    assert (merged["reach_x"].astype("int64") == merged["reach_y"].astype("int64")).all()


def test_audience_overlap_matrix_and_decomposition_add_up(pipeline: BuiltPipeline) -> None:
    overlap = sql(pipeline, "select * from marts.rpt_audience_overlap")
    impressions = _impressions(pipeline)
    overlap["households"] = overlap["households"].astype("int64")
    for tenant in TENANTS:
        seen = impressions[impressions["tenant_id"] == tenant]
        for dimension, column in [("campaign", "campaign_id"), ("show", "show_id")]:
            members = seen.dropna(subset=[column])[[column, "household_id"]].drop_duplicates()
            rows = overlap[(overlap["tenant_id"] == tenant) & (overlap["dimension"] == dimension)]
            pairs = rows[rows["row_type"] == "pair"]
            combos = rows[rows["row_type"] == "combination"]
            total = members["household_id"].nunique()
            # The exclusive decomposition sums to the de-duplicated reach of the dimension.
            assert combos["households"].sum() == total
            # The matrix, cell by cell, from the impressions.
            both = members.merge(members, on="household_id")
            expected = both.groupby([f"{column}_x", f"{column}_y"]).size()
            actual = pairs.set_index(["member_a", "member_b"])["households"]
            assert dict(actual) == {k: int(v) for k, v in expected.items()}
            # Sets of members per household, spelled as the mart spells them.
            sets = members.groupby("household_id")[column].apply(
                lambda ids: " | ".join(sorted(ids, key=lambda s: s.encode()))
            )
            assert dict(combos.set_index("combination")["households"]) == {
                k: int(v) for k, v in sets.value_counts().items()
            }
            # Overlap exists in these worlds: the sum of the diagonals exceeds the reach.
            diagonal = pairs[pairs["member_a"] == pairs["member_b"]]["households"].sum()
            if dimension == "campaign":
                assert diagonal > total


def test_lag_curve_shares_sum_to_one(pipeline: BuiltPipeline) -> None:
    curve = sql(pipeline, "select * from marts.rpt_conversion_lag")
    paths = sql(
        pipeline,
        "select tenant_id, conversion_id, campaign_id, ip_class, seconds_before_conversion "
        "from intermediate.int_conversion_paths",
    )
    assert not curve.empty
    for key, rows in curve.groupby(["tenant_id", "campaign_id"]):
        rows = rows.sort_values("days_since_first_exposure")
        lookback = float(rows["lookback_days"].iloc[0])
        days = list(range(int(lookback) + 1))
        assert rows["days_since_first_exposure"].tolist() == days, key
        assert rows["share"].sum() == pytest.approx(1.0, abs=1e-9), key
        assert rows["cumulative_share"].iloc[-1] == 1.0, key
        assert rows["cumulative_share"].is_monotonic_increasing, key
    # The curve's conversions are the observed conversions with a touch of the campaign,
    # by the whole days since the campaign's earliest touch on the path.
    observed = paths.groupby(["tenant_id", "conversion_id"])["ip_class"].transform(
        lambda c: (c == "household").all()
    )
    firsts = (
        paths[observed]
        .groupby(["tenant_id", "campaign_id", "conversion_id"])["seconds_before_conversion"]
        .max()
        .reset_index()
    )
    firsts["day"] = np.floor(firsts["seconds_before_conversion"].astype(float) / 86400.0)
    expected = firsts.groupby(["tenant_id", "campaign_id", "day"]).size()
    actual = curve[curve["conversions"] > 0].set_index(
        ["tenant_id", "campaign_id", "days_since_first_exposure"]
    )["conversions"]
    assert {(t, c, int(d)): int(n) for (t, c, d), n in expected.items()} == {
        (t, c, int(d)): int(n) for (t, c, d), n in actual.items()
    }


def test_placement_performance_reconciles_and_pre_rolls_deliver_more(
    pipeline: BuiltPipeline,
) -> None:
    report = sql(pipeline, "select * from marts.rpt_placement_performance")
    models = sql(pipeline, "select distinct tenant_id, model from marts.fct_attribution_credits")
    impressions = sql(
        pipeline,
        "select tenant_id, campaign_id, sum(impressions) as impressions "
        "from marts.fct_impressions group by tenant_id, campaign_id",
    )
    credits = sql(
        pipeline,
        "select c.tenant_id, c.model, sum(c.credit) as conversions "
        "from marts.fct_attribution_credits as c "
        "join staging.stg_files__placements as p "
        "  on p.tenant_id = c.tenant_id and p.placement_id = c.placement_id "
        "where c.is_observed group by c.tenant_id, c.model",
    )
    # One set of rows per model of the credits, read from the data.
    assert set(map(tuple, report[["tenant_id", "model"]].drop_duplicates().values)) == set(
        map(tuple, models.values)
    )
    for (tenant, model), rows in report.groupby(["tenant_id", "model"]):
        delivered = rows.groupby("campaign_id")["impressions"].sum().astype("int64")
        truth = impressions[impressions["tenant_id"] == tenant].set_index("campaign_id")
        assert delivered.to_dict() == truth["impressions"].astype("int64").to_dict()
        credited = credits[(credits["tenant_id"] == tenant) & (credits["model"] == model)]
        assert rows["conversions"].sum() == pytest.approx(
            float(credited["conversions"].sum()), abs=1e-6
        )
    with_cost = report[report["cost"] > 0]
    assert np.allclose(with_cost["roas"], with_cost["revenue"] / with_cost["cost"])

    # Pre-rolls deliver at least as often as post-rolls: an early ad needs fewer bytes, and
    # listens that stop early have fetched the start of the file. Judged per tenant on the
    # pooled chances, one model's rows (delivery is the same on every model's rows).
    for tenant in TENANTS:
        one_model = report[report["tenant_id"] == tenant]
        one_model = one_model[one_model["model"] == one_model["model"].min()]
        by_position = one_model.groupby("position")[["impressions", "downloads_in_flight"]].sum()
        assert {"pre", "post"} <= set(by_position.index)
        rate = by_position["impressions"] / by_position["downloads_in_flight"]
        assert rate["pre"] >= rate["post"], rate.to_dict()
