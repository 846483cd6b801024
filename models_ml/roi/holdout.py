"""The time-based holdout: train on the earlier placements, evaluate on the later ones."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from models_ml.family import NotEnoughData


@dataclass(frozen=True)
class TimeSplit:
    train: pd.DataFrame
    holdout: pd.DataFrame
    cutoff: pd.Timestamp

    def holdout_as_of(self, starts: pd.Series) -> pd.Series:
        """The day held-out placements are featured as of: their start, but never after the
        cutoff, so they see no history the candidate could not have seen when it was trained."""
        return starts.clip(upper=self.cutoff)


def time_split(
    mature: pd.DataFrame, holdout_share: float, min_train: int, min_holdout: int
) -> TimeSplit:
    """Placements starting on or after the cutoff are the holdout: about ``holdout_share`` of
    the mature placements, the latest ones. Placements starting the same day stay together.

    Raises NotEnoughData when either side would be smaller than its minimum.
    """
    rows = len(mature)
    if rows < min_train + min_holdout:
        raise NotEnoughData(
            f"{rows} mature placements with a cost; training and evaluating needs at least"
            f" {min_train + min_holdout} ({min_train} to train on and {min_holdout} later ones"
            " to evaluate on)"
        )
    ordered = mature.sort_values(["start", "placement_id"], kind="mergesort")
    first_holdout = min(rows - 1, max(1, math.ceil(rows * (1.0 - holdout_share))))
    cutoff = ordered["start"].iloc[first_holdout]
    train = ordered[ordered["start"] < cutoff]
    holdout = ordered[ordered["start"] >= cutoff]
    if len(train) < min_train or len(holdout) < min_holdout:
        raise NotEnoughData(
            f"the mature placements start on too few days to split them in time: {len(train)}"
            f" start before {cutoff.date()} and {len(holdout)} on or after it (needs"
            f" {min_train} and {min_holdout})"
        )
    return TimeSplit(train, holdout, cutoff)
