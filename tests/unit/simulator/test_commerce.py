"""Orders and visits: in the period, shaped like a shop's, and caused where the truth says."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from connectors.simulator.commerce import response_lag_days
from connectors.simulator.simulation import SimulationSummary


def _orders(summary: SimulationSummary) -> pd.DataFrame:
    return pq.read_table(summary.files["orders"][0]).to_pandas()


def _truth(summary: SimulationSummary, name: str) -> pd.DataFrame:
    return pd.read_csv(summary.out_dir / "_truth" / f"{name}.csv")


def test_orders_lie_in_the_period(parquet_world: SimulationSummary, config) -> None:
    orders = _orders(parquet_world)
    start = pd.Timestamp(config.period_start).tz_convert(None)
    end = pd.Timestamp(config.period_end).tz_convert(None)
    assert len(orders) > 50
    assert orders["ts"].between(start, end - timedelta(microseconds=1)).all()
    assert orders["order_id"].is_unique
    assert orders["ts"].is_monotonic_increasing  # order ids follow time
    assert (orders["revenue"] > 0).all()
    assert (orders["currency"] == config.currency).all()
    events = pq.read_table(parquet_world.files["site_events"][0]).to_pandas()
    assert events["ts"].between(start, end).all()
    assert set(events["event_type"]) == {"page_view", "vanity_url_visit", "add_to_cart"}


def test_order_fields_carry_the_podcast_signals(parquet_world: SimulationSummary) -> None:
    orders = _orders(parquet_world)
    truth = _truth(parquet_world, "orders").set_index("order_id").loc[orders["order_id"]]
    placements = pq.read_table(parquet_world.files["placements"][0]).to_pandas()
    episodes = pq.read_table(parquet_world.files["episodes"][0]).to_pandas()
    caused = truth["caused_by_campaign_id"].notna().to_numpy()
    codes = orders["discount_codes"].fillna("")
    promo = set(placements["promo_code"])
    uses_promo = codes.str.split(",").map(lambda cs: any(c in promo for c in cs)).to_numpy()
    assert uses_promo[caused].mean() > uses_promo[~caused].mean()
    assert orders["landing_url"].str.contains("utm_source=podcast").any()
    assert orders["landing_url"].str.contains("utm_campaign=").any()
    survey = orders["survey_answer"]
    assert survey.isna().any()
    assert survey.isin(set(episodes["show_name"])).any()
    assert {"podcast", "instagram", "friend"} <= set(survey.dropna())
    assert orders["customer_id"].dropna().str.fullmatch(r"cus_[0-9a-f]{12}").all()
    assert orders["referrer"].notna().any() and orders["referrer"].isna().any()


def test_truth_matches_the_export(parquet_world: SimulationSummary) -> None:
    orders = _orders(parquet_world)
    truth = _truth(parquet_world, "orders")
    effects = _truth(parquet_world, "campaign_effects")
    exposures = _truth(parquet_world, "exposures")
    assert list(truth["order_id"]) == list(orders["order_id"])
    caused = truth["caused_by_campaign_id"].value_counts()
    for row in effects.itertuples():
        assert caused.get(row.campaign_id, 0) == row.true_incremental_orders
        assert (exposures["campaign_id"] == row.campaign_id).sum() == row.exposed_households
    revenue = truth.groupby("caused_by_campaign_id")["revenue"].sum()
    for row in effects.itertuples():
        assert abs(revenue.get(row.campaign_id, 0.0) - row.true_incremental_revenue) < 0.01


def test_caused_orders_follow_an_exposure(parquet_world: SimulationSummary) -> None:
    truth = _truth(parquet_world, "orders")
    exposures = _truth(parquet_world, "exposures")
    caused = truth.dropna(subset=["caused_by_campaign_id"]).merge(
        exposures,
        left_on=["household_key", "caused_by_campaign_id"],
        right_on=["household_key", "campaign_id"],
        how="left",
        validate="many_to_one",
    )
    assert caused["first_exposed_at"].notna().all()
    lag = pd.to_datetime(caused["ts"]) - pd.to_datetime(caused["first_exposed_at"])
    assert (lag > pd.Timedelta(0)).all()
    assert (lag <= pd.Timedelta(days=60, minutes=30)).all()


def test_exposed_households_convert_more(parquet_world: SimulationSummary) -> None:
    households = _truth(parquet_world, "households")
    orders = _truth(parquet_world, "orders")
    exposed = set(_truth(parquet_world, "exposures")["household_key"])
    per_household = (
        orders.groupby("household_key").size().reindex(households["household_key"], fill_value=0)
    )
    is_exposed = per_household.index.isin(list(exposed))
    assert is_exposed.sum() > 20 and (~is_exposed).sum() > 20
    assert per_household[is_exposed].mean() > 1.3 * per_household[~is_exposed].mean()


def test_most_campaigns_have_orders_attributable_by_household_ip(
    parquet_world: SimulationSummary,
) -> None:
    """The attribution a pipeline will do, from the export files alone: an order from an
    address that downloaded an episode carrying the campaign's ad in the 30 days before."""
    requests = pd.concat(
        pq.read_table(p).to_pandas() for p in parquet_world.files["download_requests"]
    )
    requests = requests[(requests["method"] == "GET") & (requests["range"] != "bytes=0-1")]
    placements = pq.read_table(parquet_world.files["placements"][0]).to_pandas()
    orders = _orders(parquet_world)
    attributed = 0
    for campaign_id, group in placements.groupby("campaign_id"):
        heard = requests[requests["episode_id"].isin(group["episode_id"])]
        joined = orders.merge(heard[["ip", "ts"]], on="ip", suffixes=("", "_heard"))
        gap = joined["ts"] - joined["ts_heard"]
        hits = joined[(gap > pd.Timedelta(0)) & (gap <= pd.Timedelta(days=30))]
        attributed += hits["order_id"].nunique() > 0
        del campaign_id
    assert attributed >= 2 and attributed >= 0.6 * placements["campaign_id"].nunique()


def test_response_lag_follows_the_reference_curve() -> None:
    u = np.random.default_rng(0).random(200_000)
    days = response_lag_days(u)
    assert abs((days <= 1).mean() - 0.328) < 0.01
    assert abs((days <= 7).mean() - 0.580) < 0.01
    assert abs((days <= 30).mean() - 0.874) < 0.01
    assert days.max() <= 60


def test_response_lag_scale_stretches_the_curve() -> None:
    u = np.random.default_rng(0).random(200_000)
    days = response_lag_days(u, scale=3.0)
    # Every lag is three times the published one: 58% by day 21 instead of day 7.
    assert np.allclose(days, 3.0 * response_lag_days(u))
    assert abs((days <= 21).mean() - 0.580) < 0.01
    assert abs((days <= 7).mean() - 0.580) > 0.1
    assert days.max() <= 180
    # The default leaves the published curve exactly as it was.
    assert np.array_equal(response_lag_days(u, scale=1.0), response_lag_days(u))


def test_response_lag_scale_is_validated() -> None:
    import pytest

    from connectors.simulator import WorldConfig

    with pytest.raises(ValueError, match="response_lag_scale must be > 0"):
        WorldConfig.tiny(response_lag_scale=0.0)
