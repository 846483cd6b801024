"""Accuracy and bias of attributed against true caused conversions (pure pandas, no I/O).

Both sides come as one row per conversion share:

* ``attributed``: model, household_key, campaign_id, group columns, conversions (the credit),
  revenue (the credited revenue);
* ``truth``: household_key, campaign_id, group columns, conversions (1 per caused order),
  revenue.

The group columns (GROUP_DIMENSIONS) say where a credit went (the credited touch's placement,
show and the conversion's ip_class) and where the cause really was (the causing exposure's
placement and show, the order's ip_class).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GROUP_DIMENSIONS = ("position", "read_type", "show_size", "ip_class")
MEASURES = ("conversions", "revenue")


def campaign_table(
    attributed: pd.DataFrame, truth: pd.DataFrame, campaigns: list[str], models: list[str]
) -> pd.DataFrame:
    """One row per (model, campaign): attributed_* and true_* conversions and revenue.

    Every model gets every campaign, so a campaign a model never credits counts as 0 credited,
    not as missing."""
    grid = pd.MultiIndex.from_product([models, campaigns], names=["model", "campaign_id"])
    got = attributed.groupby(["model", "campaign_id"])[list(MEASURES)].sum()
    got = got.reindex(grid, fill_value=0.0).add_prefix("attributed_")
    true = truth.groupby("campaign_id")[list(MEASURES)].sum().reindex(campaigns, fill_value=0.0)
    out = got.reset_index()
    for measure in MEASURES:
        out[f"true_{measure}"] = out["campaign_id"].map(true[measure]).astype(float)
        out[f"error_{measure}"] = out[f"attributed_{measure}"] - out[f"true_{measure}"]
    return out


def accuracy(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and measure, across campaigns: mae (mean |error|), mape (mean |error| / true,
    over the campaigns with a true effect), wape (sum |error| / sum true) and net_error
    (sum error / sum true: below 0 the model under-credits in total)."""
    rows = []
    for model, group in table.groupby("model", sort=True):
        for measure in MEASURES:
            err = group[f"error_{measure}"].to_numpy(float)
            true = group[f"true_{measure}"].to_numpy(float)
            total = true.sum()
            has_effect = true > 0
            rows += [
                (model, f"mae_{measure}", float(np.abs(err).mean())),
                (
                    model,
                    f"mape_{measure}",
                    float(np.mean(np.abs(err[has_effect]) / true[has_effect]))
                    if has_effect.any()
                    else np.nan,
                ),
                (model, f"wape_{measure}", float(np.abs(err).sum() / total) if total else np.nan),
                (model, f"net_error_{measure}", float(err.sum() / total) if total else np.nan),
            ]
    return pd.DataFrame(rows, columns=["model", "metric", "value"])


def group_bias(
    attributed: pd.DataFrame,
    truth: pd.DataFrame,
    dimension: str,
    campaigns: list[str],
    models: list[str],
) -> pd.DataFrame:
    """Over- or under-credit of each group of ``dimension`` (e.g. position = pre), per model.

    Columns: model, group_value, attributed, truth (conversions in the group, all campaigns),
    mean_signed_error (mean over the world's campaigns of attributed - true in the group) and
    share_gap (the group's share of the model's credit minus its share of the true caused
    conversions: positive = the model favours the group, whatever its overall level)."""
    if dimension not in GROUP_DIMENSIONS:
        raise ValueError(f"unknown bias dimension {dimension!r}")
    groups = sorted(
        set(attributed[dimension].dropna().astype(str)) | set(truth[dimension].dropna().astype(str))
    )
    a = attributed.dropna(subset=[dimension]).astype({dimension: str})
    t = truth.dropna(subset=[dimension]).astype({dimension: str})
    grid = pd.MultiIndex.from_product(
        [models, groups, campaigns], names=["model", dimension, "campaign_id"]
    )
    got = a.groupby(["model", dimension, "campaign_id"])["conversions"].sum()
    got = got.reindex(grid, fill_value=0.0)
    true = t.groupby([dimension, "campaign_id"])["conversions"].sum()
    true_grid = pd.Series(
        true.reindex(grid.droplevel("model"), fill_value=0.0).to_numpy(float), index=grid
    )
    error = (got - true_grid).groupby(level=["model", dimension]).mean()
    got_total = got.groupby(level=["model", dimension]).sum()
    true_total = true_grid.groupby(level=["model", dimension]).sum()
    credit_share = got_total / got_total.groupby(level="model").transform("sum")
    true_share = true_total / true_total.groupby(level="model").transform("sum")
    out = pd.DataFrame(
        {
            "attributed": got_total,
            "truth": true_total,
            "mean_signed_error": error,
            "share_gap": (credit_share - true_share),
        }
    ).reset_index()
    return out.rename(columns={dimension: "group_value"})


def rank_models(accuracy_rows: pd.DataFrame, metric: str = "wape_conversions") -> pd.Series:
    """Rank 1 = smallest ``metric``; ties share the better rank; a model without a value last.

    Values are compared to 9 decimals: credits are fractions, so two models whose campaign
    totals are the same can differ in the last bits of their sums, which is no difference."""
    values = accuracy_rows[accuracy_rows["metric"] == metric].set_index("model")["value"]
    ranks = values.astype(float).round(9).rank(method="min", na_option="bottom")
    return ranks.astype(int).sort_values(kind="stable")
