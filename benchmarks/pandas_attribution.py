"""The five attribution models written the straightforward way, in pandas.

An independent implementation of DESIGN.md's semantics: the tests compare the dbt marts with it,
and the benchmark measures the warehouse against it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")


def attribute(
    touchpoints: pd.DataFrame,
    conversions: pd.DataFrame,
    *,
    lookback_days: float = 30,
    half_life_days: float = 7,
    first_weight: float = 0.4,
    last_weight: float = 0.4,
) -> pd.DataFrame:
    """Credits per (conversion, touchpoint, model).

    touchpoints: tenant_id, touchpoint_id, household_id, touch_ts, placement_id, campaign_id
    conversions: tenant_id, conversion_id, household_id, conversion_ts, revenue
    """
    paths = conversions.merge(touchpoints, on=["tenant_id", "household_id"], how="inner")
    gap = (paths["conversion_ts"] - paths["touch_ts"]).dt.total_seconds()
    paths = paths[(gap >= 0) & (gap <= lookback_days * 86400)].copy()
    paths["days_before"] = gap[paths.index] / 86400.0
    # Touches at the same instant (one download, two placements) in placement id order.
    paths = paths.sort_values(
        ["tenant_id", "conversion_id", "touch_ts", "placement_id", "touchpoint_id"]
    )
    grouped = paths.groupby(["tenant_id", "conversion_id"], sort=False)
    paths["idx"] = grouped.cumcount() + 1
    paths["n"] = grouped["touchpoint_id"].transform("size")
    n, idx = paths["n"].to_numpy(), paths["idx"].to_numpy()

    decay = np.power(2.0, -paths["days_before"].to_numpy() / half_life_days)
    decay_sum = (
        pd.Series(decay, index=paths.index)
        .groupby([paths["tenant_id"], paths["conversion_id"]])
        .transform("sum")
        .to_numpy()
    )
    middle = np.where(n > 2, (1.0 - first_weight - last_weight) / np.maximum(n - 2, 1), 0.0)
    position = np.select(
        [n == 1, n == 2, idx == 1, idx == n],
        [1.0, 0.5, first_weight, last_weight],
        default=middle,
    )
    weights = {
        "first_touch": (idx == 1).astype(float),
        "last_touch": (idx == n).astype(float),
        "linear": 1.0 / n,
        "time_decay": decay / decay_sum,
        "position_based": position,
    }
    frames = []
    for model in MODELS:
        part = paths[
            ["tenant_id", "conversion_id", "touchpoint_id", "campaign_id", "revenue"]
        ].copy()
        part["model"] = model
        part["credit"] = weights[model]
        frames.append(part)
    credits = pd.concat(frames, ignore_index=True)
    credits["credited_revenue"] = credits["credit"] * credits["revenue"]
    return credits.drop(columns="revenue")
