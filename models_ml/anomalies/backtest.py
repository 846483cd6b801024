"""The promotion test: synthetic anomalies in a copy of the holdout weeks, caught by the combined
detector and by the robust seasonal baseline alone at the same false-positive budget.

Training days come before ``holdout_start``, the holdout is the last ``HOLDOUT_DAYS`` days. Each
of ``ROUNDS`` rounds writes anomalies (:mod:`.injection`) into ``INJECT_SHARE`` of the holdout's
unit-days, recomputes every feature from the changed series (the days after an injected one see
it in their history, as they would in production) and scores both detectors, fitted on the
training days only. For each detector the alert threshold is set so that it flags
``FP_BUDGET`` of the untouched holdout days; at that threshold we count the injected days it
catches (recall), the share of its alerts that are injected (precision), and their F1, which is
the promoted metric. The same measures at the detector's own calibrated threshold (alerting
above a score of 1) are reported beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from models_ml.anomalies.detector import AnomalyDetector, score_campaigns, score_shows
from models_ml.anomalies.features import campaign_features, show_features
from models_ml.anomalies.injection import (
    CAMPAIGN_KINDS,
    SHOW_KINDS,
    eligible_kinds,
    inject_campaign_value,
    inject_show_day,
)

HOLDOUT_DAYS = 28
ROUNDS = 16
INJECT_SHARE = 0.1
FP_BUDGET = 0.02
SEED = 20240


def budget_threshold(scores: np.ndarray, injected: np.ndarray, budget: float = FP_BUDGET) -> float:
    """The score above which at most ``budget`` of the untouched days lie."""
    untouched = np.sort(np.asarray(scores, float)[~np.asarray(injected, bool)])[::-1]
    allowed = int(np.floor(budget * untouched.size))
    return float(untouched[allowed]) if allowed < untouched.size else -np.inf


def metrics_at_budget(
    scores: np.ndarray, injected: np.ndarray, budget: float = FP_BUDGET
) -> dict[str, float]:
    """Recall, precision and F1 with the threshold that flags at most ``budget`` of the
    untouched days (flagged: score strictly above the threshold)."""
    scores = np.asarray(scores, dtype=float)
    injected = np.asarray(injected, dtype=bool)
    return _counts(scores > budget_threshold(scores, injected, budget), injected)


def metrics_at_threshold(
    scores: np.ndarray, injected: np.ndarray, threshold: float = 1.0
) -> dict[str, float]:
    """The same measures with a fixed threshold (flagged: score above the threshold)."""
    return _counts(np.asarray(scores, dtype=float) > threshold, np.asarray(injected, bool))


def _counts(flagged: np.ndarray, injected: np.ndarray) -> dict[str, float]:
    true_positives = float(np.sum(flagged & injected))
    false_positives = float(np.sum(flagged & ~injected))
    positives = float(np.sum(injected))
    negatives = float(np.sum(~injected))
    recall = true_positives / positives if positives else float("nan")
    precision = (
        true_positives / (true_positives + false_positives)
        if true_positives + false_positives
        else 0.0
    )
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {
        "recall": recall,
        "precision": precision,
        "f1": f1,
        "false_positive_rate": false_positives / negatives if negatives else float("nan"),
    }


def _inject_round(
    shows: pd.DataFrame,
    campaigns: pd.DataFrame,
    show_rows: pd.DataFrame,
    campaign_rows: pd.DataFrame,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[tuple, str]]:
    """Copies of the dense daily frames with anomalies in a random share of the eligible
    unit-days (``show_rows``/``campaign_rows``: feature rows indexed by their position in the
    dense frames); returns them and the injected (unit key -> kind)."""
    show_columns = {c: shows[c].to_numpy(copy=True) for c in shows.columns}
    injected: dict[tuple, str] = {}
    for position, row in zip(show_rows.index, show_rows.itertuples(index=False), strict=True):
        if rng.random() >= INJECT_SHARE:
            continue
        kind = str(rng.choice(eligible_kinds(SHOW_KINDS, float(row.downloads_expected))))
        day = {c: values[position] for c, values in show_columns.items()}
        changed = inject_show_day(
            day, kind, float(row.downloads_expected), float(row.bytes_per_download), rng
        )
        for column, value in changed.items():
            show_columns[column][position] = value
        injected[("show", row.show_id, row.day)] = kind
    campaign_columns = {c: campaigns[c].to_numpy(copy=True) for c in campaigns.columns}
    campaign_positions = {
        key: i for i, key in enumerate(zip(campaigns["campaign_id"], campaigns["day"], strict=True))
    }
    for row in campaign_rows.itertuples(index=False):
        if rng.random() >= INJECT_SHARE:
            continue
        expected, unit = float(row.expected), float(row.unit)
        kind = str(rng.choice(eligible_kinds(CAMPAIGN_KINDS, expected / unit)))
        position = campaign_positions[(row.campaign_id, row.day)]
        values = campaign_columns[row.metric]
        values[position] = inject_campaign_value(float(values[position]), kind, expected, unit, rng)
        injected[(row.metric, row.campaign_id, row.day)] = kind
    return pd.DataFrame(show_columns), pd.DataFrame(campaign_columns), injected


def _holdout_scores(
    detector: AnomalyDetector,
    shows: pd.DataFrame,
    campaigns: pd.DataFrame,
    campaign_info: dict,
    last_day: date,
    holdout_start: pd.Timestamp,
) -> pd.DataFrame:
    """Both detectors' scores of every holdout unit-day, keyed as the injections are."""
    scored_shows = score_shows(detector, show_features(shows))
    scored_campaigns = score_campaigns(
        detector, campaign_features(campaigns, campaign_info, last_day)
    )
    show_keys = [
        ("show", s, d) for s, d in zip(scored_shows["show_id"], scored_shows["day"], strict=True)
    ]
    campaign_keys = [
        (m, c, d)
        for m, c, d in zip(
            scored_campaigns.get("metric", []),
            scored_campaigns.get("campaign_id", []),
            scored_campaigns.get("day", []),
            strict=True,
        )
    ]
    columns = ["day", "baseline_score", "combined_score"]
    scores = pd.concat(
        [
            scored_shows[columns].assign(key=show_keys),
            scored_campaigns.reindex(columns=columns).assign(key=campaign_keys),
        ],
        ignore_index=True,
    )
    return scores[scores["day"] >= holdout_start].reset_index(drop=True)


@dataclass(frozen=True)
class BacktestResult:
    """Both detectors' metrics (means over the rounds) and how sure the gain is."""

    combined: dict[str, float]
    baseline: dict[str, float]
    holdout_rows: int
    # The combined detector's F1 gain over the baseline in each round (same injections).
    gains: list[float]

    @property
    def gain_standard_error(self) -> float:
        if len(self.gains) < 2:
            return float("inf")
        return float(np.std(self.gains, ddof=1) / np.sqrt(len(self.gains)))


def backtest(
    detector: AnomalyDetector,
    shows: pd.DataFrame,
    campaigns: pd.DataFrame,
    campaign_info: dict,
    last_day: date,
    holdout_start: pd.Timestamp,
    rounds: int = ROUNDS,
) -> BacktestResult:
    """Score both detectors on ``rounds`` injected copies of the holdout. ``shows`` and
    ``campaigns`` are dense daily frames (:func:`dense_shows`, :func:`dense_campaigns`);
    ``detector`` was fitted on the days before ``holdout_start``."""
    clean_shows = show_features(shows)
    clean_campaigns = campaign_features(campaigns, campaign_info, last_day)
    show_rows = clean_shows[clean_shows["complete"] & (clean_shows["day"] >= holdout_start)]
    campaign_rows = (
        clean_campaigns[clean_campaigns["complete"] & (clean_campaigns["day"] >= holdout_start)]
        if len(clean_campaigns)
        else clean_campaigns
    )
    per_round: dict[str, list[dict[str, float]]] = {"combined": [], "baseline": []}
    holdout_rows = 0
    for round_number in range(rounds):
        rng = np.random.default_rng([SEED, round_number])
        injected_shows, injected_campaigns, injected = _inject_round(
            shows, campaigns, show_rows, campaign_rows, rng
        )
        scores = _holdout_scores(
            detector, injected_shows, injected_campaigns, campaign_info, last_day, holdout_start
        )
        kinds = np.array([injected.get(key, "") for key in scores["key"]], dtype=object)
        labels = kinds != ""
        if not labels.any() or labels.all():
            continue
        holdout_rows = len(scores)
        for side in ("combined", "baseline"):
            per_round[side].append(_round_metrics(scores[f"{side}_score"], labels, kinds))
    gains = [
        c["f1_at_fp_budget"] - b["f1_at_fp_budget"]
        for c, b in zip(per_round["combined"], per_round["baseline"], strict=True)
    ]
    return BacktestResult(
        combined=_mean(per_round["combined"]),
        baseline=_mean(per_round["baseline"]),
        holdout_rows=holdout_rows,
        gains=gains,
    )


def _round_metrics(scores: pd.Series, labels: np.ndarray, kinds: np.ndarray) -> dict[str, float]:
    values = scores.to_numpy(float)
    threshold = budget_threshold(values, labels)
    at_budget = metrics_at_budget(values, labels)
    result = {f"{k}_at_fp_budget": v for k, v in at_budget.items()}
    at_alert = metrics_at_threshold(values, labels)
    result |= {f"{k}_at_alert_threshold": v for k, v in at_alert.items()}
    for kind in sorted(set(SHOW_KINDS) | set(CAMPAIGN_KINDS)):
        mask = kinds == kind
        if mask.any():
            result[f"recall_{kind}_at_fp_budget"] = float(np.mean(values[mask] > threshold))
    result["injected_days"] = float(labels.sum())
    return result


def _mean(results: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for r in results for k in r})
    return {k: float(np.nanmean([r.get(k, np.nan) for r in results])) for k in keys}
