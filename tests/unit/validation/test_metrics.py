"""Accuracy and bias on frames small enough to check by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from attribution_validation import metrics

CAMPAIGNS = ["c1", "c2"]
MODELS = ["a", "b"]


def _truth() -> pd.DataFrame:
    # c1 caused 4 orders (3 from pre-rolls, 1 mid-roll), c2 caused 2 (both mid-rolls).
    rows = [("h1", "c1", "pre"), ("h2", "c1", "pre"), ("h3", "c1", "pre"), ("h4", "c1", "mid"),
            ("h5", "c2", "mid"), ("h6", "c2", "mid")]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["household_key", "campaign_id", "position"])
    return frame.assign(conversions=1.0, revenue=10.0)


def _attributed() -> pd.DataFrame:
    # Model a: 3 to c1 (all pre), 2 to c2 (mid). Model b: 5 to c1 (4 pre + 1 mid), 0 to c2.
    rows = [("a", "h1", "c1", "pre", 1.0), ("a", "h2", "c1", "pre", 1.0),
            ("a", "h3", "c1", "pre", 1.0), ("a", "h5", "c2", "mid", 1.0),
            ("a", "h6", "c2", "mid", 1.0),
            ("b", "h1", "c1", "pre", 1.0), ("b", "h2", "c1", "pre", 1.0),
            ("b", "h3", "c1", "pre", 1.0), ("b", "h7", "c1", "pre", 0.5),
            ("b", "h7", "c1", "pre", 0.5), ("b", "h4", "c1", "mid", 1.0)]  # fmt: skip
    frame = pd.DataFrame(
        rows, columns=["model", "household_key", "campaign_id", "position", "conversions"]
    )
    return frame.assign(revenue=frame["conversions"] * 20.0)


def _value(rows: pd.DataFrame, model: str, metric: str) -> float:
    return float(rows[(rows["model"] == model) & (rows["metric"] == metric)]["value"].iloc[0])


def test_campaign_table_gives_every_model_every_campaign() -> None:
    table = metrics.campaign_table(_attributed(), _truth(), CAMPAIGNS, MODELS)
    assert len(table) == 4
    b_c2 = table[(table["model"] == "b") & (table["campaign_id"] == "c2")].iloc[0]
    assert b_c2["attributed_conversions"] == 0.0
    assert b_c2["true_conversions"] == 2.0
    assert b_c2["error_conversions"] == -2.0
    a_c1 = table[(table["model"] == "a") & (table["campaign_id"] == "c1")].iloc[0]
    assert a_c1["error_revenue"] == 3 * 20.0 - 4 * 10.0


def test_accuracy_by_hand() -> None:
    acc = metrics.accuracy(metrics.campaign_table(_attributed(), _truth(), CAMPAIGNS, MODELS))
    # a: errors -1 (c1), 0 (c2). b: errors +1 (c1), -2 (c2). True total 6.
    assert _value(acc, "a", "mae_conversions") == pytest.approx(0.5)
    assert _value(acc, "a", "mape_conversions") == pytest.approx((1 / 4 + 0) / 2)
    assert _value(acc, "a", "wape_conversions") == pytest.approx(1 / 6)
    assert _value(acc, "a", "net_error_conversions") == pytest.approx(-1 / 6)
    assert _value(acc, "b", "mae_conversions") == pytest.approx(1.5)
    assert _value(acc, "b", "mape_conversions") == pytest.approx((1 / 4 + 1) / 2)
    assert _value(acc, "b", "wape_conversions") == pytest.approx(3 / 6)
    assert _value(acc, "b", "net_error_conversions") == pytest.approx(-1 / 6)
    # Revenue: a credits 60 and 40 against 40 and 20; b 100 and 0 against 40 and 20.
    assert _value(acc, "a", "wape_revenue") == pytest.approx((20 + 20) / 60)
    assert _value(acc, "b", "mae_revenue") == pytest.approx((60 + 20) / 2)


def test_mape_ignores_campaigns_without_a_true_effect() -> None:
    truth = _truth()[lambda f: f["campaign_id"] == "c1"]
    acc = metrics.accuracy(metrics.campaign_table(_attributed(), truth, CAMPAIGNS, MODELS))
    # a credits 2 to c2 whose true effect is 0: in MAE and WAPE, not in MAPE.
    assert _value(acc, "a", "mape_conversions") == pytest.approx(1 / 4)
    assert _value(acc, "a", "mae_conversions") == pytest.approx((1 + 2) / 2)
    assert _value(acc, "a", "wape_conversions") == pytest.approx(3 / 4)


def test_accuracy_without_any_true_effect_is_undefined_not_zero() -> None:
    empty = _truth().iloc[0:0]
    acc = metrics.accuracy(metrics.campaign_table(_attributed(), empty, CAMPAIGNS, MODELS))
    assert math.isnan(_value(acc, "a", "wape_conversions"))
    assert math.isnan(_value(acc, "a", "mape_conversions"))


def test_group_bias_by_hand() -> None:
    bias = metrics.group_bias(_attributed(), _truth(), "position", CAMPAIGNS, MODELS)
    row = bias.set_index(["model", "group_value"])
    # b, pre: credited 4 (c1) + 0 (c2) against 3 + 0: mean signed error over 2 campaigns = 0.5.
    assert row.loc[("b", "pre"), "attributed"] == 4.0
    assert row.loc[("b", "pre"), "truth"] == 3.0
    assert row.loc[("b", "pre"), "mean_signed_error"] == pytest.approx(0.5)
    # b, mid: 1 (c1) + 0 (c2) against 1 + 2: (0 - 2) / 2 = -1.
    assert row.loc[("b", "mid"), "mean_signed_error"] == pytest.approx(-1.0)
    # Shares: b gives pre 4/5 of its credit, the truth has 3/6 there.
    assert row.loc[("b", "pre"), "share_gap"] == pytest.approx(4 / 5 - 3 / 6)
    assert row.loc[("a", "pre"), "share_gap"] == pytest.approx(3 / 5 - 3 / 6)
    # The gaps of one model add up to 0.
    assert bias.groupby("model")["share_gap"].sum().abs().max() == pytest.approx(0.0)


def test_group_bias_rejects_an_unknown_dimension() -> None:
    with pytest.raises(ValueError, match="unknown bias dimension 'colour'"):
        metrics.group_bias(_attributed(), _truth(), "colour", CAMPAIGNS, MODELS)


def test_rank_models_smallest_error_first_ties_share() -> None:
    rows = pd.DataFrame(
        [("a", "wape_conversions", 0.3), ("b", "wape_conversions", 0.1),
         ("c", "wape_conversions", 0.3), ("d", "wape_conversions", float("nan"))],
        columns=["model", "metric", "value"],
    )  # fmt: skip
    ranks = metrics.rank_models(rows)
    assert ranks.to_dict() == {"b": 1, "a": 2, "c": 2, "d": 4}


def test_rank_models_ignores_rounding_noise() -> None:
    # 0.1 + 0.2 != 0.3 in floating point; as errors of two models they are the same.
    rows = pd.DataFrame(
        [("a", "wape_conversions", 0.1 + 0.2), ("b", "wape_conversions", 0.3),
         ("c", "wape_conversions", 0.31)],
        columns=["model", "metric", "value"],
    )  # fmt: skip
    assert metrics.rank_models(rows).to_dict() == {"a": 1, "b": 1, "c": 3}
