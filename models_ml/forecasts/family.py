"""The forecasts family: campaign delivery and results over the rest of the flight, and the
best publish slot per show.

Training runs the rolling-origin back-test (:mod:`backtest`) against the run-rate baseline,
then fits the version's parameters on all the data and the publish-slot model. Scoring
forecasts from the data's last day every campaign then in flight; when none is (the data ends
after every flight), it forecasts from the latest weekly evaluation cut-off at which a campaign
was in flight, so the tables show the forecast beside what happened (``actual``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from models_ml.evaluation import Evaluation
from models_ml.family import NotEnoughData, Trained
from models_ml.forecasts.backtest import origins, run_backtest, score
from models_ml.forecasts.campaign_model import (
    MIN_ELAPSED_DAYS,
    Fits,
    Settings,
    TenantParams,
    fit_tenant_params,
    forecast_campaigns,
)
from models_ml.forecasts.data import READS, TenantData, load_tenant_data
from models_ml.forecasts.publish_times import PublishTimes, fit_publish_times
from models_ml.forecasts.scored_tables import forecast_tables, publish_table
from warehouse.connection import Warehouse

# Below these the holdout cannot tell the model from the baseline: a handful of forecasts, or
# so few conversions that even a perfect forecast would get a large WAPE from their Poisson
# noise alone (E|A - mu| = sqrt(2 mu / pi) for a Poisson count A of mean mu).
MIN_HOLDOUT_CASES = 5
MAX_NOISE_WAPE = 0.25


def noise_wape(actual_totals: list[float]) -> float:
    """The conversions WAPE a perfect forecast would get from Poisson noise: sum sqrt(2 A / pi)
    over sum A (each remaining total A standing in for its mean)."""
    total = sum(actual_totals)
    if total <= 0:
        return float("inf")
    return sum(math.sqrt(2 * max(a, 0.0) / math.pi) for a in actual_totals) / total


FEATURES = [
    "episode_age_days",
    "download_weekday",
    "episode_level",
    "show_release_cadence",
    "placement_delivery_rate",
    "impressions_by_lag_day",
    "flight_week",
    "campaign_effect",
    "revenue_per_conversion",
    "release_weekday",
    "release_hour_utc",
]


@dataclass(frozen=True)
class ForecastModel:
    """A version's artefact: its settings, the parameters fitted on the data up to
    ``params.fitted_through``, and the publish-slot estimates."""

    settings: Settings
    params: TenantParams
    publish: PublishTimes | None


def choose_as_of(data: TenantData) -> date | None:
    """The data's last day when a campaign is in flight then, else the latest weekly evaluation
    cut-off with one in flight; None when no cut-off has any."""
    if data.data_end is None:
        return None
    c = data.campaigns
    for day in [data.data_end, *origins(data)]:
        started = c["start_date"] + timedelta(days=MIN_ELAPSED_DAYS - 1) <= day
        if (started & (c["end_date"] > day)).any():
            return day
    return None


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 6) for k, v in metrics.items() if math.isfinite(v)}


class ForecastsFamily:
    name = "forecasts"
    description = (
        "daily impressions, observed linear-attributed conversions and revenue over the rest of "
        "each campaign's flight with 80% intervals (judged by WAPE of the remaining totals "
        "against the run-rate baseline), and the best publish weekday and hour per show"
    )
    reads = READS
    tables = ("campaign_forecasts", "campaign_forecast_totals", "publish_times")

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()

    def train(self, wh: Warehouse, tenant_id: str) -> Trained:
        data = load_tenant_data(wh, tenant_id)
        if data.data_end is None or data.campaigns.empty or data.placement_days.empty:
            raise NotEnoughData("no campaign with impressions")
        fits = Fits(data, self.settings)
        cases = run_backtest(data, self.settings, fits)
        if len(cases) < MIN_HOLDOUT_CASES:
            raise NotEnoughData(
                f"{len(cases)} campaign forecasts to evaluate (weekly cut-offs with a lookback "
                f"window of impressions before them, campaigns in flight for {MIN_ELAPSED_DAYS}"
                f" days that ended by {data.data_end}); at least {MIN_HOLDOUT_CASES} needed"
            )
        remaining = [float(c.actual["conversions"].sum()) for c in cases]
        conversions, floor = sum(remaining), noise_wape(remaining)
        if floor > MAX_NOISE_WAPE:
            raise NotEnoughData(
                f"the {len(cases)} evaluated forecasts hold {conversions:.1f} credited conversions"
                f" after their cut-offs: Poisson noise alone would give a perfect forecast a"
                f" conversions WAPE of {floor:.2f} (over {MAX_NOISE_WAPE:g}), too much to tell the"
                " model from the baseline"
            )
        params = fit_tenant_params(data, data.data_end, self.settings, fits)
        if params is None:
            raise NotEnoughData("no episode downloads to learn the download curve from")
        publish = fit_publish_times(
            data.episodes, data.episode_days, data.download_hours, data.data_end
        )
        evaluation = Evaluation(
            metric="wape",
            higher_is_better=False,
            model=_finite(score(cases, "model")),
            baseline_name="run_rate",
            baseline=_finite(score(cases, "baseline")),
            holdout_rows=len(cases),
            notes={
                "holdout": "rolling origin: weekly cut-offs back from the data's last day; at"
                " each, every campaign in flight that ended by the data's last day is forecast"
                " to the end of its flight from what was known then",
                "wape": "mean over impressions, conversions and revenue of sum |forecast -"
                " actual| / sum actual of the remaining flight totals",
            },
        )
        first = data.campaigns["start_date"].min()
        days = sum(
            max((min(c.end_date, data.data_end) - c.start_date).days + 1, 0)
            for c in data.campaigns.itertuples(index=False)
        )
        by_origin: dict[str, int] = {}
        for c in cases:
            by_origin[c.origin.isoformat()] = by_origin.get(c.origin.isoformat(), 0) + 1
        return Trained(
            model=ForecastModel(settings=self.settings, params=params, publish=publish),
            features=list(FEATURES),
            data_start=min(first, data.episode_days["day"].min()),
            data_end=data.data_end,
            training_rows=days,
            evaluation=evaluation,
            details={
                "attribution_model": "linear (observed credits)",
                "holdout_conversions": round(conversions, 3),
                "holdout_conversions_noise_wape": round(floor, 4),
                "forecasts_per_cut_off": by_origin,
                "parameters": params.summary(),
                "publish_times": {
                    "episodes_fitted": publish.episodes if publish else 0,
                    "shows": len(publish.shows) if publish else 0,
                },
            },
        )

    def score(
        self, wh: Warehouse, tenant_id: str, model: Any, model_version: str
    ) -> dict[str, pa.Table]:
        if not isinstance(model, ForecastModel):
            raise TypeError(f"a forecasts version holds a ForecastModel, not {type(model)}")
        data = load_tenant_data(wh, tenant_id)
        settings = model.settings
        forecasts = []
        as_of = choose_as_of(data)
        if as_of is not None:
            known = data.known_at(as_of)
            params = model.params
            if as_of < params.fitted_through:
                # A cut-off before the version's data: refit on what was known then, so the
                # forecast shown beside the actuals never saw them.
                params = fit_tenant_params(known, as_of, settings)
            if params is not None:
                forecasts = forecast_campaigns(known, params, as_of, settings)
        daily, totals = forecast_tables(
            tenant_id, data, forecasts, model_version, settings.interval
        )
        return {
            "campaign_forecasts": daily,
            "campaign_forecast_totals": totals,
            "publish_times": publish_table(tenant_id, model.publish, model_version),
        }
