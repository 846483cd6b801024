"""Reading a world's truth folder, and refusing one that does not add up."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from attribution_validation.credits import show_size_terciles
from attribution_validation.truth import TruthError, read_truth


def _write(folder: Path, orders: list[tuple], exposures: list[tuple]) -> Path:
    truth = folder / "_truth"
    truth.mkdir(parents=True)
    pd.DataFrame(
        orders,
        columns=["order_id", "household_key", "caused_by_campaign_id", "ts", "revenue",
                 "ip_class"],
    ).to_csv(truth / "orders.csv", index=False)  # fmt: skip
    pd.DataFrame(exposures, columns=["household_key", "campaign_id", "first_placement_id"]).to_csv(
        truth / "exposures.csv", index=False
    )
    pd.DataFrame(
        {"campaign_id": ["c1", "c2"], "true_incremental_orders": [1, 0],
         "true_incremental_revenue": [50.0, 0.0]}
    ).to_csv(truth / "campaign_effects.csv", index=False)  # fmt: skip
    pd.DataFrame({"household_key": [1, 2, 3]}).to_csv(truth / "households.csv", index=False)
    return folder


ORDERS = [
    ("ord-1", 1, "c1", "2026-01-02T00:00:00Z", 50.0, "household"),
    ("ord-2", 2, "", "2026-01-03T00:00:00Z", 20.5, "cellular"),
]


def test_caused_orders_get_the_first_exposures_placement(tmp_path: Path) -> None:
    truth = read_truth(
        _write(tmp_path, ORDERS, [(1, "c1", "p7"), (1, "c2", "p9"), (3, "c1", "p8")])
    )
    orders = truth.orders.set_index("order_id")
    assert orders.loc["ord-1", "placement_id"] == "p7"
    assert orders.loc["ord-1", "campaign_id"] == "c1"
    assert orders.loc["ord-1", "household_key"] == "1"
    assert pd.isna(orders.loc["ord-2", "campaign_id"])
    assert pd.isna(orders.loc["ord-2", "placement_id"])
    assert orders.loc["ord-2", "revenue"] == 20.5
    assert truth.households == 3
    assert truth.campaigns["true_incremental_orders"].tolist() == [1, 0]


def test_a_caused_order_without_its_exposure_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TruthError, match="1 caused orders have no exposure"):
        read_truth(_write(tmp_path, ORDERS, [(3, "c1", "p8")]))


def test_a_missing_truth_file_is_named(tmp_path: Path) -> None:
    folder = _write(tmp_path, ORDERS, [(1, "c1", "p7")])
    (folder / "_truth" / "exposures.csv").unlink()
    with pytest.raises(TruthError, match="exposures.csv is missing"):
        read_truth(folder)


def test_show_size_terciles_by_downloads() -> None:
    downloads = pd.DataFrame(
        {"show_id": ["s1", "s2", "s3", "s4", "s5", "s6"], "downloads": [600, 10, 50, 40, 5, 700]}
    )
    # s7 has placements but no downloads: the smallest.
    sizes = show_size_terciles(downloads, pd.Series(["s1", "s2", "s3", "s4", "s6", "s7", "s1"]))
    assert sizes.to_dict() == {
        "s7": "small", "s2": "small", "s4": "medium", "s3": "medium", "s1": "large",
        "s6": "large",
    }  # fmt: skip
