"""Churn: which households are about to stop listening to a show (docs/user/ml/churn.md)."""

from models_ml.churn.family import ChurnFamily

FAMILY = ChurnFamily()

__all__ = ["FAMILY", "ChurnFamily"]
