"""Back-test of the budget allocator against a simulated world's ground truth.

Not part of training or promotion (production tenants have no truth): it answers "had the
budget been spread this way, how much revenue would the ads really have caused?" on a
simulator world, for the allocator and for two simple rules an analyst might use instead.

The truth (``_truth/orders.csv`` and ``_truth/exposures.csv``, connectors/simulator/truth.py)
says which orders each campaign caused and through which placement each household was first
exposed; summed per show over the placements' shows, that is each show's true incremental
revenue at the spend it actually had, so its true incremental ROAS. Spend at other levels is
valued with the same concave shape the allocator assumes (response.py), anchored on the truth:
``a_true = true ROAS × s0 / (1 - exp(-s0 / b))`` with the show's own ``s0`` and ``b``; a linear
valuation (spend × true ROAS, no saturation) is reported beside it.

Run it on a built warehouse (opened read-only) and the truth folder of one tenant::

    .venv/bin/python -m models_ml.roi.backtest --warehouse /tmp/demo.duckdb \\
        --tenant acme_audio --truth /tmp/demo-truth-acme_audio
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models_ml.roi.allocation import allocate
from models_ml.roi.family import RoiFamily
from models_ml.roi.placements import placement_frame
from models_ml.roi.reads import read_all
from models_ml.roi.response import response_revenue
from warehouse.connection import DuckDBWarehouse


def true_show_revenue(
    orders: pd.DataFrame, exposures: pd.DataFrame, placement_shows: pd.Series
) -> pd.Series:
    """Revenue of the orders each campaign caused, per show of the placement that first exposed
    the buying household to that campaign."""
    caused = orders[
        orders["caused_by_campaign_id"].notna() & (orders["caused_by_campaign_id"] != "")
    ]
    caused = caused.rename(columns={"caused_by_campaign_id": "campaign_id"})
    first = exposures[["household_key", "campaign_id", "first_placement_id"]]
    joined = caused.merge(first, on=["household_key", "campaign_id"], how="inner")
    joined["show_id"] = joined["first_placement_id"].map(placement_shows)
    return joined.dropna(subset=["show_id"]).groupby("show_id")["revenue"].sum().astype(float)


def proportional_split(weights: pd.Series, budget: float) -> pd.Series:
    """``budget`` in proportion to non-negative ``weights`` (equal when they are all 0)."""
    clipped = weights.clip(lower=0).fillna(0.0)
    if clipped.sum() <= 0:
        clipped = pd.Series(1.0, index=weights.index)
    return budget * clipped / clipped.sum()


@dataclass(frozen=True)
class Valuation:
    concave: float
    linear: float


def value(spend: pd.Series, truth: pd.DataFrame) -> Valuation:
    """True incremental revenue of ``spend`` (per show) under the truth-anchored curves."""
    concave = sum(
        response_revenue(truth.at[s, "a_true"], truth.at[s, "saturation_spend"], float(x))
        for s, x in spend.items()
    )
    linear = float((spend * truth["true_roas"].reindex(spend.index)).sum())
    return Valuation(float(concave), linear)


def backtest(warehouse: Path, tenant_id: str, truth_dir: Path, family: RoiFamily) -> dict:
    """Train on the warehouse, allocate, and value every allocation rule against the truth."""
    wh = DuckDBWarehouse(warehouse, read_only=True)
    try:
        trained = family.train(wh, tenant_id)
        data = read_all(wh, tenant_id, family.attribution_model)
    finally:
        wh.close()
    frame = placement_frame(data, family.horizon_days)
    curves, budget = family.show_curves(data, frame, trained.model)
    curves = curves.set_index("show_id")
    ours = allocate(curves.reset_index(), budget, family.allocation).set_index("show_id")

    orders = pd.read_csv(truth_dir / "orders.csv")
    exposures = pd.read_csv(truth_dir / "exposures.csv")
    revenue = true_show_revenue(orders, exposures, frame.set_index("placement_id")["show_id"])
    priced = frame[frame["cost"] > 0]
    spend = priced.groupby("show_id")["cost"].sum()
    truth = curves[["saturation_spend", "reference_spend"]].copy()
    truth["true_revenue"] = revenue.reindex(truth.index).fillna(0.0)
    truth["true_roas"] = truth["true_revenue"] / spend.reindex(truth.index)
    reached = 1.0 - np.exp(-truth["reference_spend"] / truth["saturation_spend"])
    truth["a_true"] = truth["true_roas"] * truth["reference_spend"] / reached

    # The rules an analyst might use instead: an equal split, and spend in proportion to each
    # show's past attributed ROAS (observed credits over cost, every placement).
    attributed = priced.groupby("show_id")["revenue"].sum() / spend
    rules = {
        "allocator": ours["allocated_spend"],
        "equal_split": pd.Series(budget / len(truth), index=truth.index),
        "past_roas_proportional": proportional_split(attributed.reindex(truth.index), budget),
    }
    # The best any allocation could do under the same constraints, knowing the truth.
    oracle_curves = curves.reset_index().assign(saturation_revenue=truth["a_true"].to_numpy())
    rules["oracle_same_constraints"] = allocate(oracle_curves, budget, family.allocation).set_index(
        "show_id"
    )["allocated_spend"]

    valued = {name: value(s.reindex(truth.index).fillna(0.0), truth) for name, s in rules.items()}
    return {
        "tenant_id": tenant_id,
        "budget": round(budget, 2),
        "evaluation": trained.evaluation.verdict(),
        "true_incremental_revenue": {
            name: {"concave": round(v.concave, 2), "linear": round(v.linear, 2)}
            for name, v in valued.items()
        },
        "spend": {
            name: {s: round(float(x), 2) for s, x in series.reindex(truth.index).items()}
            for name, series in rules.items()
        },
        "true_roas_by_show": {s: round(float(x), 2) for s, x in truth["true_roas"].items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a built DuckDB file")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--truth", type=Path, required=True, help="the tenant's _truth folder")
    args = parser.parse_args(argv)
    result = backtest(args.warehouse, args.tenant, args.truth, RoiFamily())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
