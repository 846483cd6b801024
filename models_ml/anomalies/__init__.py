"""Anomalies in a tenant's downloads, traffic, conversions and spend (docs/user/ml/anomalies.md).

``data`` reads the marts, ``seasonal`` holds the robust seasonal baseline, ``features`` builds the
per-day feature vectors, ``detector`` fits and scores the baseline and the combined detector,
``injection`` and ``backtest`` judge them on synthetic anomalies, ``alerts`` writes the rows of
``ml.anomalies``, ``family`` ties them into the ML stage.
"""

from models_ml.anomalies.family import FAMILY, AnomaliesFamily

__all__ = ["FAMILY", "AnomaliesFamily"]
