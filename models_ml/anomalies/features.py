"""Per-day feature vectors: one row per show and day, one per campaign, metric and day.

A show-day has its downloads and traffic volume (the bytes of the requests that may count, in
download-equivalents) against their seasonal baselines (:mod:`.seasonal`), and how its traffic
was made up compared with the show's previous four weeks: the busiest network's share of the
bytes and its bytes in download-equivalents, the busiest user agent's share, and the share from
networks never seen before. Every comparison looks back only, so a day's features are the same
whether it is scored the day after or a year later.

Campaign-days have their conversions and delivered spend against the same seasonal baseline.

Series are computed side by side (one column per show, or per campaign and metric), then laid
out as one row per unit and day.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from models_ml.anomalies.seasonal import robust_deviation, seasonal_baseline

# The deviations of a show-day from its own recent past (so a small and a large show are on one
# scale): the seasonal z of downloads and traffic volume, and the robust deviation of each share.
SHOW_FEATURES = [
    "downloads_z",
    "volume_z",
    "network_share_dev",
    "network_volume_dev",
    "user_agent_share_dev",
    "new_network_share_dev",
]

# Floors of the robust spread of each share (a quiet show's shares would otherwise have a
# spread of zero and every change would be infinitely surprising).
SHARE_FLOORS = {
    "network_share": 0.02,
    "network_volume": 0.25,  # on log1p(download-equivalents)
    "user_agent_share": 0.02,
    "new_network_share": 0.03,
}

# Deviations are clipped to this: beyond it nothing is gained, and the forest's split ranges stay
# sensible.
CLIP = 50.0

CAMPAIGN_METRICS = ("conversions", "spend")
CAMPAIGN_COLUMNS = ["campaign_id", "metric", "day", "value", "expected", "spread", "z", "unit"]

# Days a show's bytes per download are averaged over (episode lengths change).
_PER_DOWNLOAD_DAYS = 28


def _calendar(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    days = pd.date_range(start, end, freq="D")
    return frame.set_index("day").reindex(days).rename_axis("day")


def dense_shows(shows: pd.DataFrame, last_day: date) -> pd.DataFrame:
    """The daily show rows with every calendar day from each show's first day to ``last_day``
    (zeros where nothing happened), so that a day can be changed in place."""
    end = pd.Timestamp(last_day)
    parts = []
    for show_id, daily in shows.groupby("show_id", sort=True):
        filled = _calendar(daily.drop(columns="show_id"), daily["day"].min(), end)
        numbers = filled.select_dtypes("number").columns
        filled[numbers] = filled[numbers].fillna(0.0)
        filled.insert(0, "show_id", show_id)
        parts.append(filled.reset_index())
    return pd.concat(parts, ignore_index=True) if parts else shows.copy()


def dense_campaigns(
    campaigns: pd.DataFrame,
    campaign_info: dict[str, tuple[str, date | None, date | None, str | None]],
    last_day: date,
) -> pd.DataFrame:
    """The daily campaign rows with every day from the flight's start (or first activity) to
    ``last_day``."""
    end = pd.Timestamp(last_day)
    parts = []
    for campaign_id, daily in campaigns.groupby("campaign_id", sort=True):
        start_date = campaign_info.get(campaign_id, (campaign_id, None, None, None))[1]
        first = daily["day"].min()
        if start_date is not None:
            first = min(first, pd.Timestamp(start_date))
        filled = _calendar(daily.drop(columns="campaign_id"), first, end).fillna(0.0)
        filled.insert(0, "campaign_id", campaign_id)
        parts.append(filled.reset_index())
    return pd.concat(parts, ignore_index=True) if parts else campaigns.copy()


def _share(part: pd.DataFrame, whole: pd.DataFrame) -> pd.DataFrame:
    # A day without traffic has no concentration (0); days before the show started stay missing.
    share = (part / whole.where(whole > 0)).clip(0.0, 1.0).fillna(0.0)
    return share.where(whole.notna())


def _wide_show_features(wide: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every feature as a days x shows frame."""
    downloads, countable = wide["downloads"], wide["countable_bytes"]
    out: dict[str, pd.DataFrame] = {}
    # Bytes per download of each show over the previous four weeks, so bytes read as
    # download-equivalents (before the first download: the first known value).
    ratio = countable / downloads.where(downloads > 0)
    per_download = ratio.shift(1).rolling(_PER_DOWNLOAD_DAYS, min_periods=1).median().bfill()
    per_download = per_download.fillna(ratio.median()).fillna(1.0).clip(lower=1.0)
    out["bytes_per_download"] = per_download
    out["volume"] = countable / per_download

    for name, values in (("downloads", downloads), ("volume", out["volume"])):
        baseline = seasonal_baseline(values)
        out[f"{name}_expected"] = baseline.expected
        out[f"{name}_spread"] = baseline.spread
        out[f"{name}_z"] = baseline.z

    out["network_share"] = _share(wide["top_network_bytes"], countable)
    out["network_volume"] = wide["top_network_bytes"] / per_download
    out["user_agent_share"] = _share(wide["top_user_agent_bytes"], countable)
    out["user_agent_volume"] = wide["top_user_agent_bytes"] / per_download
    out["new_network_share"] = _share(wide["new_network_bytes"], countable)
    out["new_network_volume"] = wide["new_network_bytes"] / per_download
    for name, floor in SHARE_FLOORS.items():
        values = np.log1p(out[name]) if name == "network_volume" else out[name]
        deviation = robust_deviation(values, floor)
        out[f"{name}_dev"] = deviation.deviation
        # The usual value and its robust spread, for the expected range of an alert.
        out[f"{name}_usual"] = deviation.usual
        out[f"{name}_spread"] = deviation.spread
    return out


def _lay_out(
    computed: dict[str, pd.DataFrame], days: pd.Series, units: pd.Series
) -> dict[str, np.ndarray]:
    """Each days x units frame of ``computed`` as one value per (day, unit) row."""
    first = next(iter(computed.values()))
    day_position = first.index.get_indexer(pd.DatetimeIndex(days))
    unit_position = first.columns.get_indexer(units)
    return {
        name: frame.to_numpy(dtype=float)[day_position, unit_position]
        for name, frame in computed.items()
    }


def show_features(dense: pd.DataFrame) -> pd.DataFrame:
    """One row per row of ``dense`` (:func:`dense_shows`: a show and calendar day), with the
    day's numbers and features; ``complete`` says whether every feature has enough history."""
    if dense.empty:
        return pd.DataFrame(columns=["show_id", "day", *SHOW_FEATURES, "complete"])
    numbers = [
        c
        for c in dense.columns
        if c not in ("show_id", "day") and pd.api.types.is_numeric_dtype(dense[c])
    ]
    wide = {c: dense.pivot(index="day", columns="show_id", values=c) for c in numbers}
    columns = _lay_out(_wide_show_features(wide), dense["day"], dense["show_id"])
    frame = pd.concat(
        [dense.reset_index(drop=True), pd.DataFrame(columns, index=range(len(dense)))], axis=1
    )
    frame["release"] = frame["releases"] > 0
    features = frame[SHOW_FEATURES].astype(float)
    frame["complete"] = np.isfinite(features.to_numpy()).all(axis=1)
    frame[SHOW_FEATURES] = features.clip(-CLIP, CLIP)
    return frame


def _campaign_series(
    dense: pd.DataFrame,
    campaign_info: dict[str, tuple[str, date | None, date | None, str | None]],
    last_day: date,
) -> pd.DataFrame:
    """One row per (campaign, metric) series and day it is scored on: conversions from the
    flight's start to ``last_day`` (they trail the ads), spend inside the flight and on any
    other day that delivered."""
    end = pd.Timestamp(last_day)
    parts = []
    for campaign_id, daily in dense.groupby("campaign_id", sort=True):
        _, _, end_date, _ = campaign_info.get(campaign_id, (campaign_id, None, None, None))
        impressions = float(daily["impressions"].sum())
        # Spend comes in impressions, each worth the campaign's cost per impression.
        cost_per_impression = float(daily["spend"].sum()) / impressions if impressions else 1.0
        for metric in CAMPAIGN_METRICS:
            series = daily[["day", metric]].rename(columns={metric: "value"})
            if metric == "spend":
                delivered = series.loc[series["value"] > 0, "day"]
                stop = pd.Timestamp(end_date) if end_date else end
                if len(delivered):
                    stop = max(stop, delivered.max())
                series = series[series["day"] <= min(stop, end)]
            part = series.assign(
                campaign_id=campaign_id,
                metric=metric,
                unit=cost_per_impression if metric == "spend" else 1.0,
            )
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def campaign_features(
    dense: pd.DataFrame,
    campaign_info: dict[str, tuple[str, date | None, date | None, str | None]],
    last_day: date,
) -> pd.DataFrame:
    """One row per campaign, metric (conversions, spend) and day of ``dense``
    (:func:`dense_campaigns`): the value against its seasonal baseline."""
    if dense.empty:
        return pd.DataFrame(columns=[*CAMPAIGN_COLUMNS, "complete"])
    long = _campaign_series(dense, campaign_info, last_day)
    long["series"] = long["metric"] + ":" + long["campaign_id"]
    wide = long.pivot(index="day", columns="series", values="value")
    units = long.groupby("series")["unit"].first().reindex(wide.columns)
    baseline = seasonal_baseline(wide, unit=units, weekly=False)
    computed = {"expected": baseline.expected, "spread": baseline.spread, "z": baseline.z}
    for name, values in _lay_out(computed, long["day"], long["series"]).items():
        long[name] = values
    long["z"] = long["z"].clip(-CLIP, CLIP)
    long["complete"] = np.isfinite(long["z"].to_numpy(dtype=float))
    return long[[*CAMPAIGN_COLUMNS, "complete"]].reset_index(drop=True)
