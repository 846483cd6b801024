"""Holdout metrics of a ROAS or CAC prediction against what the placements returned."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import spearmanr


def regression_metrics(prefix: str, predicted: pd.Series, actual: pd.Series) -> dict[str, float]:
    """MAE, RMSE and Spearman rank correlation over the rows where both are known.

    Spearman is left out when it is undefined (fewer than three rows, or a constant side: a
    baseline that predicts one value for every row ranks nothing).
    """
    both = pd.concat([predicted.rename("p"), actual.rename("a")], axis=1).dropna()
    if both.empty:
        return {}
    error = both["p"].to_numpy(float) - both["a"].to_numpy(float)
    metrics = {
        f"{prefix}_mae": float(np.mean(np.abs(error))),
        f"{prefix}_rmse": float(math.sqrt(float(np.mean(error**2)))),
    }
    if len(both) >= 3 and both["p"].nunique() > 1 and both["a"].nunique() > 1:
        rho = spearmanr(both["p"], both["a"]).statistic
        if math.isfinite(float(rho)):
            metrics[f"{prefix}_spearman"] = float(rho)
    return metrics
