"""The detectors: the robust seasonal baseline alone, and the combined detector (the seasonal
baseline of the metric plus an isolation forest over each show-day's feature vector).

Both give each unit-day (a show-day, or a campaign's conversions or spend on a day) a score in
multiples of its alert threshold: above 1 it alerts, 2 is twice as far out. The thresholds are
calibrated on the training days so that about ``ALERT_BUDGET`` of them would have alerted (never
below ``Z_FLOOR`` robust standard deviations for the seasonal parts): each tenant's own noise
sets how surprising a day must be.

- Seasonal parts: |z| over its threshold, of downloads and of traffic volume for a show-day, of
  the metric for a campaign-day.
- Forest part (shows only): the isolation forest's anomaly score, rescaled so that the training
  days' median is 0 and their alert quantile is 1. It sees what the seasonal baseline cannot: one
  network or one user agent taking the day, networks never seen before, traffic out of line with
  the downloads counted. It is never above its strongest single sign over ``GATE`` robust
  standard deviations (with at least ``MIN_SIGN_DOWNLOADS`` downloads' worth of traffic behind a
  share): a rare mix of small deviations is noise, an alert must have a cause to name, and the
  forest's score cannot outrank a clear drop on a day that has none.

The baseline's score of a show-day is the larger of its two seasonal parts (downloads and
volume, both ways: the baseline sees a flood's traffic too); the combined detector's is the
largest of the downloads part, the volume part of a fall, and the forest part (which judges the
volume's rises among its features). Campaign-days have the seasonal part in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from models_ml.anomalies.features import CAMPAIGN_METRICS

# Share of training unit-days the thresholds would have alerted on.
ALERT_BUDGET = 0.01
# A unit-day alerts when its score is above this (its seasonal z beyond the threshold, or the
# forest beyond its training quantile).
ALERT_SCORE = 1.0
# A seasonal z below this never alerts, however noisy the tenant's past.
Z_FLOOR = 3.0
FOREST_TREES = 200
SEED = 0
# Fewer complete training show-days than this and the forest cannot learn what normal is.
MIN_FOREST_ROWS = 40
# What the forest sees: the signs of invalid traffic. Each counts only when it rises (a day less
# concentrated, or quieter, than usual is not suspicious, and its falls would take the forest's
# attention from what it is for); drops and spikes of the downloads are the seasonal part's.
FOREST_FEATURES = [
    "volume_z",
    "network_share_dev",
    "network_volume_dev",
    "user_agent_share_dev",
    "new_network_share_dev",
]
# The forest's part is never above (its strongest sign / GATE): it alerts only on days where one
# of its features is at least this far above usual...
GATE = 4.0
# ... and, for a share, the traffic behind it comes to at least this many downloads' worth of
# audio: one listener fetching three episodes is a large share of a quiet show's day, not a
# flood.
MIN_SIGN_DOWNLOADS = 5.0
# The traffic (in download-equivalents) behind each share the forest sees.
SIGN_VOLUMES = {
    "network_share_dev": "network_volume",
    "network_volume_dev": "network_volume",
    "user_agent_share_dev": "user_agent_volume",
    "new_network_share_dev": "new_network_volume",
}


@dataclass
class AnomalyDetector:
    """The fitted detector (picklable): the forest and every threshold."""

    forest: IsolationForest
    features: list[str]
    forest_median: float
    forest_threshold: float
    # Seasonal z thresholds: "downloads", "volume" (shows), "conversions", "spend" (campaigns).
    z_thresholds: dict[str, float]
    budget: float
    training_rows: int


def _quantile(values: np.ndarray, q: float, default: float) -> float:
    values = values[np.isfinite(values)]
    return float(np.quantile(values, q)) if values.size else default


def forest_input(rows: pd.DataFrame, features: list[str]) -> np.ndarray:
    """The forest's view of ``rows``: its features, falls cut at zero."""
    return np.clip(rows[features].to_numpy(dtype=float), 0.0, None)


def forest_signs(rows: pd.DataFrame, features: list[str]) -> np.ndarray:
    """The forest's view of ``rows`` with each share's rise zeroed where too little traffic is
    behind it: what may raise, and name, a forest alert."""
    signs = forest_input(rows, features)
    for position, feature in enumerate(features):
        volume = SIGN_VOLUMES.get(feature)
        if volume is not None:
            enough = rows[volume].to_numpy(dtype=float) >= MIN_SIGN_DOWNLOADS
            signs[:, position] = np.where(enough, signs[:, position], 0.0)
    return signs


def _forest_anomaly(forest: IsolationForest, rows: pd.DataFrame, features: list[str]) -> np.ndarray:
    # score_samples is higher for normal points; its negation is the anomaly score in (0, 1).
    return -forest.score_samples(forest_input(rows, features))


def fit_detector(
    shows: pd.DataFrame,
    campaigns: pd.DataFrame,
    budget: float = ALERT_BUDGET,
    features: list[str] | None = None,
) -> AnomalyDetector:
    """Fit on the complete unit-days of ``shows`` (:func:`show_features`) and ``campaigns``
    (:func:`campaign_features`), both already cut to the days to learn from."""
    shows = shows[shows["complete"]]
    if len(shows) < MIN_FOREST_ROWS:
        raise ValueError(f"{len(shows)} complete show-days, the forest needs {MIN_FOREST_ROWS}")
    features = list(features or FOREST_FEATURES)
    forest = IsolationForest(
        n_estimators=FOREST_TREES,
        max_samples=min(256, len(shows)),
        random_state=SEED,
        n_jobs=1,
    )
    forest.fit(forest_input(shows, features))
    anomaly = _forest_anomaly(forest, shows, features)
    median = float(np.median(anomaly))
    threshold = max(_quantile(anomaly, 1 - budget, median), median + 1e-6)
    z_thresholds = {
        name: max(Z_FLOOR, _quantile(np.abs(shows[f"{name}_z"].to_numpy(float)), 1 - budget, 0))
        for name in ("downloads", "volume")
    }
    complete = campaigns[campaigns["complete"].astype(bool)] if len(campaigns) else campaigns
    for metric in CAMPAIGN_METRICS:
        values = (
            np.abs(complete.loc[complete["metric"] == metric, "z"].to_numpy(float))
            if len(complete)
            else np.array([])
        )
        z_thresholds[metric] = max(Z_FLOOR, _quantile(values, 1 - budget, 0.0))
    return AnomalyDetector(
        forest=forest,
        features=features,
        forest_median=median,
        forest_threshold=threshold,
        z_thresholds=z_thresholds,
        budget=budget,
        training_rows=len(shows) + len(complete),
    )


def score_shows(detector: AnomalyDetector, shows: pd.DataFrame) -> pd.DataFrame:
    """The complete rows of ``shows`` with ``downloads_part``, ``volume_part``,
    ``forest_part``, ``baseline_score`` and ``combined_score``."""
    out = shows[shows["complete"].astype(bool)].copy()
    parts = (
        "downloads_part",
        "volume_part",
        "volume_drop_part",
        "forest_part",
        "baseline_score",
        "combined_score",
    )
    if out.empty:
        for column in parts:
            out[column] = pd.Series(dtype=float)
        return out
    thresholds = detector.z_thresholds
    out["downloads_part"] = out["downloads_z"].abs() / thresholds["downloads"]
    out["volume_part"] = out["volume_z"].abs() / thresholds["volume"]
    anomaly = _forest_anomaly(detector.forest, out, detector.features)
    span = detector.forest_threshold - detector.forest_median
    forest = (anomaly - detector.forest_median) / span
    strongest = forest_signs(out, detector.features).max(axis=1)
    out["forest_part"] = np.minimum(forest, strongest / GATE)
    out["baseline_score"] = out[["downloads_part", "volume_part"]].max(axis=1)
    # A fall of the traffic is a drop whatever the count says (and on a quiet show the bytes
    # show it before the whole downloads do); its rises are the forest's to judge.
    out["volume_drop_part"] = (-out["volume_z"]).clip(lower=0.0) / thresholds["volume"]
    out["combined_score"] = out[["downloads_part", "volume_drop_part", "forest_part"]].max(axis=1)
    return out


def score_campaigns(detector: AnomalyDetector, campaigns: pd.DataFrame) -> pd.DataFrame:
    """The complete rows of ``campaigns`` with the seasonal part as both scores (the forest
    does not see campaigns: a campaign-day has no traffic make-up to learn from)."""
    out = campaigns[campaigns["complete"].astype(bool)].copy() if len(campaigns) else campaigns
    out = out.copy()
    if out.empty:
        out["baseline_score"] = pd.Series(dtype=float)
        out["combined_score"] = pd.Series(dtype=float)
        return out
    thresholds = out["metric"].map(detector.z_thresholds).astype(float)
    out["baseline_score"] = out["z"].abs() / thresholds
    out["combined_score"] = out["baseline_score"]
    return out
