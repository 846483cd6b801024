"""Rolling-origin evaluation: cut the data at a day, forecast the rest of every flight then in
progress, and compare with what happened.

Origins are weekly, counted back from the data's last day (at most ``MAX_ORIGINS``), while the
impressions reach a whole lookback window before them. At each origin the model is fitted on
the data known then (:meth:`TenantData.known_at`) and judged with its run-rate baseline on every
campaign in flight for ``MIN_ELAPSED_DAYS`` whose flight has ended by the data's last day (so
the whole remainder is known). Scores, per metric, over every (campaign, origin):

* ``wape_<m>``: sum |forecast - actual| / sum actual of the remaining totals;
* ``mape_<m>``: mean |forecast - actual| / actual of the remaining totals (actual > 0);
* ``coverage_<m>``: share of remaining totals inside their 80% interval;
* ``daily_coverage_<m>``: share of remaining days inside their daily 80% interval.

The primary metric ``wape`` is the mean of the three ``wape_<m>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from models_ml.forecasts.baseline import run_rate_forecast
from models_ml.forecasts.campaign_daily import METRICS, Forecast, daily_series, day_range
from models_ml.forecasts.campaign_model import (
    MIN_ELAPSED_DAYS,
    Fits,
    Settings,
    fit_tenant_params,
    forecast_campaigns,
    has_history,
)
from models_ml.forecasts.data import TenantData

ORIGIN_STEP_DAYS = 7
# The latest cut-offs only: they resemble the next forecasts most, and each costs a fit.
MAX_ORIGINS = 12


@dataclass(frozen=True)
class Case:
    """One campaign forecast from one origin, beside the baseline's and the actuals."""

    origin: date
    model: Forecast
    baseline: Forecast
    actual: dict[str, np.ndarray]  # daily, over the forecast days


def origins(data: TenantData) -> list[date]:
    """Weekly cut-offs back from the data's last day, latest first, while impressions reach a
    whole lookback window back (:func:`has_history`)."""
    if data.data_end is None or data.campaigns.empty:
        return []
    out, day = [], data.data_end - timedelta(days=ORIGIN_STEP_DAYS)
    while has_history(data, day) and len(out) < MAX_ORIGINS:
        out.append(day)
        day -= timedelta(days=ORIGIN_STEP_DAYS)
    return out


def evaluable(data: TenantData, origin: date) -> list[str]:
    """Campaigns in flight at ``origin`` for at least MIN_ELAPSED_DAYS whose flight has ended
    by the data's last day."""
    c = data.campaigns
    ok = (
        (c["start_date"] + timedelta(days=MIN_ELAPSED_DAYS - 1) <= origin)
        & (c["end_date"] > origin)
        & (c["end_date"] <= data.data_end)
    )
    return list(c[ok]["campaign_id"])


def run_backtest(data: TenantData, settings: Settings, fits: Fits | None = None) -> list[Case]:
    """Every evaluable (cut-off, campaign) forecast, model beside baseline (``fits``: a cache
    of fits over ``data`` to share with later fits)."""
    cases = []
    fits = fits or Fits(data, settings)
    for origin in origins(data):
        campaign_ids = evaluable(data, origin)
        if not campaign_ids:
            continue
        known, snapshot = fits.at(origin)
        params = fit_tenant_params(data, origin, settings, fits)
        if params is None:
            continue
        for forecast in forecast_campaigns(known, params, origin, settings, campaign_ids, snapshot):
            c = forecast.campaign_id
            past = daily_series(known, c, day_range(forecast.start_date, origin))
            baseline = run_rate_forecast(
                c, forecast.start_date, forecast.end_date, origin, past, settings.interval
            )
            actual = daily_series(data, c, forecast.days)
            cases.append(Case(origin=origin, model=forecast, baseline=baseline, actual=actual))
    return cases


def score(cases: list[Case], side: str) -> dict[str, float]:
    """The metrics of ``side`` ("model" or "baseline") over ``cases``."""
    out: dict[str, float] = {}
    for m in METRICS:
        forecast = np.array([getattr(c, side).total[m][0] for c in cases])
        lower = np.array([getattr(c, side).total[m][1] for c in cases])
        upper = np.array([getattr(c, side).total[m][2] for c in cases])
        actual = np.array([c.actual[m].sum() for c in cases])
        error = np.abs(forecast - actual)
        out[f"wape_{m}"] = float(error.sum() / actual.sum()) if actual.sum() > 0 else float("nan")
        positive = actual > 0
        out[f"mape_{m}"] = (
            float(np.mean(error[positive] / actual[positive])) if positive.any() else float("nan")
        )
        out[f"coverage_{m}"] = float(np.mean((actual >= lower) & (actual <= upper)))
        inside = [
            (c.actual[m] >= getattr(c, side).lower[m]) & (c.actual[m] <= getattr(c, side).upper[m])
            for c in cases
        ]
        out[f"daily_coverage_{m}"] = float(np.mean(np.concatenate(inside)))
    wapes = [out[f"wape_{m}"] for m in METRICS if np.isfinite(out[f"wape_{m}"])]
    out["wape"] = float(np.mean(wapes)) if wapes else float("nan")
    return out
