"""The recency baseline: the longer since a household's last download of a show, the likelier it
has stopped. Days since the last download, turned into a probability by a one-feature logistic
fit on the training rows (so its Brier score and calibration can be compared too; its ranking,
hence its AUC, is that of the recency itself)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

BASELINE_NAME = "recency"
BASELINE_FEATURE = "days_since_last_download"


@dataclass
class RecencyBaseline:
    intercept: float
    slope: float

    @classmethod
    def fit(cls, days_since_last: np.ndarray, labels: np.ndarray) -> RecencyBaseline:
        x = np.asarray(days_since_last, dtype=np.float64).reshape(-1, 1)
        fit = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000).fit(x, labels)
        return cls(intercept=float(fit.intercept_[0]), slope=float(fit.coef_[0, 0]))

    def predict(self, days_since_last: np.ndarray) -> np.ndarray:
        z = self.intercept + self.slope * np.asarray(days_since_last, dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-z))
