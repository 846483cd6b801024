"""The naive baseline: the run-rate so far times the days remaining.

Its interval is the spread of the daily values so far: a day is the mean plus or minus
``z * sd`` (z of the central interval under a normal), the remaining total ``h * mean`` plus or
minus ``z * sd * sqrt(h)`` (independent days), never below zero.
"""

from __future__ import annotations

from datetime import date, timedelta
from statistics import NormalDist

import numpy as np

from models_ml.forecasts.campaign_daily import METRICS, Forecast, day_range


def z_of(interval: float) -> float:
    return NormalDist().inv_cdf(0.5 + interval / 2)


def run_rate_forecast(
    campaign_id: str,
    start_date: date,
    end_date: date,
    as_of: date,
    to_date_daily: dict[str, np.ndarray],
    interval: float = 0.8,
) -> Forecast:
    """``to_date_daily[m]`` holds metric ``m`` on every flight day from ``start_date`` to
    ``as_of``."""
    days = day_range(as_of + timedelta(days=1), end_date)
    h = len(days)
    z = z_of(interval)
    mean, lower, upper, total, to_date = {}, {}, {}, {}, {}
    for metric in METRICS:
        values = np.asarray(to_date_daily[metric], float)
        rate = float(values.mean()) if len(values) else 0.0
        sd = float(values.std(ddof=1)) if len(values) > 1 else rate
        to_date[metric] = float(values.sum())
        mean[metric] = np.full(h, rate)
        lower[metric] = np.full(h, max(rate - z * sd, 0.0))
        upper[metric] = np.full(h, rate + z * sd)
        spread = z * sd * np.sqrt(h)
        total[metric] = (rate * h, max(rate * h - spread, 0.0), rate * h + spread)
    return Forecast(
        campaign_id=campaign_id,
        as_of=as_of,
        start_date=start_date,
        end_date=end_date,
        days=days,
        to_date=to_date,
        mean=mean,
        lower=lower,
        upper=upper,
        total=total,
    )
