"""Are two models' errors really different? A bootstrap over households.

The world's households are the sampling units: a resample draws as many households as the world
has, with replacement, and recomputes every model's weighted error (sum over campaigns of
|attributed - true| / sum of true) from the resampled households' credits and caused orders.
Households with neither a credit nor a caused order add nothing to either side, so only the
others are held in memory; their resample counts are drawn exactly, as the active cells of one
multinomial over the whole population.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

CHUNK = 200  # resamples per matrix product: bounds memory at CHUNK x households
# Differences of fractional credit sums this small are floating-point noise, not a difference.
NOISE = 1e-9


@dataclass(frozen=True)
class HouseholdMatrix:
    households: list[str]
    campaigns: list[str]
    models: list[str]
    truth: np.ndarray  # households x campaigns: true caused conversions
    attributed: np.ndarray  # models x households x campaigns: credited conversions


def household_matrix(
    attributed: pd.DataFrame,
    truth: pd.DataFrame,
    campaigns: list[str],
    models: list[str],
    measure: str = "conversions",
) -> HouseholdMatrix:
    """Dense per-household arrays of ``measure`` from the frames metrics.py uses."""
    households = sorted(
        set(attributed["household_key"].astype(str)) | set(truth["household_key"].astype(str))
    )
    h_index = pd.Index(households)
    c_index = pd.Index(campaigns)
    m_index = pd.Index(models)
    t = np.zeros((len(households), len(campaigns)))
    rows = truth[truth["campaign_id"].isin(campaigns)]
    np.add.at(
        t,
        (h_index.get_indexer(rows["household_key"].astype(str)),
         c_index.get_indexer(rows["campaign_id"])),
        rows[measure].to_numpy(float),
    )  # fmt: skip
    a = np.zeros((len(models), len(households), len(campaigns)))
    rows = attributed[attributed["campaign_id"].isin(campaigns) & attributed["model"].isin(models)]
    np.add.at(
        a,
        (m_index.get_indexer(rows["model"]),
         h_index.get_indexer(rows["household_key"].astype(str)),
         c_index.get_indexer(rows["campaign_id"])),
        rows[measure].to_numpy(float),
    )  # fmt: skip
    return HouseholdMatrix(households, campaigns, models, t, a)


def weighted_error(attributed: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """sum_c |attributed - truth| / sum_c truth over the last axis (NaN where truth sums to 0)."""
    total = truth.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.abs(attributed - truth).sum(axis=-1) / total, np.nan)


def resample_errors(
    matrix: HouseholdMatrix, population: int, samples: int, seed: int
) -> np.ndarray:
    """models x samples: each model's weighted error on each household resample."""
    active = len(matrix.households)
    if population < active:
        raise ValueError(
            f"the world has {population} households but {active} carry credits or caused orders"
        )
    if samples < 1:
        raise ValueError(f"bootstrap samples must be >= 1, got {samples}")
    rng = np.random.default_rng(seed)
    # Cells 0..active-1 are the active households, the last cell all the others.
    pvals = np.full(active + 1, 1.0 / population)
    pvals[-1] = max(0.0, 1.0 - active / population)
    out = np.empty((len(matrix.models), samples))
    for start in range(0, samples, CHUNK):
        n = min(CHUNK, samples - start)
        weights = rng.multinomial(population, pvals, size=n)[:, :active].astype(float)
        truth = weights @ matrix.truth  # n x campaigns
        credited = np.einsum("nh,mhc->mnc", weights, matrix.attributed)
        out[:, start : start + n] = weighted_error(credited, truth[None, :, :])
    return out


def pairwise_differences(
    point: pd.Series, resampled: np.ndarray, models: list[str], level: float = 0.95
) -> pd.DataFrame:
    """Every ordered pair (model, other): point difference of their errors (model - other),
    the bootstrap percentile interval at ``level``, and whether it excludes 0."""
    tail = (1.0 - level) / 2 * 100
    rows = []
    for i, j in combinations(range(len(models)), 2):
        for a, b in ((i, j), (j, i)):
            diff = resampled[a] - resampled[b]
            diff = diff[np.isfinite(diff)]
            lower, upper = (
                np.percentile(diff, [tail, 100 - tail]) if diff.size else (np.nan, np.nan)
            )
            rows.append(
                (
                    models[a],
                    models[b],
                    float(point[models[a]] - point[models[b]]),
                    float(lower),
                    float(upper),
                    bool(lower > NOISE or upper < -NOISE),
                )
            )
    return pd.DataFrame(
        rows, columns=["model", "other_model", "difference", "lower", "upper", "significant"]
    )


def intervals(resampled: np.ndarray, models: list[str], level: float = 0.95) -> pd.DataFrame:
    """Each model's own error interval: model, lower, upper."""
    tail = (1.0 - level) / 2 * 100
    rows = []
    for k, model in enumerate(models):
        values = resampled[k][np.isfinite(resampled[k])]
        lo, hi = np.percentile(values, [tail, 100 - tail]) if values.size else (np.nan, np.nan)
        rows.append((model, float(lo), float(hi)))
    return pd.DataFrame(rows, columns=["model", "lower", "upper"])
