"""The anomaly detector's parts on small hand-made series: the seasonal baseline, the share
deviations, the injections, the metrics at a false-positive budget, and the alert rows."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from models_ml.anomalies import alerts, injection
from models_ml.anomalies.backtest import budget_threshold, metrics_at_budget, metrics_at_threshold
from models_ml.anomalies.detector import GATE, fit_detector, score_shows
from models_ml.anomalies.features import SHOW_FEATURES, dense_shows, show_features
from models_ml.anomalies.seasonal import robust_deviation, seasonal_baseline

START = pd.Timestamp("2024-01-01")  # a Monday


def _weekly(weeks: int, weekday: float = 10.0, saturday: float = 20.0) -> pd.Series:
    days = pd.date_range(START, periods=7 * weeks, freq="D")
    values = np.where(days.day_of_week == 5, saturday, weekday)
    return pd.Series(values, index=days)


def test_seasonal_baseline_learns_the_weekday_and_scores_against_it() -> None:
    y = _weekly(10)
    base = seasonal_baseline(y)
    last_saturday = y.index[y.index.day_of_week == 5][-1]
    last_tuesday = y.index[y.index.day_of_week == 1][-1]
    # level: median of 28 days of 10s and 20s (four 20s) = 10; Saturday's factor 20/10 = 2
    assert base.expected[last_saturday] == pytest.approx(20.0)
    assert base.expected[last_tuesday] == pytest.approx(10.0)
    # a perfectly regular past has no residual: the spread is the counting noise sqrt(expected)
    assert base.spread[last_saturday] == pytest.approx(np.sqrt(20.0))
    assert base.z[last_saturday] == pytest.approx(0.0)

    spiked = y.copy()
    spiked[last_saturday] = 40.0
    z = seasonal_baseline(spiked).z[last_saturday]
    assert z == pytest.approx(20.0 / np.sqrt(20.0))


def test_seasonal_baseline_looks_back_only() -> None:
    y = _weekly(10)
    day = y.index[50]
    changed = y.copy()
    changed[day] = 500.0
    before, after = seasonal_baseline(y), seasonal_baseline(changed)
    # the day's own value never enters its baseline; only later days see it
    assert after.expected[day] == before.expected[day]
    assert after.spread[day] == before.spread[day]
    pd.testing.assert_series_equal(after.expected[:day], before.expected[:day])


def test_seasonal_baseline_needs_history() -> None:
    base = seasonal_baseline(_weekly(10))
    # the level needs 14 earlier days; the weekday factor three earlier same weekdays on top
    assert base.expected.iloc[:15].isna().all()
    assert base.expected.iloc[35:].notna().all()
    unweighted = seasonal_baseline(_weekly(10), weekly=False)
    assert unweighted.expected.iloc[14:].notna().all()


def test_seasonal_baseline_unit_scales_the_noise_floor() -> None:
    y = pd.Series(100.0, index=pd.date_range(START, periods=70, freq="D"))
    # spend of 100 a day in impressions worth 0.25 each: noise sqrt(100 x 0.25) = 5
    assert seasonal_baseline(y, unit=0.25).spread.iloc[-1] == pytest.approx(5.0)
    frame = pd.DataFrame({"a": y, "b": y})
    spread = seasonal_baseline(frame, unit=pd.Series({"a": 1.0, "b": 4.0})).spread.iloc[-1]
    assert spread["a"] == pytest.approx(10.0) and spread["b"] == pytest.approx(20.0)


def test_robust_deviation_in_floors_of_spread() -> None:
    x = pd.Series(0.1, index=pd.date_range(START, periods=40, freq="D"))
    x.iloc[-1] = 0.5
    dev = robust_deviation(x, floor=0.02)
    assert dev.usual.iloc[-1] == pytest.approx(0.1)
    assert dev.spread.iloc[-1] == pytest.approx(0.02)
    assert dev.deviation.iloc[-1] == pytest.approx(0.4 / 0.02)


def _day_row(**changes: float) -> dict:
    row = {
        "downloads": 20.0,
        "requests": 40.0,
        "countable_bytes": 2000.0,
        "new_network_bytes": 200.0,
        "top_network_bytes": 150.0,
        "top_network_requests": 3.0,
        "top_network_key": "nk-home",
        "top_user_agent_bytes": 400.0,
        "top_user_agent": "Overcast/1",
        "top_user_agent_name": "Overcast",
    }
    return row | changes


def test_flood_is_one_new_network_fetching_the_audio_many_times() -> None:
    rng = np.random.default_rng(1)
    row = _day_row()
    out = injection.inject_show_day(row, "flood", expected=20.0, per_download=100.0, rng=rng)
    fetched = out["countable_bytes"] - row["countable_bytes"]
    fetches = fetched / 100.0
    assert fetches >= injection.FLOOD_MIN_DOWNLOADS
    assert fetches == pytest.approx(round(fetches))
    assert out["top_network_bytes"] == pytest.approx(fetched)  # the flood is the busiest
    assert out["top_network_key"] == "injected-flood"
    assert out["new_network_bytes"] == pytest.approx(row["new_network_bytes"] + fetched)
    # IAB counting de-duplicates: at most 3 user agents x 2 episodes more downloads
    assert 1 <= out["downloads"] - row["downloads"] <= 6
    assert row["top_network_key"] == "nk-home"  # the input is not changed


def test_user_agent_flood_counts_every_download_from_new_networks() -> None:
    rng = np.random.default_rng(2)
    row = _day_row()
    out = injection.inject_show_day(row, "user_agent_flood", 20.0, 100.0, rng)
    added = out["downloads"] - row["downloads"]
    assert added >= injection.FLOOD_MIN_DOWNLOADS
    assert out["countable_bytes"] == pytest.approx(2000.0 + 100.0 * added)
    assert out["top_user_agent_bytes"] == pytest.approx(100.0 * added)
    assert out["top_network_bytes"] == row["top_network_bytes"]


def test_drop_scales_every_count_by_one_fraction() -> None:
    rng = np.random.default_rng(3)
    out = injection.inject_show_day(_day_row(), "drop", 20.0, 100.0, rng)
    fraction = out["countable_bytes"] / 2000.0
    assert 0.0 <= fraction <= injection.DROP_FRACTIONS[1]
    assert out["top_network_bytes"] == pytest.approx(150.0 * fraction)
    assert out["downloads"] == np.floor(20.0 * fraction)


def test_spike_grows_the_day_by_a_factor_of_its_expected_value() -> None:
    rng = np.random.default_rng(4)
    out = injection.inject_show_day(_day_row(), "spike", 20.0, 100.0, rng)
    low, high = injection.SPIKE_FACTORS
    assert 20.0 + (low - 1) * 20.0 - 1 <= out["downloads"] <= 20.0 + (high - 1) * 20.0 + 1
    assert out["top_network_bytes"] == 150.0  # many listeners, none of them dominant
    value = injection.inject_campaign_value(2.0, "spike", 1.0, 1.0, np.random.default_rng(4))
    # below SPIKE_MIN_EVENTS expected, a spike adds (k - 1) x 3 events
    assert 2.0 + (low - 1) * 3 <= value <= 2.0 + (high - 1) * 3


def test_drops_need_enough_expected_events() -> None:
    assert injection.eligible_kinds(injection.SHOW_KINDS, 3.9) == [
        "spike",
        "flood",
        "user_agent_flood",
    ]
    assert "drop" in injection.eligible_kinds(injection.CAMPAIGN_KINDS, 4.0)


def test_metrics_at_a_false_positive_budget() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 5.0, 0.35, 0.5, 0.05, 0.15, 3.0, 0.25])
    injected = np.array([0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0], dtype=bool)
    # 8 untouched days, budget 25%: 2 may be flagged, so the threshold is the 3rd highest
    # untouched score (0.3): flagged 0.4, 0.9 (false) and 5.0, 0.35, 0.5, 3.0 (all injected)
    assert budget_threshold(scores, injected, budget=0.25) == pytest.approx(0.3)
    m = metrics_at_budget(scores, injected, budget=0.25)
    assert m["recall"] == pytest.approx(1.0)
    assert m["precision"] == pytest.approx(4 / 6)
    assert m["f1"] == pytest.approx(2 * (4 / 6) / (1 + 4 / 6))
    assert m["false_positive_rate"] == pytest.approx(2 / 8)
    at_one = metrics_at_threshold(scores, injected)
    assert at_one["recall"] == pytest.approx(0.5)  # 5.0 and 3.0
    assert at_one["precision"] == pytest.approx(1.0)


def test_severity_bands() -> None:
    assert [alerts.severity(s) for s in (1.01, 1.5, 2.0, 2.99, 3.0)] == [
        "low",
        "medium",
        "high",
        "high",
        "critical",
    ]
    # a concentration: the share above the usual busiest one's (here 5%)
    assert [alerts.concentration_severity(s, 0.05) for s in (0.19, 0.21, 0.31, 0.56)] == [
        "low",
        "medium",
        "high",
        "critical",
    ]


def test_anomaly_ids_are_deterministic_and_distinct() -> None:
    day = date(2024, 3, 5)
    a = alerts.anomaly_id("acme", day, "traffic_share", "network", "nk1", "show:s1")
    assert a == alerts.anomaly_id("acme", day, "traffic_share", "network", "nk1", "show:s1")
    assert a != alerts.anomaly_id("acme", day, "traffic_share", "network", "nk1", "show:s2")
    assert a != alerts.anomaly_id("globex", day, "traffic_share", "network", "nk1", "show:s1")


def _shows(days: int, flood_day: int | None = None) -> pd.DataFrame:
    """Three shows of steady traffic: 20 downloads of 100 bytes a day, the busiest network
    fetching two of them, with a little noise; optionally a one-network flood on one day."""
    rng = np.random.default_rng(7)
    rows = []
    for show in ("s1", "s2", "s3"):
        for offset in range(days):
            downloads = float(rng.poisson(20))
            top = float(rng.integers(1, 4))
            row = _day_row(
                downloads=downloads,
                requests=downloads * 2,
                countable_bytes=downloads * 100.0,
                new_network_bytes=downloads * 100.0 * rng.uniform(0.05, 0.15),
                top_network_bytes=top * 100.0,
                top_network_key=f"nk-{show}-{offset % 5}",
                top_network_episode_id=f"{show}-e1",
                top_user_agent_bytes=downloads * 100.0 * rng.uniform(0.15, 0.25),
                releases=0.0,
            )
            if show == "s1" and offset == flood_day:
                row = row | {
                    "countable_bytes": row["countable_bytes"] + 3000.0,
                    "top_network_bytes": 3000.0,
                    "top_network_key": "nk-flood",
                    "new_network_bytes": row["new_network_bytes"] + 3000.0,
                    "downloads": row["downloads"] + 1,
                }
            rows.append({"show_id": show, "day": START + pd.Timedelta(days=offset), **row})
    return pd.DataFrame(rows)


def test_the_forest_flags_a_flood_the_seasonal_baseline_misses() -> None:
    days = 90
    frame = show_features(
        dense_shows(_shows(days, flood_day=days - 1), START + pd.Timedelta(days=days - 1))
    )
    training = frame[frame["day"] < START + pd.Timedelta(days=days - 14)]
    campaigns = pd.DataFrame(columns=["metric", "z", "complete"])
    detector = fit_detector(training, campaigns)
    scored = score_shows(detector, frame).set_index(["show_id", "day"])
    flood = scored.loc[("s1", START + pd.Timedelta(days=days - 1))]
    assert flood["network_share_dev"] >= GATE
    assert flood["downloads_part"] < 1  # one more download: invisible to the downloads series
    assert flood["forest_part"] > 1 and flood["combined_score"] > 1
    # the untouched show-days of the last two weeks stay below the line
    recent = scored[scored.index.get_level_values("day") >= START + pd.Timedelta(days=days - 14)]
    quiet = recent.drop(index=("s1", START + pd.Timedelta(days=days - 1)))
    assert (quiet["combined_score"] <= 1).mean() >= 0.95

    rows = alerts.show_alerts(
        scored.reset_index().loc[lambda f: f["day"] == START + pd.Timedelta(days=days - 1)],
        detector,
        {"s1": "Morning Show"},
        "acme",
        "anomalies-v1",
    )
    (row,) = [r for r in rows if r["scope_id"] == "s1"]
    assert row["kind"] == "concentration"
    assert row["metric"] == "traffic_share" and row["entity_type"] == "network"
    assert row["entity_id"] == "nk-flood"
    assert row["observed"] == pytest.approx(flood["network_share"])
    assert row["expected_low"] <= row["expected"] <= row["expected_high"] < row["observed"]
    assert "show 'Morning Show'" in row["explanation"]
    assert "about 30 full downloads" in row["explanation"]
    assert row["severity"] == alerts.concentration_severity(row["observed"], row["expected"])


def test_show_features_mark_days_without_history_incomplete() -> None:
    frame = show_features(dense_shows(_shows(40), START + pd.Timedelta(days=39)))
    first = frame.groupby("show_id")["day"].min()
    assert (first == START).all()
    complete = frame[frame["complete"]]
    # 14 days for the level, then three same weekdays for the weekday factor
    assert complete["day"].min() >= START + pd.Timedelta(days=35)
    assert np.isfinite(complete[SHOW_FEATURES].to_numpy()).all()


def test_downloads_row_reads_as_a_sentence() -> None:
    day = pd.Timestamp("2024-03-05")  # a Tuesday
    row = pd.Series(
        {
            "show_id": "s1",
            "day": day,
            "downloads": 412.0,
            "downloads_expected": 150.0,
            "downloads_spread": 10.0,
            "downloads_z": 26.2,
            "downloads_part": 6.0,
            "volume_drop_part": 0.0,
            "volume": 420.0,
            "volume_expected": 150.0,
            "combined_score": 6.0,
            "release": False,
        }
    )
    detector = type("D", (), {"z_thresholds": {"downloads": 3.0}})()
    out = alerts._downloads_row(row, detector, False, {"s1": "Morning Show"}, "acme", "v1")
    assert out["explanation"] == (
        "Show 'Morning Show' had 412 downloads on Tuesday 2024-03-05, 2.7x the usual Tuesday"
        " (expected 120-180)."
    )
    assert (out["kind"], out["severity"], out["expected_low"], out["expected_high"]) == (
        "spike",
        "critical",
        120.0,
        180.0,
    )
