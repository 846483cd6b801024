"""Features of a household × show at a cut-off, from its downloads in the window ending on it.

Every feature is computed from what was known on the cut-off day and from the
``WINDOW_DAYS``-day window ending on it (cut-off included): downloads with
``cutoff - WINDOW_DAYS < download_date <= cutoff`` and the episodes released by then. A training
cut-off a month into the data and the scoring cut-off on its last day therefore see the same
kind of window; tenures are counted inside the window (capped at ``WINDOW_DAYS - 1``). Days are
whole UTC days.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from models_ml.churn.cutoffs import WINDOW_DAYS

DAY = pd.Timedelta(days=1)

_W = WINDOW_DAYS  # the window's length appears in the names of the features counted over it

FEATURES = [
    # Recency, in days and in episodes.
    "days_since_last_download",  # cut-off minus the household's last download day of the show
    "episodes_since_last_download",  # the show's releases after that day, up to the cut-off
    "episodes_behind",  # its releases after the newest episode the household downloaded
    # Frequency over windows ending on the cut-off.
    "downloads_7d",
    "downloads_14d",
    f"downloads_{_W}d",
    f"episodes_downloaded_{_W}d",  # distinct episodes of the show
    # Tenure inside the window (capped at WINDOW_DAYS - 1).
    "show_tenure_days",  # days since its first download of the show
    "household_tenure_days",  # days since its first download of any show
    # Completeness and promptness.
    "share_of_releases_downloaded",  # of the show's releases in the window, those it downloaded
    "share_within_1d",  # its downloads of the show made within 1 day of the release
    "share_within_7d",  # ... within 7 days
    # Listening apps and platforms (of its downloads of the show).
    "user_agents",  # distinct user agents (devices and apps)
    "apple_share",  # Apple Podcasts / AppleCoreMedia
    "spotify_share",
    "browser_share",  # web players
    "mobile_share",  # iPhone, iPad, Android or iOS user agents
    # The household beyond this show.
    f"other_shows_{_W}d",  # other shows it downloaded
    f"all_downloads_{_W}d",  # its downloads of every show
    # The show.
    "show_cadence_days",  # median days between its last releases
    "days_since_show_release",  # days since its latest release
]

_MOBILE = re.compile(r"iPhone|iPad|Android|iOS")


def app_of(user_agent: str) -> str:
    """The listening app family of a user agent: apple, spotify, browser or other."""
    if user_agent.startswith(("AppleCoreMedia/", "Podcasts/")):
        return "apple"
    if user_agent.startswith("Spotify/"):
        return "spotify"
    if user_agent.startswith("Mozilla/"):
        return "browser"
    return "other"


def is_mobile(user_agent: str) -> bool:
    return bool(_MOBILE.search(user_agent))


def cadence_days(releases: np.ndarray, last: int = 6) -> float:
    """Median days between the show's last ``last`` release days (NaN with fewer than two)."""
    distinct = np.unique(releases)[-last:]
    if len(distinct) < 2:
        return float("nan")
    return float(np.median(np.diff(distinct) / np.timedelta64(1, "D")))


def _days(delta: pd.Series) -> pd.Series:
    return (delta / DAY).astype("float64")


def _released_by(episodes: pd.DataFrame, show_id: str, cutoff: pd.Timestamp) -> np.ndarray:
    """The show's release days up to the cut-off, sorted (one entry per episode)."""
    days = episodes.loc[
        (episodes["show_id"] == show_id) & (episodes["release_date"] <= cutoff), "release_date"
    ]
    return np.sort(days.to_numpy(dtype="datetime64[ns]"))


def features_at(
    downloads: pd.DataFrame, episodes: pd.DataFrame, pairs: pd.DataFrame
) -> pd.DataFrame:
    """``pairs`` (household_id, show_id, cutoff; a unique index) with the FEATURES columns.

    ``downloads``: household_id, show_id, episode_id, download_date, user_agent;
    ``episodes``: show_id, episode_id, release_date. A pair without a download in its window
    gets NaN recency and zero counts.
    """
    uas = downloads["user_agent"].drop_duplicates()
    app = dict(zip(uas, (app_of(str(u)) for u in uas), strict=True))
    mobile = dict(zip(uas, (is_mobile(str(u)) for u in uas), strict=True))
    enriched = downloads.assign(
        app=downloads["user_agent"].map(app),
        mobile=downloads["user_agent"].map(mobile).astype("float64"),
    ).merge(episodes[["episode_id", "release_date"]], on="episode_id", how="left")
    enriched = enriched.sort_values("download_date", kind="stable", ignore_index=True)
    parts = [
        _features_one_cutoff(enriched, episodes, group, pd.Timestamp(cutoff))
        for cutoff, group in pairs.groupby("cutoff", sort=True)
    ]
    if not parts:
        return pairs.assign(**{f: pd.Series(dtype="float64") for f in FEATURES})
    return pd.concat(parts).loc[pairs.index, [*pairs.columns, *FEATURES]]


def _features_one_cutoff(
    downloads: pd.DataFrame, episodes: pd.DataFrame, pairs: pd.DataFrame, cutoff: pd.Timestamp
) -> pd.DataFrame:
    # ``downloads`` is sorted by day, so the window is a slice.
    days = downloads["download_date"].to_numpy(dtype="datetime64[ns]")
    start = np.searchsorted(days, np.datetime64(cutoff - WINDOW_DAYS * DAY, "ns"), "right")
    window = downloads.iloc[start : np.searchsorted(days, np.datetime64(cutoff, "ns"), "right")]
    household = window.groupby("household_id").agg(
        first_any=("download_date", "min"),
        all_downloads=("download_date", "size"),
        shows=("show_id", "nunique"),
    )

    mine = window.merge(pairs[["household_id", "show_id"]], on=["household_id", "show_id"])
    age = _days(cutoff - mine["download_date"])
    lag = _days(mine["download_date"] - mine["release_date"])
    keys = ["household_id", "show_id"]
    pair = (
        mine.assign(
            in_7=(age < 7).astype("int64"),
            in_14=(age < 14).astype("int64"),
            within_1=(lag <= 1).astype("float64").where(lag.notna()),
            within_7=(lag <= 7).astype("float64").where(lag.notna()),
            is_apple=(mine["app"] == "apple").astype("float64"),
            is_spotify=(mine["app"] == "spotify").astype("float64"),
            is_browser=(mine["app"] == "browser").astype("float64"),
            # Episodes released in the window, to count how many of them it caught.
            recent_episode=mine["episode_id"].where(
                mine["release_date"] > cutoff - WINDOW_DAYS * DAY
            ),
        )
        .groupby(keys)
        .agg(
            last_download=("download_date", "max"),
            first_download=("download_date", "min"),
            newest_episode=("release_date", "max"),
            downloads_7d=("in_7", "sum"),
            downloads_14d=("in_14", "sum"),
            downloads=("download_date", "size"),
            episodes_downloaded=("episode_id", "nunique"),
            caught=("recent_episode", "nunique"),
            share_within_1d=("within_1", "mean"),
            share_within_7d=("within_7", "mean"),
            user_agents=("user_agent", "nunique"),
            apple_share=("is_apple", "mean"),
            spotify_share=("is_spotify", "mean"),
            browser_share=("is_browser", "mean"),
            mobile_share=("mobile", "mean"),
        )
    )

    out = pairs.join(pair, on=keys).join(household, on="household_id")
    for count in ("downloads_7d", "downloads_14d", "downloads", "episodes_downloaded"):
        out[count] = out[count].fillna(0)
    out[f"downloads_{_W}d"] = out["downloads"]
    out[f"episodes_downloaded_{_W}d"] = out["episodes_downloaded"]
    out[f"all_downloads_{_W}d"] = out["all_downloads"].fillna(0)
    out[f"other_shows_{_W}d"] = out["shows"].fillna(0) - (out["downloads"] > 0)
    out["days_since_last_download"] = _days(cutoff - out["last_download"])
    out["show_tenure_days"] = _days(cutoff - out["first_download"])
    out["household_tenure_days"] = _days(cutoff - out["first_any"])

    since_last = np.full(len(out), np.nan)
    behind = np.full(len(out), np.nan)
    share = np.full(len(out), np.nan)
    cadence = np.full(len(out), np.nan)
    since_release = np.full(len(out), np.nan)
    window_start = np.datetime64(cutoff - WINDOW_DAYS * DAY, "ns")
    for show_id, rows in out.groupby("show_id").indices.items():
        calendar = _released_by(episodes, show_id, cutoff)
        part = out.iloc[rows]
        last = part["last_download"].to_numpy(dtype="datetime64[ns]")
        seen = ~np.isnat(last)
        since_last[rows[seen]] = len(calendar) - np.searchsorted(calendar, last[seen], "right")
        newest = part["newest_episode"].to_numpy(dtype="datetime64[ns]")
        known = ~np.isnat(newest)
        behind[rows[known]] = len(calendar) - np.searchsorted(calendar, newest[known], "right")
        in_window = len(calendar) - np.searchsorted(calendar, window_start, "right")
        if in_window:
            share[rows] = part["caught"].fillna(0).to_numpy(dtype="float64") / in_window
        cadence[rows] = cadence_days(calendar)
        if len(calendar):
            since_release[rows] = (cutoff - pd.Timestamp(calendar[-1])) / DAY
    out["episodes_since_last_download"] = since_last
    out["episodes_behind"] = behind
    out["share_of_releases_downloaded"] = share
    out["show_cadence_days"] = cadence
    out["days_since_show_release"] = since_release
    for f in FEATURES:
        out[f] = out[f].astype("float64")
    return out
