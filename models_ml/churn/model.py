"""The churn classifier (LightGBM) and the risk bands its probabilities fall into."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

# Risk bands on the churn probability (absolute, so that bands mean the same for every show and
# tenant): high from HIGH_RISK, medium from MEDIUM_RISK, low below. The at-risk list is the high
# band.
HIGH_RISK = 0.8
MEDIUM_RISK = 0.5


def risk_band(probability: np.ndarray) -> np.ndarray:
    p = np.asarray(probability, dtype=np.float64)
    return np.where(p >= HIGH_RISK, "high", np.where(p >= MEDIUM_RISK, "medium", "low"))


def lightgbm_params(training_rows: int) -> dict[str, Any]:
    """Small, regularised trees: the signal is a handful of listening-volume features, and a
    leaf needs at least 20 rows (1% of the rows on a large tenant) so a small tenant is not
    memorised. Deterministic: fixed seed, one thread, LightGBM's deterministic mode."""
    return {
        "objective": "binary",
        "n_estimators": 150,
        "learning_rate": 0.05,
        "num_leaves": 7,
        "min_child_samples": max(20, training_rows // 100),
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "random_state": 0,
        "n_jobs": 1,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }


@dataclass
class ChurnModel:
    """What the registry keeps: the fitted classifier and the features it takes, in order."""

    classifier: lgb.LGBMClassifier
    features: list[str]
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, frame: pd.DataFrame, labels: np.ndarray, features: list[str]) -> ChurnModel:
        classifier = lgb.LGBMClassifier(**lightgbm_params(len(frame)))
        classifier.fit(frame[features], np.asarray(labels, dtype=np.int64))
        return cls(classifier=classifier, features=list(features))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Churn probabilities of the rows of ``frame`` (which has the model's features)."""
        if frame.empty:
            return np.zeros(0)
        return self.classifier.predict_proba(frame[self.features])[:, 1]

    def importance(self) -> dict[str, float]:
        """Total split gain per feature, largest first."""
        gains = self.classifier.booster_.feature_importance(importance_type="gain")
        ranked = sorted(zip(self.features, gains, strict=True), key=lambda fg: -fg[1])
        return {f: round(float(g), 3) for f, g in ranked}
