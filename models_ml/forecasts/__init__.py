"""Campaign forecasts over the rest of the flight and the best publish slot per show
(docs/user/ml/forecasts.md)."""

from models_ml.forecasts.family import ForecastsFamily

FAMILY = ForecastsFamily()

__all__ = ["FAMILY", "ForecastsFamily"]
