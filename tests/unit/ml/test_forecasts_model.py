"""The campaign forecast's pieces on small frames, against hand-computed values."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from models_ml.forecasts.backtest import Case, score
from models_ml.forecasts.baseline import run_rate_forecast
from models_ml.forecasts.campaign_daily import Forecast, day_range
from models_ml.forecasts.campaign_model import (
    MeanParams,
    RangeSums,
    Settings,
    Snapshot,
    lag_rates,
    lagged_exposure,
)
from models_ml.forecasts.data import TenantData, assemble
from models_ml.forecasts.downloads_curve import (
    AGE_EDGES,
    DownloadsShape,
    age_bucket,
    fit_downloads_shape,
    launch_trend,
    observation_grid,
)
from models_ml.forecasts.family import choose_as_of, noise_wape

D0 = date(2026, 3, 2)  # a Monday
Z80 = 1.2815515655446004


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def tenant_data(
    campaigns: list[tuple[str, date, date]] = (),
    episodes: list[tuple[str, str, datetime]] = (),
    episode_days: list[tuple[str, str, date, float]] = (),
    placements: list[tuple[str, str, str, str]] = (),
    impressions: list[tuple[str, str, str, date, float]] = (),
    credits: list[tuple[str, date, date, float, float]] = (),
) -> TenantData:
    """A TenantData from rows (placements: id, campaign, episode, show; credits: campaign,
    conversion day, touch day, credit, revenue)."""
    return assemble(
        pd.DataFrame(list(campaigns), columns=["campaign_id", "start_date", "end_date"]),
        pd.DataFrame(
            [(p, c, e, s, "pre", "dynamic") for p, c, e, s in placements],
            columns=[
                "placement_id",
                "campaign_id",
                "episode_id",
                "show_id",
                "position",
                "insertion_type",
            ],
        ),  # fmt: skip
        pd.DataFrame(list(episodes), columns=["episode_id", "show_id", "published_at"]),
        pd.DataFrame(list(episode_days), columns=["episode_id", "show_id", "day", "downloads"]),
        pd.DataFrame(
            list(impressions),
            columns=["campaign_id", "placement_id", "episode_id", "day", "impressions"],
        ),
        pd.DataFrame(
            [(c, d, t, cr, rev, cr) for c, d, t, cr, rev in credits],
            columns=["campaign_id", "day", "touch_day", "credit", "revenue", "revenue_credit"],
        ),
        pd.DataFrame(columns=["conversion_id", "day", "revenue"]),
        pd.DataFrame(columns=["episode_id", "show_id", "day", "hour", "downloads"]),
        30.0,
    )


def test_run_rate_baseline_is_the_mean_so_far_times_the_days_left() -> None:
    daily = {"impressions": [2.0, 4.0, 6.0], "conversions": [0.0, 1.0, 2.0],
             "revenue": [0.0, 50.0, 100.0]}  # fmt: skip
    f = run_rate_forecast("c", day(0), day(4), day(2), daily, interval=0.8)
    assert f.days == [day(3), day(4)]
    assert f.to_date["impressions"] == 12.0
    # mean 4, sample sd 2: days 4 +- z * 2, the two days' total 8 +- z * 2 * sqrt(2).
    assert f.mean["impressions"].tolist() == [4.0, 4.0]
    assert f.lower["impressions"][0] == pytest.approx(4 - Z80 * 2)
    assert f.upper["impressions"][0] == pytest.approx(4 + Z80 * 2)
    total, lower, upper = f.total["impressions"]
    assert total == pytest.approx(8.0)
    assert lower == pytest.approx(8 - Z80 * 2 * np.sqrt(2))
    assert upper == pytest.approx(8 + Z80 * 2 * np.sqrt(2))
    # Revenue: mean 50, sd 50: a day's lower bound (50 - 64) stops at zero, the total's not.
    assert f.lower["revenue"][0] == 0.0
    assert f.total["revenue"][1] == pytest.approx(100 - Z80 * 50 * np.sqrt(2))


def test_lag_rates_count_only_impressions_old_enough_to_have_converted() -> None:
    credits = pd.DataFrame(
        {
            "day": [day(0), day(1), day(1)],
            "touch_day": [day(0), day(1), day(0)],
            "credit": [2.0, 2.0, 1.0],
        }
    )
    placements = pd.DataFrame({"day": [day(0), day(1)], "impressions": [100.0, 100.0]})
    rates = lag_rates(credits, placements, as_of=day(1), lookback_days=30)
    # Lag 0: 4 credits over the 200 impressions of both days. Lag 1: 1 credit over the 100 of
    # day 0 only (day 1's have not had a day yet). Later lags inside the 30-day lookback: no
    # impression old enough, so the last known rate carries; beyond the lookback: none.
    assert rates[0] == pytest.approx(0.02)
    assert rates[1] == pytest.approx(0.01)
    assert rates[2:31] == pytest.approx(np.full(29, 0.01))
    assert not rates[31:].any()


def test_lagged_exposure_convolves_impressions_with_the_lag_rates() -> None:
    impressions = pd.Series({day(0): 10.0, day(1): 20.0})
    exposure = lagged_exposure(np.array([0.5, 0.25, 0.0]), impressions, [day(1), day(2)])
    assert exposure.tolist() == pytest.approx([0.5 * 20 + 0.25 * 10, 0.25 * 20])


def test_range_sums_add_a_key_over_inclusive_day_ranges() -> None:
    frame = pd.DataFrame(
        {
            "episode_id": ["a", "b", "a", "a"],
            "day": [day(3), day(0), day(0), day(1)],
            "downloads": [4.0, 9.0, 1.0, 2.0],
        }  # fmt: skip
    )
    sums = RangeSums(frame, "episode_id", "downloads")
    assert sums.total("a", day(1), day(3)) == 6.0
    assert sums.total("a", day(0), day(10)) == 7.0
    assert sums.total("a", day(2), day(2)) == 0.0
    assert sums.total("b", day(0), day(0)) == 9.0
    assert sums.total("zzz", day(0), day(9)) == 0.0
    assert sums.total("a", day(3), day(1)) == 0.0


def test_downloads_shape_recovers_a_noise_free_curve_and_weekdays() -> None:
    curve = np.exp(-np.arange(len(AGE_EDGES)) / 4.0)  # one value per age bucket
    weekday = np.array([1.2, 1.1, 1.0, 1.0, 1.0, 0.8, 0.9])
    levels = {"e1": 100.0, "e2": 250.0, "e3": 60.0}
    episodes = pd.DataFrame(
        {
            "episode_id": list(levels),
            "show_id": "s",
            "pub_date": [day(0), day(9), day(20)],
        }  # fmt: skip
    )
    rows = []
    for ep, pub in zip(episodes["episode_id"], episodes["pub_date"], strict=True):
        for d in day_range(pub, day(60)):
            age = (d - pub).days
            value = levels[ep] * curve[age_bucket(np.array([age]))[0]] * weekday[d.weekday()]
            rows.append((ep, d, value))
    episode_days = pd.DataFrame(rows, columns=["episode_id", "day", "downloads"])
    shape = fit_downloads_shape(observation_grid(episodes, episode_days, day(60)))
    assert shape is not None
    assert shape.weekday == pytest.approx(weekday / weekday.mean(), rel=1e-3)
    # Buckets up to age 60 were seen: their ratios are the curve's.
    seen = age_bucket(np.arange(61))
    ratio = shape.curve[seen] / shape.curve[0]
    assert ratio == pytest.approx(curve[seen] / curve[0], rel=1e-3)
    # Scaled so that a unit-level episode's first 30 days sum to 1.
    assert shape.curve[age_bucket(np.arange(30))].sum() == pytest.approx(1.0)


def test_launch_trend_is_the_within_show_slope_clipped_to_a_doubling_per_quarter() -> None:
    def stats(slope: float) -> pd.DataFrame:
        rows = []
        for show, base in (("a", 10_000.0), ("b", 40_000.0)):
            for k in range(6):
                pub = day(10 * k)
                rows.append((show, pub, base * np.exp(slope * 10 * k), 1.0))
        return pd.DataFrame(rows, columns=["show_id", "pub", "y", "exposure"])

    slope = np.log(1.3) / 50
    assert launch_trend(stats(slope)) == pytest.approx(slope, rel=1e-3)
    assert launch_trend(stats(np.log(8) / 50)) == pytest.approx(np.log(2) / 90)
    assert launch_trend(stats(slope).head(4)) == 0.0  # too few episodes to tell


def _flat_snapshot(data: TenantData, as_of: date) -> Snapshot:
    mean = MeanParams(
        fitted_through=as_of,
        shape=DownloadsShape(curve=np.full(len(AGE_EDGES), 1 / 30), weekday=np.ones(7)),
        delivery_rate={"*": 0.9},
        lag_rate=np.zeros(91),
        value_per_conversion=0.0,
    )
    return Snapshot(data, as_of, mean, Settings())


def test_unreleased_episodes_are_expected_on_the_show_cadence() -> None:
    releases = [datetime(2026, 3, 2, 8) + timedelta(days=7 * k) for k in range(5)]
    data = tenant_data(
        episodes=[(f"e{k}", "s", ts) for k, ts in enumerate(releases)],
        episode_days=[("e0", "s", day(0), 5.0)],
    )
    snapshot = _flat_snapshot(data, as_of=day(31))
    # The last release was day 28; weekly: days 35 and 42 fall before the flight's end (45).
    assert snapshot.release_days("s", day(45)) == [day(35), day(42)]
    # A show without a known cadence: any day after as_of.
    assert snapshot.release_days("unknown", day(34)) == [day(32), day(33), day(34)]


def test_placement_delivery_rate_shrinks_toward_its_group() -> None:
    data = tenant_data(
        campaigns=[("c", day(0), day(20))],
        episodes=[("e", "s", datetime(2026, 3, 1, 8))],
        episode_days=[("e", "s", day(0), 50.0), ("e", "s", day(1), 20.0)],
        placements=[("p", "c", "e", "s")],
        impressions=[("c", "p", "e", day(0), 40.0), ("c", "p", "e", day(1), 20.0)],
    )
    snapshot = _flat_snapshot(data, as_of=day(1))
    # 60 impressions of 70 downloads, with 30 downloads' worth of the group rate 0.9.
    assert snapshot.rates["p"] == pytest.approx((60 + 30 * 0.9) / (70 + 30))


def test_known_at_keeps_what_was_known_at_the_end_of_the_day() -> None:
    data = tenant_data(
        campaigns=[("c", day(0), day(20))],
        episodes=[("e1", "s", datetime(2026, 3, 2, 8)), ("e2", "s", datetime(2026, 3, 4, 0))],
        episode_days=[("e1", "s", day(0), 3.0), ("e1", "s", day(2), 4.0)],
        placements=[("p1", "c", "e1", "s"), ("p2", "c", "e2", "s")],
        impressions=[("c", "p1", "e1", day(0), 2.0), ("c", "p1", "e1", day(2), 3.0)],
        credits=[("c", day(1), day(0), 1.0, 10.0), ("c", day(2), day(0), 1.0, 20.0)],
    )
    known = data.known_at(day(1))
    assert known.data_end == day(1)
    assert known.episode_days["day"].max() == day(0)
    assert known.placement_days["impressions"].sum() == 2.0
    assert known.credit_days["revenue"].sum() == 10.0
    assert list(known.episodes["episode_id"]) == ["e1"]  # e2 comes out on day 2
    assert len(known.placements) == 2  # the buy is known


def test_as_of_is_the_last_day_or_the_latest_cut_off_with_a_campaign_in_flight() -> None:
    impressions = [("c1", "p", "e", day(0), 5.0), ("c1", "p", "e", day(69), 5.0)]
    in_flight = tenant_data(
        campaigns=[("c1", day(0), day(40)), ("c2", day(60), day(80))],
        impressions=impressions,
    )
    assert in_flight.data_end == day(69)
    assert choose_as_of(in_flight) == day(69)
    # No flight at day 69: cut-offs 62, 55, 48, ... (30 days of impressions before them);
    # c2 runs from day 60 (three days by day 62) to day 65.
    ended = tenant_data(
        campaigns=[("c1", day(0), day(40)), ("c2", day(60), day(65))],
        impressions=impressions,
    )
    assert choose_as_of(ended) == day(62)
    # Nothing in flight at any cut-off.
    gone = tenant_data(campaigns=[("c1", day(0), day(20))], impressions=impressions)
    assert choose_as_of(gone) is None


def _forecast(total: tuple[float, float, float], days: int = 2) -> Forecast:
    metrics = ("impressions", "conversions", "revenue")
    return Forecast(
        campaign_id="c",
        as_of=day(0),
        start_date=day(0),
        end_date=day(days),
        days=day_range(day(1), day(days)),
        to_date={m: 0.0 for m in metrics},
        mean={m: np.full(days, total[0] / days) for m in metrics},
        lower={m: np.full(days, total[1] / days) for m in metrics},
        upper={m: np.full(days, total[2] / days) for m in metrics},
        total={m: total for m in metrics},
    )


def test_scores_are_wape_mape_and_coverage_of_the_remaining_totals() -> None:
    cases = [
        Case(day(0), _forecast((90.0, 80.0, 100.0)), _forecast((50.0, 0.0, 60.0)),
             {m: np.array([50.0, 50.0]) for m in ("impressions", "conversions", "revenue")}),
        Case(day(0), _forecast((30.0, 25.0, 35.0)), _forecast((20.0, 10.0, 30.0)),
             {m: np.array([10.0, 10.0]) for m in ("impressions", "conversions", "revenue")}),
    ]  # fmt: skip
    model, baseline = score(cases, "model"), score(cases, "baseline")
    # Actual totals 100 and 20. Model errors 10 and 10: WAPE 20 / 120, MAPE (0.1 + 0.5) / 2.
    assert model["wape_impressions"] == pytest.approx(20 / 120)
    assert model["mape_conversions"] == pytest.approx(0.3)
    assert model["coverage_revenue"] == 0.5  # 100 in [80, 100]; 20 not in [25, 35]
    # Days: 50 in [40, 50] twice; 10 not in [12.5, 17.5] twice.
    assert model["daily_coverage_impressions"] == 0.5
    assert model["wape"] == pytest.approx(20 / 120)
    # Baseline errors 50 and 0.
    assert baseline["wape"] == pytest.approx(50 / 120)
    assert baseline["coverage_impressions"] == 0.5


def test_noise_wape_is_what_poisson_noise_costs_a_perfect_forecast() -> None:
    # E|A - mu| = sqrt(2 mu / pi): totals 2 and 8 give (sqrt(4/pi) + sqrt(16/pi)) / 10.
    assert noise_wape([2.0, 8.0]) == pytest.approx((np.sqrt(4 / np.pi) + np.sqrt(16 / np.pi)) / 10)
    assert noise_wape([400.0]) == pytest.approx(np.sqrt(800 / np.pi) / 400)
    assert noise_wape([0.0, 0.0]) == float("inf")
