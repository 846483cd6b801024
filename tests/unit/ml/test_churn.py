"""Churn's logic on small hand-made frames: cut-offs from the release calendar, the label, the
features, the metrics, the baseline and the risk bands."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models_ml.churn import cutoffs, features, metrics, model
from models_ml.churn.baseline import RecencyBaseline
from models_ml.churn.cutoffs import ShowCutoff
from models_ml.churn.training import auc_gain_interval

D = pd.Timestamp


def _episodes(calendar: dict[str, list[str]]) -> pd.DataFrame:
    rows = [
        {"show_id": show, "episode_id": f"{show}_{day}", "release_date": D(day)}
        for show, days in calendar.items()
        for day in days
    ]
    return pd.DataFrame(rows)


def _downloads(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    """(household, show, episode, day, user agent) rows."""
    frame = pd.DataFrame(
        rows, columns=["household_id", "show_id", "episode_id", "download_date", "user_agent"]
    )
    frame["download_date"] = pd.to_datetime(frame["download_date"])
    return frame


def test_the_documented_constants() -> None:
    # The hand computations below (and docs/user/ml/churn.md) assume these.
    assert (cutoffs.NEXT_EPISODES, cutoffs.GRACE_DAYS, cutoffs.WINDOW_DAYS) == (3, 7, 21)
    assert cutoffs.ACTIVE_DAYS == cutoffs.MIN_HISTORY_DAYS == 21
    assert (model.HIGH_RISK, model.MEDIUM_RISK) == (0.8, 0.5)


# Show a: weekly on Mondays from 2024-01-01 to 03-25 (13 releases); show b: fortnightly from
# 01-01 to 03-25 (7); show c: two episodes only. Data from 2023-12-01 to 2024-03-31.
WEEKLY = [str((D("2024-01-01") + pd.Timedelta(days=7 * k)).date()) for k in range(13)]
FORTNIGHTLY = [str((D("2024-01-01") + pd.Timedelta(days=14 * k)).date()) for k in range(7)]
CALENDAR = _episodes({"a": WEEKLY, "b": FORTNIGHTLY, "c": ["2024-03-01", "2024-03-08"]})
FIRST, LAST = D("2023-12-01"), D("2024-03-31")


def test_label_window_is_the_next_three_episodes_plus_the_grace_days() -> None:
    episodes, end = cutoffs.label_window(CALENDAR, "a", D("2024-01-14"))
    assert episodes == ("a_2024-01-15", "a_2024-01-22", "a_2024-01-29")
    assert end == D("2024-02-05")
    # A release on the cut-off day is the past, not the label.
    assert cutoffs.label_window(CALENDAR, "a", D("2024-01-15"))[0][0] == "a_2024-01-22"
    assert cutoffs.label_window(CALENDAR, "a", D("2024-03-11")) is None  # only 2 more


def test_candidate_cutoffs_need_history_and_a_complete_label() -> None:
    got = cutoffs.candidate_cutoffs(CALENDAR, "a", FIRST, LAST)
    # The day before every release from 01-01 (the data starts 12-01, so 21 days of history are
    # there by 12-21) up to 03-03, whose episodes 03-04, 03-11, 03-18 close on 03-25; the next
    # (03-10) would close on 04-01, after the data.
    assert [c.cutoff for c in got] == [D(d) - pd.Timedelta(days=1) for d in WEEKLY[:10]]
    assert got[-1].label_end == D("2024-03-25")
    # Starting the data on 12-15 leaves the 12-31 cut-off 17 days of history: too few.
    late = cutoffs.candidate_cutoffs(CALENDAR, "a", D("2023-12-15"), LAST)
    assert late[0].cutoff == D("2024-01-07")
    assert cutoffs.candidate_cutoffs(CALENDAR, "c", FIRST, LAST) == []


def test_the_split_learns_nothing_after_the_boundary() -> None:
    split = cutoffs.choose_split(CALENDAR, ["a", "b", "c"], FIRST, LAST)
    # Latest complete cut-offs: a 03-03, b 02-11 (episodes 02-12, 02-26, 03-11, closed 03-18);
    # c has none. The lower median of (02-11, 03-03) is 02-11.
    assert split.boundary == D("2024-02-11")
    assert [(c.show_id, c.cutoff) for c in split.holdout] == [
        ("a", D("2024-03-03")),
        ("b", D("2024-02-11")),
    ]
    # Training labels closed by 02-11: a's cut-offs 12-31, 01-07, 01-14 (closing 01-22, 01-29,
    # 02-05; 01-21 closes 02-12), b's 12-31 (episodes 01-01, 01-15, 01-29, closing 02-05).
    assert [(c.show_id, c.cutoff) for c in split.training] == [
        ("a", D("2023-12-31")),
        ("a", D("2024-01-07")),
        ("a", D("2024-01-14")),
        ("b", D("2023-12-31")),
    ]
    assert all(c.label_end <= split.boundary for c in split.training)
    assert cutoffs.choose_split(CALENDAR, ["c"], FIRST, LAST).holdout == []


def test_active_households_and_their_labels() -> None:
    downloads = _downloads(
        [
            ("h_old", "a", "a_2024-01-01", "2023-12-24", "ua"),  # 21 days before: not active
            ("h1", "a", "a_2024-01-01", "2023-12-25", "ua"),
            ("h1", "a", "a_2024-01-22", "2024-01-25", "ua"),  # a label episode: retained
            ("h2", "a", "a_2024-01-08", "2024-01-10", "ua"),
            ("h2", "a", "a_2024-01-29", "2024-02-06", "ua"),  # after the label closed: churned
            ("h3", "a", "a_2024-01-08", "2024-01-14", "ua"),
            ("h3", "a", "a_2024-01-08", "2024-01-20", "ua"),  # an old episode: churned
            ("h4", "a", "a_2024-01-08", "2024-01-14", "ua"),
            ("h4", "b", "b_2024-01-15", "2024-01-16", "ua"),  # another show: churned
            ("h5", "a", "a_2024-01-08", "2024-01-09", "ua"),
            ("h5", "a", "a_2024-01-29", "2024-02-05", "ua"),  # on the closing day: retained
            ("h6", "a", "a_2024-01-15", "2024-01-15", "ua"),  # after the cut-off: not active
        ]
    )
    cutoff = D("2024-01-14")
    pairs = cutoffs.active_pairs(downloads, "a", cutoff)
    assert pairs["household_id"].tolist() == ["h1", "h2", "h3", "h4", "h5"]
    assert set(pairs["show_id"]) == {"a"} and set(pairs["cutoff"]) == {cutoff}
    window = ShowCutoff("a", cutoff, *cutoffs.label_window(CALENDAR, "a", cutoff))
    labels = cutoffs.churn_labels(downloads, window, pairs["household_id"])
    assert labels.tolist() == [0, 1, 1, 1, 0]


IPHONE = "AppleCoreMedia/1.0.0.21E236 (iPhone; U; CPU OS 17_4 like Mac OS X; en_us)"
ANDROID_SPOTIFY = "Spotify/8.9.32.624 Android/34 (Pixel 8)"
DESKTOP_BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0.0.0 Safari/537.36"


def test_features_by_hand() -> None:
    episodes = _episodes(
        {"a": ["2023-12-18", "2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]}
    )
    b1 = {"show_id": "b", "episode_id": "b1", "release_date": D("2024-01-10")}
    episodes = pd.concat([episodes, pd.DataFrame([b1])], ignore_index=True)
    downloads = _downloads(
        [
            ("h", "a", "a_2023-12-18", "2023-12-31", IPHONE),  # before the window
            ("h", "a", "a_2024-01-01", "2024-01-02", IPHONE),
            ("h", "a", "a_2024-01-08", "2024-01-16", ANDROID_SPOTIFY),
            ("h", "a", "a_2024-01-08", "2024-01-17", ANDROID_SPOTIFY),
            ("h", "b", "b1", "2024-01-20", DESKTOP_BROWSER),
            ("h", "a", "a_2024-01-22", "2024-01-22", IPHONE),  # after the cut-off
            ("g", "b", "b1", "2024-01-11", DESKTOP_BROWSER),
        ]
    )
    pairs = pd.DataFrame(
        {
            "household_id": ["g", "h", "h"],
            "show_id": ["a", "a", "b"],
            "cutoff": [D("2024-01-21"), D("2024-01-21"), D("2024-01-20")],
        }
    )
    got = features.features_at(downloads, episodes, pairs)
    assert got.index.tolist() == [0, 1, 2]
    assert got.columns.tolist() == ["household_id", "show_id", "cutoff", *features.FEATURES]
    h = got.loc[1]
    # Window (2024-01-01, 01-21]: a's releases in it are 01-01, 01-08 and 01-15.
    expected = {
        "days_since_last_download": 4,  # 01-21 - 01-17
        "episodes_since_last_download": 0,  # no release after 01-17 by 01-21
        "episodes_behind": 1,  # 01-15 came after the newest one it had (01-08)
        "downloads_7d": 2,  # 01-16, 01-17 (01-14 would be 7 days old)
        "downloads_14d": 2,
        "downloads_21d": 3,
        "episodes_downloaded_21d": 2,
        "show_tenure_days": 19,  # 01-21 - 01-02
        "household_tenure_days": 19,
        "share_of_releases_downloaded": 2 / 3,
        "share_within_1d": 1 / 3,  # lags 1, 8, 9 days
        "share_within_7d": 1 / 3,
        "user_agents": 2,
        "apple_share": 1 / 3,
        "spotify_share": 2 / 3,
        "browser_share": 0,
        "mobile_share": 1,
        "other_shows_21d": 1,  # b
        "all_downloads_21d": 4,
        "show_cadence_days": 7,  # 12-18, 01-01, 01-08, 01-15: gaps 14, 7, 7
        "days_since_show_release": 6,
    }
    assert h[list(expected)].to_dict() == pytest.approx(expected)
    # g never downloaded show a: no recency, zero counts, but its other show counts.
    g = got.loc[0]
    assert math.isnan(g["days_since_last_download"]) and math.isnan(g["episodes_behind"])
    assert g[["downloads_21d", "downloads_7d", "episodes_downloaded_21d"]].tolist() == [0, 0, 0]
    assert g["other_shows_21d"] == 1 and g["all_downloads_21d"] == 1
    assert g["share_of_releases_downloaded"] == 0
    # h on show b at its own cut-off (01-20; window from 12-31 on): one browser download 10 days
    # after the release.
    b = got.loc[2]
    assert b["days_since_last_download"] == 0 and b["browser_share"] == 1
    assert b["mobile_share"] == 0 and b["share_within_7d"] == 0
    assert b["other_shows_21d"] == 1  # a
    assert b["all_downloads_21d"] == 5  # 12-31, 01-02, 01-16, 01-17 of a and 01-20 of b
    assert math.isnan(b["show_cadence_days"])  # a single release


def test_user_agent_families() -> None:
    assert features.app_of(IPHONE) == "apple"
    assert features.app_of("Podcasts/1650.20 CFNetwork/1494.0.7 Darwin/23.4.0") == "apple"
    assert features.app_of(ANDROID_SPOTIFY) == "spotify"
    assert features.app_of(DESKTOP_BROWSER) == "browser"
    assert features.app_of("Overcast/3.0 (+http://overcast.fm/; iOS podcast app)") == "other"
    assert features.is_mobile(IPHONE) and features.is_mobile(ANDROID_SPOTIFY)
    assert not features.is_mobile(DESKTOP_BROWSER)


def test_metrics_by_hand() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    got = metrics.scores(y, p)
    assert got["auc"] == pytest.approx(0.75)  # 3 of the 4 churned/retained pairs in order
    # Ranked 0.8 (churned), 0.4, 0.35 (churned), 0.1: precision 1 and 2/3 at the churners.
    assert got["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    assert got["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    assert got["churn_rate"] == 0.5 and got["mean_probability"] == pytest.approx(0.4125)
    assert math.isnan(metrics.scores(np.array([1, 1]), np.array([0.2, 0.9]))["auc"])


def test_rank_auc_is_sklearns() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = np.round(rng.random(200), 1)  # many ties
    assert metrics.rank_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert metrics.rank_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert math.isnan(metrics.rank_auc(np.array([0, 0]), np.array([0.1, 0.2])))


def test_calibration_table_by_hand() -> None:
    y = np.array([1, 0, 1, 0, 1])
    p = np.array([0.9, 0.1, 0.3, 0.2, 0.7])
    # Sorted: 0.1 (0), 0.2 (0), 0.3 (1) | 0.7 (1), 0.9 (1).
    assert metrics.calibration_table(y, p, bins=2) == [
        {
            "decile": 1,
            "rows": 3,
            "mean_predicted": pytest.approx(0.2),
            "observed_rate": pytest.approx(1 / 3, abs=1e-6),  # rounded to 6 places
        },
        {"decile": 2, "rows": 2, "mean_predicted": pytest.approx(0.8), "observed_rate": 1.0},
    ]
    assert len(metrics.calibration_table(np.zeros(25), np.linspace(0, 1, 25))) == 10


def test_recency_baseline_ranks_by_days_since_the_last_download() -> None:
    days = np.array([0, 1, 2, 3, 5, 8, 13, 20, 1, 2, 15, 18], dtype=float)
    churned = np.array([0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 0])
    baseline = RecencyBaseline.fit(days, churned)
    assert baseline.slope > 0
    p = baseline.predict(np.array([0.0, 5.0, 20.0]))
    assert 0 < p[0] < p[1] < p[2] < 1
    assert baseline.predict(np.array([-baseline.intercept / baseline.slope]))[0] == pytest.approx(
        0.5
    )
    # Its AUC is the recency's own.
    assert metrics.scores(churned, baseline.predict(days))["auc"] == pytest.approx(
        roc_auc_score(churned, days)
    )


def test_risk_bands_at_the_thresholds() -> None:
    got = model.risk_band(np.array([0.95, 0.8, 0.7999, 0.5, 0.4999, 0.0]))
    assert got.tolist() == ["high", "high", "medium", "medium", "low", "low"]


def test_auc_gain_interval_is_positive_for_a_clearly_better_model() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    better = y + rng.normal(0, 0.5, 400)
    noise = rng.normal(0, 1, 400)
    low, high = auc_gain_interval(y, better, noise)
    assert 0 < low < high
    assert auc_gain_interval(y, better, noise) == (low, high)  # seeded
