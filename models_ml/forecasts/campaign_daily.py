"""A campaign's daily actuals: impressions, observed conversions and revenue per flight day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from models_ml.forecasts.data import TenantData

METRICS = ("impressions", "conversions", "revenue")


def day_range(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included (empty when last < first)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class Forecast:
    """One campaign's forecast from ``as_of`` (the last day known) to its flight's end: daily
    point forecasts with their interval, and the remaining total with its interval."""

    campaign_id: str
    as_of: date
    start_date: date
    end_date: date
    days: list[date]
    to_date: dict[str, float]
    mean: dict[str, np.ndarray]
    lower: dict[str, np.ndarray]
    upper: dict[str, np.ndarray]
    total: dict[str, tuple[float, float, float]]  # remaining: forecast, lower, upper


def daily_series(data: TenantData, campaign_id: str, days: list[date]) -> dict[str, np.ndarray]:
    """Impressions, credited conversions (by conversion day) and their revenue on ``days``."""
    index = pd.Index(days)
    series = data.campaign_days.get(campaign_id, {})
    return {
        m: series[m].reindex(index, fill_value=0.0).to_numpy(float)
        if m in series
        else np.zeros(len(days))
        for m in METRICS
    }
