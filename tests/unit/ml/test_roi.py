"""ROI's logic on small hand-made frames: the horizon and maturity, the as-of features, the
incremental shares, the response curves, the greedy allocation, the split, the baseline, the
metrics and the truth back-test's helpers."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from models_ml.family import NotEnoughData
from models_ml.roi import allocation, features, placements, response
from models_ml.roi.allocation import AllocationSettings, allocate, default_budget
from models_ml.roi.backtest import proportional_split, true_show_revenue
from models_ml.roi.baseline import ShowMeanBaseline
from models_ml.roi.holdout import time_split
from models_ml.roi.incrementality import incremental_shares, show_shares
from models_ml.roi.metrics import regression_metrics
from models_ml.roi.model import RoiModel, fit_regressor
from models_ml.roi.reads import RoiData, _one_count_window

D = pd.Timestamp
H = 28


def _placements(rows: list[dict]) -> pd.DataFrame:
    defaults = {
        "campaign_id": "c1",
        "show_id": "a",
        "position": "pre",
        "read_type": "produced",
        "insertion_type": "dynamic",
        "cost": 10.0,
        "ad_start_s": 5.0,
        "ad_end_s": 35.0,
        "published_date": date(2025, 12, 20),
        "episode_duration_s": 1800.0,
        "campaign_start": date(2026, 1, 1),
        "campaign_end": date(2026, 1, 20),
    }
    frame = pd.DataFrame([{**defaults, **r} for r in rows])
    frame["episode_id"] = frame.get("episode_id", frame["placement_id"] + "_ep")
    return frame


def _data(
    placement_rows: pd.DataFrame,
    credits: list[tuple[str, str, float, float]] = (),
    impressions: list[tuple[str, str, float, float]] = (),
    listeners: list[tuple[str, str, str, float]] = (),
    reach: list[tuple[str, str, float, float]] = (),
    incrementality: pd.DataFrame | None = None,
    data_end: date | None = date(2026, 2, 6),
) -> RoiData:
    return RoiData(
        placements=placement_rows,
        impressions=pd.DataFrame(
            impressions,
            columns=["placement_id", "impression_date", "impressions", "household_ip_impressions"],
        ),
        credits=pd.DataFrame(
            credits, columns=["placement_id", "conversion_date", "conversions", "revenue"]
        ),
        campaign_show_reach=pd.DataFrame(
            reach, columns=["campaign_id", "show_id", "impressions", "reach"]
        ),
        incrementality=incrementality
        if incrementality is not None
        else pd.DataFrame(
            columns=[
                "campaign_id",
                "matched_exposed_households",
                "exposed_conversion_rate",
                "control_conversion_rate",
                "result_status",
            ]  # fmt: skip
        ),
        listeners=pd.DataFrame(
            listeners, columns=["show_id", "period", "period_start", "listeners"]
        ),
        data_end=data_end,
    )


# p1 starts with its campaign (its episode is older); p2's episode comes out mid-flight; p3 is
# free; p4's episode comes out after the data ends.
PLACEMENTS = _placements(
    [
        {"placement_id": "p1"},
        {"placement_id": "p2", "published_date": date(2026, 1, 10), "read_type": "host"},
        {"placement_id": "p3", "cost": 0.0, "position": "post"},
        {
            "placement_id": "p4",
            "published_date": date(2026, 3, 1),
            "campaign_end": date(2026, 3, 9),
        },
    ]
)
CREDITS = [
    ("p1", "2026-01-05", 1.0, 50.0),
    ("p1", "2026-01-28", 1.0, 30.0),  # the horizon's last day (start + 27)
    ("p1", "2026-01-29", 1.0, 100.0),  # the day after: not in the horizon
    ("p2", "2026-01-12", 0.5, 40.0),
    ("p3", "2026-01-03", 1.0, 70.0),
]


def test_the_horizon_maturity_and_the_actual_roas_and_cac() -> None:
    frame = placements.placement_frame(_data(PLACEMENTS, CREDITS), H)
    assert list(frame["start"]) == [
        D("2026-01-01"),
        D("2026-01-10"),
        D("2026-01-01"),
        D("2026-03-01"),
    ]
    assert frame.at["p1", "horizon_end"] == D("2026-01-29")
    assert frame.at["p1", "revenue"] == 80.0 and frame.at["p1", "conversions"] == 2.0
    assert frame.at["p1", "roas"] == pytest.approx(8.0) and frame.at["p1", "cac"] == 5.0
    # p2's horizon runs to 02-06, the last conversion day: just mature.
    assert frame.at["p2", "mature"] and frame.at["p2", "roas"] == pytest.approx(4.0)
    assert frame.at["p2", "cac"] == pytest.approx(20.0)
    # Free placements have no ROAS; placements whose horizon has not passed have no actuals.
    assert frame.at["p3", "mature"] and math.isnan(frame.at["p3", "roas"])
    assert not frame.at["p4", "mature"] and math.isnan(frame.at["p4", "roas"])
    one_day_less = placements.placement_frame(
        _data(PLACEMENTS, CREDITS, data_end=date(2026, 2, 5)), H
    )
    assert not one_day_less.at["p2", "mature"] and math.isnan(one_day_less.at["p2", "roas"])
    assert placements.data_window(frame) == (date(2026, 1, 1), date(2026, 2, 6))


def test_one_counting_window_is_kept() -> None:
    rows = pd.DataFrame(
        {
            "placement_id": ["p1", "p1"],
            "count_window": ["rolling_24h_first", "calendar_day"],
            "impression_date": [date(2026, 1, 2)] * 2,
            "impressions": [5.0, 4.0],
            "household_ip_impressions": [3.0, 3.0],
        }
    )
    kept = _one_count_window(rows)
    assert list(kept["impressions"]) == [4.0] and "count_window" not in kept


def test_features_use_only_what_was_known_on_the_as_of_date() -> None:
    rows = _placements(
        [
            {"placement_id": "p1", "episode_id": "e1"},
            {"placement_id": "p2", "episode_id": "e1", "position": "mid", "read_type": "host",
             "insertion_type": "baked_in", "ad_start_s": 900.0, "ad_end_s": 960.0, "cost": 20.0},
            {"placement_id": "p3", "episode_id": "e2", "campaign_id": "c2", "position": "post",
             "published_date": date(2026, 2, 1), "campaign_start": date(2026, 2, 1),
             "campaign_end": date(2026, 3, 31), "insertion_type": None},
        ]
    )  # fmt: skip
    data = _data(
        rows,
        credits=[("p1", "2026-01-05", 2.0, 80.0), ("p2", "2026-01-06", 1.0, 20.0)],
        impressions=[("p1", "2026-01-02", 40.0, 30.0), ("p2", "2026-01-02", 10.0, 5.0)],
        listeners=[
            ("a", "week", date(2025, 12, 29), 100.0),  # complete on 01-05
            ("a", "week", date(2026, 1, 5), 200.0),  # complete on 01-12
        ],
        reach=[("c1", "a", 300.0, 200.0)],  # c1 ends 01-20: known from 01-21
        data_end=date(2026, 3, 31),
    )
    frame = placements.placement_frame(data, H)
    as_of = pd.Series([D("2026-01-10"), D("2026-01-10"), D("2026-02-01")], index=frame.index)
    x = features.feature_matrix(data, frame, as_of, H)
    assert list(x.columns) == features.FEATURES
    assert list(x["position_code"]) == [0.0, 1.0, 2.0]
    assert list(x["host_read"]) == [0.0, 1.0, 0.0]
    assert x.at["p1", "dynamic_insertion"] == 1.0 and x.at["p2", "dynamic_insertion"] == 0.0
    assert math.isnan(x.at["p3", "dynamic_insertion"])
    assert list(x["ad_seconds"]) == [30.0, 60.0, 30.0]
    assert list(x["ad_load"]) == [2.0, 2.0, 1.0]  # two ads in e1
    assert x.at["p1", "episode_age_days"] == 12.0  # published 12-20, starts 01-01
    assert x.at["p1", "flight_days"] == 20.0 and x.at["p1", "flight_share_in_horizon"] == 1.0
    assert x.at["p3", "flight_days"] == 59.0
    assert x.at["p3", "flight_share_in_horizon"] == pytest.approx(28 / 59)
    assert x.at["p1", "campaign_show_placements"] == 2.0
    assert x.at["p1", "log_cost"] == pytest.approx(math.log(10.0))
    # On 01-10 only the week of 12-29 is complete; on 02-01 both are (mean of 100 and 200).
    assert x.at["p1", "show_weekly_listeners"] == 100.0
    assert x.at["p2", "cost_per_weekly_listener"] == pytest.approx(0.2)
    assert x.at["p3", "show_weekly_listeners"] == 150.0
    # Nothing had matured by 01-10; by 02-01 p1 and p2 had (their horizons ended 01-29).
    assert np.isnan(x.loc[["p1", "p2"], "show_past_roas"]).all()
    assert x.at["p3", "show_past_roas"] == pytest.approx((8.0 + 1.0) / 2)
    assert x.at["p3", "show_past_cac"] == pytest.approx(30.0 / 3.0)
    assert x.at["p3", "show_past_revenue_per_impression"] == pytest.approx(100.0 / 50.0)
    assert x.at["p3", "show_past_impressions_per_dollar"] == pytest.approx(50.0 / 30.0)
    assert x.at["p3", "show_past_placements"] == 2.0 and x.at["p1", "show_past_placements"] == 0
    assert x.at["p3", "show_past_frequency"] == pytest.approx(1.5)
    assert math.isnan(x.at["p1", "show_past_frequency"])
    assert math.isnan(x.at["p3", "campaign_past_roas"])  # c2 has no matured placement
    assert x.at["p3", "tenant_past_roas"] == pytest.approx(4.5)
    # Revenue per conversion for CAC: the show's 100 / 3, or nothing known yet.
    order_value = features.show_average_order_value(frame, as_of)
    assert order_value["p3"] == pytest.approx(100.0 / 3.0) and math.isnan(order_value["p1"])


def _incrementality(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(c, n, pe, pc, "insufficient_sample") for c, n, pe, pc in rows],
        columns=[
            "campaign_id",
            "matched_exposed_households",
            "exposed_conversion_rate",
            "control_conversion_rate",
            "result_status",
        ],  # fmt: skip
    )


def test_incremental_shares_are_pooled_and_shrunk() -> None:
    # c1: E = 100, B = 60; c2: E = 50, B = 45. Tenant: 1 - 105 / 150 = 0.3.
    shares = incremental_shares(
        _incrementality([("c1", 1000, 0.10, 0.06), ("c2", 500, 0.10, 0.09)])
    )
    assert shares.tenant == pytest.approx(0.3)
    assert shares.by_campaign["c1"] == pytest.approx((40 + 30 * 0.3) / 130)
    assert shares.by_campaign["c2"] == pytest.approx((5 + 30 * 0.3) / 80)
    assert shares.for_campaign("c9") == pytest.approx(0.3)
    # A campaign whose controls bought more is clipped at 0; no rows: no estimate.
    worse = incremental_shares(_incrementality([("c1", 1000, 0.05, 0.20)]))
    assert worse.tenant == 0.0 and worse.by_campaign["c1"] == 0.0
    assert incremental_shares(_incrementality([])).tenant is None

    spend = pd.DataFrame(
        {"show_id": ["a", "a", "b"], "campaign_id": ["c1", "c2", "c2"], "cost": [30.0, 10.0, 5.0]}
    )
    by_show = show_shares(spend, shares)
    c1, c2 = shares.by_campaign["c1"], shares.by_campaign["c2"]
    assert by_show["a"] == pytest.approx((30 * c1 + 10 * c2) / 40)
    assert by_show["b"] == pytest.approx(c2)


def test_the_response_curve_passes_through_the_predicted_reference_point() -> None:
    rows = _placements([{"placement_id": "p1", "cost": 60.0}, {"placement_id": "p2", "cost": 40.0}])
    data = _data(
        rows,
        # 4,000 impressions in two ISO weeks (01-02 is in the week of 12-29, 01-06 in the next).
        impressions=[("p1", "2026-01-02", 2500.0, 2000.0), ("p2", "2026-01-06", 1500.0, 1000.0)],
        listeners=[
            ("a", "month", date(2026, 1, 1), 1500.0),
            ("a", "month", date(2026, 2, 1), 2000.0),
            ("a", "week", date(2026, 1, 5), 800.0),
        ],
    )
    frame = placements.placement_frame(data, H)
    curves = response.show_responses(
        data, frame, pd.Series({"a": 10.0}), pd.Series({"a": 0.5}), 0.3, 30, 3.0
    )
    (curve,) = curves.to_dict("records")
    assert curve["cost_per_impression"] == pytest.approx(100 / 4000)
    assert curve["saturation_spend"] == pytest.approx(0.025 * 2000)  # b = c × largest month
    assert curve["reference_spend"] == pytest.approx(100 / (14 / 30))  # s0: 2 weeks on air
    assert curve["household_ip_share"] == pytest.approx(0.75)
    s0, b = 100 / (14 / 30), 50.0
    reference_revenue = 10.0 * s0 * 0.5 / 0.75
    assert curve["saturation_revenue"] == pytest.approx(reference_revenue / (1 - math.exp(-s0 / b)))
    assert response.response_revenue(curve["saturation_revenue"], b, s0) == pytest.approx(
        reference_revenue
    )
    assert curve["frequency_cap_spend"] == pytest.approx(3.0 * 800 * 30 / 7 * 0.025)
    # A show without a share of its own takes the tenant's.
    other = response.show_responses(
        data, frame, pd.Series({"a": 10.0}), pd.Series(dtype=float), 0.3, 30, 3.0
    )
    assert other.at[0, "incremental_share"] == 0.3


def _curves(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["show_id", "saturation_revenue", "saturation_spend", "frequency_cap_spend"]
    )


def test_the_greedy_allocation_equalises_marginal_returns() -> None:
    # Unconstrained optimum of a1(1-e^-s1/b1) + a2(1-e^-s2/b2) with s1 + s2 = B: equal slopes,
    # s1 = (ln(a1 b2 / (a2 b1)) + B / b2) / (1 / b1 + 1 / b2).
    a1, b1, a2, b2, budget = 1000.0, 100.0, 600.0, 50.0, 150.0
    settings = AllocationSettings(min_share=0.0, max_share=1.0, steps=3000)
    result = allocate(_curves([("x", a1, b1, 1e9), ("y", a2, b2, 1e9)]), budget, settings)
    s1 = (math.log(a1 * b2 / (a2 * b1)) + budget / b2) / (1 / b1 + 1 / b2)
    assert result.at[0, "allocated_spend"] == pytest.approx(s1, abs=budget / 3000)
    assert result["allocated_spend"].sum() == pytest.approx(budget)
    assert list(result["binding_constraint"]) == [allocation.BINDING_NONE] * 2
    assert result.at[0, "predicted_incremental_revenue"] == pytest.approx(
        a1 * (1 - math.exp(-result.at[0, "allocated_spend"] / b1))
    )


def test_minimum_maximum_and_frequency_cap_bind() -> None:
    settings = AllocationSettings(min_share=0.1, max_share=0.5, steps=1000)
    # "best" would take everything but stops at half the budget (max); "capped" can absorb 15
    # (its frequency cap); "poor" earns little and keeps its minimum of 10.
    curves = _curves(
        [
            ("best", 1e6, 1e4, 1e9),
            ("capped", 5e5, 1e4, 15.0),
            ("poor", 1.0, 1e4, 1e9),
            ("rest", 1e4, 1e4, 1e9),
        ]
    )
    result = allocate(curves, 100.0, settings).set_index("show_id")
    assert result.at["best", "allocated_spend"] == pytest.approx(50.0)
    assert result.at["best", "binding_constraint"] == allocation.BINDING_MAX
    assert result.at["capped", "allocated_spend"] == pytest.approx(15.0)
    assert result.at["capped", "max_spend"] == 15.0
    assert result.at["capped", "binding_constraint"] == allocation.BINDING_FREQUENCY_CAP
    assert result.at["poor", "allocated_spend"] == pytest.approx(10.0)
    assert result.at["poor", "binding_constraint"] == allocation.BINDING_MIN
    assert result.at["rest", "allocated_spend"] == pytest.approx(25.0)
    assert result.at["rest", "binding_constraint"] == allocation.BINDING_NONE
    assert (result["budget_total"] == 100.0).all()


def test_minimums_shrink_to_what_fits_and_leftover_budget_stays_unspent() -> None:
    settings = AllocationSettings(min_share=0.4, max_share=1.0)
    result = allocate(
        _curves([("a", 10.0, 10.0, 1e9), ("b", 10.0, 10.0, 1e9), ("c", 10.0, 10.0, 1e9)]),
        90.0,
        settings,
    )
    # Three minimums of 36 exceed 90: each is scaled to 30, and identical shows split evenly.
    assert list(result["min_spend"]) == pytest.approx([30.0] * 3)
    assert list(result["allocated_spend"]) == pytest.approx([30.0] * 3)
    capped = allocate(_curves([("a", 10.0, 10.0, 5.0), ("b", 10.0, 10.0, 7.0)]), 100.0, settings)
    # Neither show can absorb its minimum (40): the minimum becomes the cap, 12 of 100 is spent.
    assert list(capped["min_spend"]) == [5.0, 7.0]
    assert capped["allocated_spend"].sum() == pytest.approx(12.0)
    assert set(capped["binding_constraint"]) == {allocation.BINDING_FREQUENCY_CAP}
    with pytest.raises(ValueError):
        AllocationSettings(min_share=0.6, max_share=0.5)


def test_ties_are_broken_by_show_id_so_the_result_is_deterministic() -> None:
    curves = _curves([("b", 10.0, 10.0, 1e9), ("a", 10.0, 10.0, 1e9)])
    settings = AllocationSettings(min_share=0.0, max_share=1.0, steps=3)
    result = allocate(curves, 3.0, settings)
    # Increments of 1: a, b, then a again (a sorts first when the slopes are equal).
    assert list(result["show_id"]) == ["a", "b"]
    assert list(result["allocated_spend"]) == pytest.approx([2.0, 1.0])


def test_the_default_budget_is_the_last_thirty_days_of_placements() -> None:
    frame = pd.DataFrame(
        {
            "start": [D("2026-01-01"), D("2026-01-31"), D("2026-02-15"), D("2026-03-01")],
            "cost": [100.0, 7.0, 5.0, 3.0],
        }
    )
    # The latest start is 03-01; 30 days before is 01-30, excluded: 01-31 onwards counts.
    assert default_budget(frame, 30) == pytest.approx(15.0)
    assert default_budget(frame.iloc[:0], 30) == 0.0


def _mature(starts: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"placement_id": [f"p{i:02d}" for i in range(len(starts))], "start": pd.to_datetime(starts)}
    )


def test_the_time_split_keeps_a_day_together_and_needs_enough_rows() -> None:
    starts = [f"2026-01-{d:02d}" for d in range(1, 11)]  # ten days, one placement each
    split = time_split(_mature(starts), 0.3, 5, 2)
    assert split.cutoff == D("2026-01-08")
    assert len(split.train) == 7 and len(split.holdout) == 3
    assert split.train["start"].max() < split.holdout["start"].min()
    as_of = split.holdout_as_of(split.holdout["start"])
    assert (as_of == D("2026-01-08")).all()  # 01-08, 01-09 and 01-10 all as of the cutoff
    assert split.holdout_as_of(split.train["start"]).equals(split.train["start"])
    same_day = _mature(["2026-01-01"] * 4 + ["2026-01-02"] * 6)
    split = time_split(same_day, 0.3, 2, 2)  # the 8th row starts on 01-02: all of 01-02 holds out
    assert len(split.train) == 4 and len(split.holdout) == 6
    with pytest.raises(NotEnoughData, match="10 mature placements with a cost"):
        time_split(_mature(starts), 0.3, 9, 2)
    with pytest.raises(NotEnoughData, match="too few days"):
        time_split(_mature(["2026-01-01"] * 10), 0.3, 2, 2)


def test_the_baseline_is_the_show_mean_then_the_tenant_mean() -> None:
    train = pd.DataFrame({"show_id": ["a", "a", "b"], "roas": [10.0, 20.0, 40.0]})
    baseline = ShowMeanBaseline.fit(train, "roas")
    predicted = baseline.predict(pd.DataFrame({"show_id": ["a", "b", "new"]}))
    assert list(predicted) == pytest.approx([15.0, 40.0, 70.0 / 3])


def test_metrics_by_hand() -> None:
    got = regression_metrics("roas", pd.Series([1.0, 2.0, 3.0]), pd.Series([1.0, 3.0, 5.0]))
    assert got["roas_mae"] == pytest.approx(1.0)
    assert got["roas_rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert got["roas_spearman"] == pytest.approx(1.0)
    constant = regression_metrics("roas", pd.Series([2.0, 2.0, 2.0]), pd.Series([1.0, 3.0, 5.0]))
    assert "roas_spearman" not in constant and constant["roas_mae"] == pytest.approx(5 / 3)
    # Rows without an actual are left out.
    partial = regression_metrics("cac", pd.Series([1.0, 9.0]), pd.Series([2.0, np.nan]))
    assert partial == {"cac_mae": 1.0, "cac_rmse": 1.0}


def test_the_booster_is_deterministic_and_cac_follows_from_roas() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(60, len(features.FEATURES))), columns=features.FEATURES)
    roas = pd.Series(np.exp(1.0 + x["position_code"]) + rng.uniform(0, 1, 60))
    first = fit_regressor(x, roas).predict(x.to_numpy(float))
    second = fit_regressor(x, roas).predict(x.to_numpy(float))
    assert np.array_equal(first, second)
    model = RoiModel(fit_regressor(x, roas), list(features.FEATURES), H, "linear", 50.0)
    predicted = model.predict_roas(x)
    assert (predicted >= 0).all()
    assert np.corrcoef(predicted, roas)[0, 1] > 0.8
    cac = model.predict_cac(pd.Series([10.0, 0.0, 5.0]), pd.Series([80.0, 80.0, np.nan]))
    assert cac[0] == pytest.approx(8.0) and math.isnan(cac[1]) and cac[2] == pytest.approx(10.0)


def test_the_backtest_credits_caused_orders_to_the_first_exposing_placement_show() -> None:
    orders = pd.DataFrame(
        {
            "household_key": [1, 1, 2, 3],
            "caused_by_campaign_id": ["c1", None, "c1", "c2"],
            "revenue": [50.0, 999.0, 30.0, 20.0],
        }
    )
    exposures = pd.DataFrame(
        {
            "household_key": [1, 2, 3, 3],
            "campaign_id": ["c1", "c1", "c1", "c2"],
            "first_placement_id": ["p1", "p2", "p1", "p3"],
        }
    )
    shows = pd.Series({"p1": "a", "p2": "b", "p3": "b"})
    revenue = true_show_revenue(orders, exposures, shows)
    assert revenue.to_dict() == {"a": 50.0, "b": 50.0}  # the baseline order is nobody's
    split = proportional_split(pd.Series({"a": 3.0, "b": 1.0, "c": -2.0}), 100.0)
    assert split.to_dict() == {"a": 75.0, "b": 25.0, "c": 0.0}
    assert proportional_split(pd.Series({"a": 0.0, "b": 0.0}), 10.0).to_dict() == {
        "a": 5.0,
        "b": 5.0,
    }
