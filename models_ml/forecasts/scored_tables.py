"""The rows the forecasts write: ``ml.campaign_forecasts`` (campaign x day x metric),
``ml.campaign_forecast_totals`` (campaign x metric) and ``ml.publish_times`` (show)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from models_ml.forecasts.baseline import run_rate_forecast
from models_ml.forecasts.campaign_daily import METRICS, Forecast, daily_series, day_range
from models_ml.forecasts.data import TenantData
from models_ml.forecasts.publish_times import PublishTimes

DAILY_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("campaign_id", pa.string()),
        ("as_of", pa.date32()),
        ("day", pa.date32()),
        ("metric", pa.string()),
        ("forecast", pa.float64()),
        ("lower_80", pa.float64()),
        ("upper_80", pa.float64()),
        ("actual", pa.float64()),
        ("flight_end", pa.date32()),
        ("model_version", pa.string()),
    ]
)

TOTALS_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("campaign_id", pa.string()),
        ("as_of", pa.date32()),
        ("metric", pa.string()),
        ("flight_start", pa.date32()),
        ("flight_end", pa.date32()),
        ("days_elapsed", pa.int64()),
        ("days_remaining", pa.int64()),
        ("to_date", pa.float64()),
        ("forecast_remaining", pa.float64()),
        ("lower_80_remaining", pa.float64()),
        ("upper_80_remaining", pa.float64()),
        ("forecast_total", pa.float64()),
        ("lower_80_total", pa.float64()),
        ("upper_80_total", pa.float64()),
        ("run_rate_remaining", pa.float64()),
        ("actual_remaining", pa.float64()),
        ("model_version", pa.string()),
    ]
)

PUBLISH_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("show_id", pa.string()),
        ("best_weekday", pa.int64()),
        ("best_hour_utc", pa.int64()),
        ("expected_downloads_7d", pa.float64()),
        ("usual_weekday", pa.int64()),
        ("usual_hour_utc", pa.int64()),
        ("usual_expected_downloads_7d", pa.float64()),
        ("expected_lift_pct", pa.float64()),
        ("lift_lower_80_pct", pa.float64()),
        ("lift_upper_80_pct", pa.float64()),
        ("episodes_observed", pa.int64()),
        ("confidence", pa.string()),
        ("note", pa.string()),
        ("model_version", pa.string()),
    ]
)


def _rows_to_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


def forecast_tables(
    tenant_id: str, data: TenantData, forecasts: list[Forecast], model_version: str,
    interval: float,
) -> tuple[pa.Table, pa.Table]:  # fmt: skip
    """Daily and total rows of ``forecasts``; ``data`` is everything known now, so days up to
    the data's last day carry their actual values (a forecast from an earlier cut-off)."""
    data_end = data.data_end
    daily, totals = [], []
    for f in forecasts:
        actual = daily_series(data, f.campaign_id, f.days)
        known = np.array([data_end is not None and d <= data_end for d in f.days], dtype=bool)
        past = daily_series(data, f.campaign_id, day_range(f.start_date, f.as_of))
        run_rate = run_rate_forecast(
            f.campaign_id, f.start_date, f.end_date, f.as_of, past, interval
        )
        for metric in METRICS:
            for i, day in enumerate(f.days):
                daily.append(
                    {
                        "tenant_id": tenant_id,
                        "campaign_id": f.campaign_id,
                        "as_of": f.as_of,
                        "day": day,
                        "metric": metric,
                        "forecast": float(f.mean[metric][i]),
                        "lower_80": float(f.lower[metric][i]),
                        "upper_80": float(f.upper[metric][i]),
                        "actual": float(actual[metric][i]) if known[i] else None,
                        "flight_end": f.end_date,
                        "model_version": model_version,
                    }
                )
            remaining, lower, upper = f.total[metric]
            to_date = f.to_date[metric]
            totals.append(
                {
                    "tenant_id": tenant_id,
                    "campaign_id": f.campaign_id,
                    "as_of": f.as_of,
                    "metric": metric,
                    "flight_start": f.start_date,
                    "flight_end": f.end_date,
                    "days_elapsed": (f.as_of - f.start_date).days + 1,
                    "days_remaining": len(f.days),
                    "to_date": to_date,
                    "forecast_remaining": remaining,
                    "lower_80_remaining": lower,
                    "upper_80_remaining": upper,
                    "forecast_total": to_date + remaining,
                    "lower_80_total": to_date + lower,
                    "upper_80_total": to_date + upper,
                    "run_rate_remaining": run_rate.total[metric][0],
                    "actual_remaining": float(actual[metric].sum()) if known.all() else None,
                    "model_version": model_version,
                }
            )
    return _rows_to_table(daily, DAILY_SCHEMA), _rows_to_table(totals, TOTALS_SCHEMA)


def publish_table(tenant_id: str, publish: PublishTimes | None, model_version: str) -> pa.Table:
    rows = [
        {
            "tenant_id": tenant_id,
            "show_id": s.show_id,
            "best_weekday": s.best_weekday,
            "best_hour_utc": s.best_hour_utc,
            "expected_downloads_7d": s.expected_downloads_7d,
            "usual_weekday": s.usual_weekday,
            "usual_hour_utc": s.usual_hour_utc,
            "usual_expected_downloads_7d": s.usual_expected_downloads_7d,
            "expected_lift_pct": s.expected_lift_pct,
            "lift_lower_80_pct": s.lift_lower_80_pct,
            "lift_upper_80_pct": s.lift_upper_80_pct,
            "episodes_observed": s.episodes_observed,
            "confidence": s.confidence,
            "note": s.note,
            "model_version": model_version,
        }
        for s in (publish.shows if publish else [])
    ]
    return _rows_to_table(rows, PUBLISH_SCHEMA)
