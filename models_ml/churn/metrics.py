"""Holdout metrics of churn probabilities: AUC, PR-AUC, Brier score and a calibration table."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

CALIBRATION_BINS = 10


def scores(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """``auc`` (primary), ``pr_auc`` (average precision of the churners), ``brier``,
    ``churn_rate`` and ``mean_probability`` (calibration in the large). AUC and PR-AUC are NaN
    when the labels have one class only."""
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(probabilities, dtype=np.float64)
    both = 0 < y.sum() < len(y)
    return {
        "auc": float(roc_auc_score(y, p)) if both else math.nan,
        "pr_auc": float(average_precision_score(y, p)) if both else math.nan,
        "brier": float(brier_score_loss(y, p)) if len(y) else math.nan,
        "churn_rate": float(y.mean()) if len(y) else math.nan,
        "mean_probability": float(p.mean()) if len(p) else math.nan,
    }


def rank_auc(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """AUC as the Mann-Whitney statistic (ties count half): sklearn's value, without its
    per-call overhead, for the bootstrap's hundreds of resamples."""
    y = np.asarray(labels, dtype=bool)
    positives = int(y.sum())
    negatives = len(y) - positives
    if not positives or not negatives:
        return math.nan
    ranks = rankdata(probabilities)
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def calibration_table(
    labels: np.ndarray, probabilities: np.ndarray, bins: int = CALIBRATION_BINS
) -> list[dict[str, float]]:
    """Deciles of the predicted probability (equal-count groups of the rows sorted by
    probability; ties keep their row order): rows, mean predicted and observed churn rate."""
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    out = []
    for decile, rows in enumerate(np.array_split(order, bins), start=1):
        if len(rows) == 0:
            continue
        out.append(
            {
                "decile": decile,
                "rows": len(rows),
                "mean_predicted": round(float(p[rows].mean()), 6),
                "observed_rate": round(float(y[rows].mean()), 6),
            }
        )
    return out
