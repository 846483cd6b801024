"""What really happened in a simulated world, read from its ``_truth/`` folder.

The simulator's orders.csv says which campaign caused each order (empty: baseline); the caused
order's placement is the household's first exposure to that campaign (exposures.csv), which is
how the simulator draws the response (docs/developer/simulator.md, "Shop").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

TRUTH_DIR = "_truth"


class TruthError(ValueError):
    """A truth folder that is missing or does not hold what the simulator writes."""


@dataclass(frozen=True)
class Truth:
    # Every exported order: order_id, household_key, campaign_id (None: baseline), placement_id
    # (the causing exposure's placement; None: baseline), revenue, ip_class.
    orders: pd.DataFrame
    # One row per campaign: campaign_id, true_incremental_orders, true_incremental_revenue.
    campaigns: pd.DataFrame
    # Households in the world (the population the bootstrap resamples).
    households: int


def _read(folder: Path, name: str, columns: list[str]) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    if not path.is_file():
        raise TruthError(f"{path} is missing: is {folder.parent} a simulated export?")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise TruthError(f"{path} lacks the columns {', '.join(missing)}")
    return frame[columns]


def read_truth(export_dir: Path) -> Truth:
    """The truth of the world simulated into ``export_dir``."""
    folder = Path(export_dir) / TRUTH_DIR
    orders = _read(
        folder, "orders", ["order_id", "household_key", "caused_by_campaign_id", "revenue",
                           "ip_class"],
    )  # fmt: skip
    exposures = _read(folder, "exposures", ["household_key", "campaign_id", "first_placement_id"])
    effects = _read(
        folder,
        "campaign_effects",
        ["campaign_id", "true_incremental_orders", "true_incremental_revenue"],
    )
    households = _read(folder, "households", ["household_key"])

    orders = orders.rename(columns={"caused_by_campaign_id": "campaign_id"})
    orders["revenue"] = pd.to_numeric(orders["revenue"], errors="raise")
    orders["campaign_id"] = orders["campaign_id"].replace("", None)
    caused = orders.merge(
        exposures.rename(columns={"first_placement_id": "placement_id"}),
        on=["household_key", "campaign_id"],
        how="left",
    )
    unplaced = caused["campaign_id"].notna() & caused["placement_id"].isna()
    if unplaced.any():
        raise TruthError(
            f"{folder}/orders.csv: {int(unplaced.sum())} caused orders have no exposure of their "
            "household to the causing campaign in exposures.csv"
        )
    if caused["order_id"].duplicated().any():
        raise TruthError(f"{folder}/exposures.csv has a (household, campaign) twice")

    effects = effects.astype(
        {"true_incremental_orders": "int64", "true_incremental_revenue": "float64"}
    )
    return Truth(orders=caused, campaigns=effects, households=len(households))
