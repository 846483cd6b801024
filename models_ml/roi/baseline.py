"""The baseline every ROI candidate must beat: the show's historical mean, else the tenant's.

It is what an analyst would do without a model: expect a placement on a show to return what
the show's earlier placements returned on average. It is fitted on exactly the rows the
candidate trains on and predicts the same holdout rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class ShowMeanBaseline:
    """Per show, the mean of ``column`` over the training placements; the tenant mean for a show
    without training placements."""

    by_show: dict[str, float]
    tenant_mean: float

    @classmethod
    def fit(cls, train: pd.DataFrame, column: str) -> ShowMeanBaseline:
        known = train[train[column].notna()]
        if known.empty:
            raise ValueError(f"no training placement has a {column}")
        by_show = known.groupby("show_id")[column].mean()
        return cls({str(k): float(v) for k, v in by_show.items()}, float(known[column].mean()))

    def predict(self, rows: pd.DataFrame) -> pd.Series:
        return rows["show_id"].map(self.by_show).astype(float).fillna(self.tenant_mean)
