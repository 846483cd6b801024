"""The ROI model: gradient boosting on log(1 + ROAS) of a placement over the horizon.

A tenant has tens to a few hundred placements, so the trees are kept small and few (100 trees of
depth 2 with four leaves, at least ten placements per leaf, a learning rate of 0.03, column
subsampling) and the loss is Huber's on the log scale (squared within ±0.5, about ±65% of ROAS,
absolute beyond): ROAS is skewed, and one placement that returned five times the usual must not
pull the trees towards it. CAC follows from the
predicted ROAS and the show's revenue per conversion (ROAS = revenue / cost and CAC = cost /
conversions, so CAC = revenue per conversion / ROAS), which keeps the two predictions
consistent with each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

# Fixed: chosen once, for small tenants, on the holdouts of four simulated demo tenants and checked
# on two more (docs/user/ml/roi.md); never tuned per tenant, since a search on a few dozen
# holdout placements would fit the holdout rather than the data.
LGBM_PARAMS: dict[str, Any] = {
    "objective": "huber",
    "alpha": 0.5,
    "n_estimators": 100,
    "learning_rate": 0.03,
    "num_leaves": 4,
    "max_depth": 2,
    "min_child_samples": 10,
    "reg_lambda": 1.0,
    "colsample_bytree": 0.8,
    "subsample": 1.0,
    "random_state": 0,
    "n_jobs": 1,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


def fit_regressor(features: pd.DataFrame, roas: pd.Series) -> lgb.LGBMRegressor:
    """Fit the booster on log(1 + ROAS); deterministic (one thread, fixed seed)."""
    regressor = lgb.LGBMRegressor(**LGBM_PARAMS)
    regressor.fit(features.to_numpy(float), np.log1p(roas.to_numpy(float)))
    return regressor


@dataclass
class RoiModel:
    """What scoring needs: the booster, its features, and the settings its target was built
    with (the horizon and attribution model of the ROAS it predicts)."""

    regressor: lgb.LGBMRegressor
    features: list[str]
    horizon_days: int
    attribution_model: str
    # Revenue per conversion of all training placements, for a show without history (NaN when
    # the training placements had no conversion: no CAC can be predicted then).
    fallback_order_value: float
    details: dict[str, Any] = field(default_factory=dict)

    def predict_roas(self, features: pd.DataFrame) -> pd.Series:
        """Predicted ROAS (revenue within the horizon per unit of cost), never negative."""
        if features.empty:
            return pd.Series(dtype=float, index=features.index)
        raw = self.regressor.predict(features[self.features].to_numpy(float))
        return pd.Series(np.clip(np.expm1(raw), 0.0, None), index=features.index)

    def predict_cac(self, roas: pd.Series, order_value: pd.Series) -> pd.Series:
        """CAC = revenue per conversion / ROAS; null where either is 0 or unknown."""
        value = order_value.reindex(roas.index).fillna(self.fallback_order_value)
        return (value.where(value > 0) / roas.where(roas > 0)).astype(float)
