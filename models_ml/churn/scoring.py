"""Scoring: every household active on a show on the data's last day, with its churn
probability, risk band and the values behind it; and per show the expected churners beside the
churn last observed."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from models_ml.churn.cutoffs import WINDOW_DAYS, active_pairs, churn_labels, latest_observed
from models_ml.churn.data import ChurnData, read_churn_data
from models_ml.churn.features import features_at
from models_ml.churn.model import ChurnModel, risk_band
from warehouse.connection import Warehouse

SCORES_TABLE = "churn_scores"
SHOW_RATES_TABLE = "churn_show_rates"

# The features written beside each score (whole numbers, then shares), so an analyst sees why.
SCORE_COUNTS = [
    "days_since_last_download",
    "episodes_since_last_download",
    "episodes_behind",
    f"downloads_{WINDOW_DAYS}d",
    f"episodes_downloaded_{WINDOW_DAYS}d",
    "show_tenure_days",
]
SCORE_SHARES = ["share_of_releases_downloaded", "share_within_7d"]

SCORES_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("show_id", pa.string()),
        ("household_id", pa.string()),
        ("as_of", pa.date32()),
        ("churn_probability", pa.float64()),
        ("risk_band", pa.string()),
        ("last_download_date", pa.date32()),
        *[(name, pa.int64()) for name in SCORE_COUNTS],
        *[(name, pa.float64()) for name in SCORE_SHARES],
        ("model_version", pa.string()),
    ]
)

SHOW_RATES_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("show_id", pa.string()),
        ("show_name", pa.string()),
        ("as_of", pa.date32()),
        ("active_households", pa.int64()),
        ("expected_churners", pa.float64()),
        ("predicted_churn_rate", pa.float64()),
        ("at_risk_households", pa.int64()),
        ("observed_cutoff", pa.date32()),
        ("observed_households", pa.int64()),
        ("observed_churn_rate_last_period", pa.float64()),
        ("model_version", pa.string()),
    ]
)


def _nullable_ints(values: pd.Series) -> list[int | None]:
    return [None if pd.isna(v) else int(v) for v in values]


def _nullable_floats(values: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in values]


def scores_table(
    tenant_id: str, as_of: date, rows: pd.DataFrame, probability: np.ndarray, model_version: str
) -> pa.Table:
    """One row per active household × show (``rows``: household_id, show_id, the features)."""
    last_download = rows["cutoff"] - pd.to_timedelta(rows["days_since_last_download"], unit="D")
    columns: dict[str, list] = {
        "tenant_id": [tenant_id] * len(rows),
        "show_id": rows["show_id"].astype(str).tolist(),
        "household_id": rows["household_id"].astype(str).tolist(),
        "as_of": [as_of] * len(rows),
        "churn_probability": [round(float(p), 6) for p in probability],
        "risk_band": risk_band(probability).tolist(),
        "last_download_date": [None if pd.isna(d) else d.date() for d in last_download],
        **{name: _nullable_ints(rows[name]) for name in SCORE_COUNTS},
        **{name: _nullable_floats(rows[name]) for name in SCORE_SHARES},
        "model_version": [model_version] * len(rows),
    }
    return pa.Table.from_pydict(columns, schema=SCORES_SCHEMA)


def observed_rates(data: ChurnData) -> pd.DataFrame:
    """Per show, the churn of its latest cut-off with a complete label: show_id,
    observed_cutoff, observed_households, observed_churn_rate_last_period."""
    first, last = pd.Timestamp(data.first_day), pd.Timestamp(data.last_day)
    out = []
    for show_id in sorted(data.downloads["show_id"].unique()):
        window = latest_observed(data.episodes, show_id, first, last)
        if window is None:
            continue
        pairs = active_pairs(data.downloads, show_id, window.cutoff)
        if pairs.empty:
            continue
        labels = churn_labels(data.downloads, window, pairs["household_id"])
        out.append(
            {
                "show_id": show_id,
                "observed_cutoff": window.cutoff.date(),
                "observed_households": len(labels),
                "observed_churn_rate_last_period": float(labels.mean()),
            }
        )
    return pd.DataFrame(
        out,
        columns=[
            "show_id",
            "observed_cutoff",
            "observed_households",
            "observed_churn_rate_last_period",
        ],
    )


def show_rates_table(
    tenant_id: str,
    as_of: date,
    data: ChurnData,
    rows: pd.DataFrame,
    probability: np.ndarray,
    model_version: str,
) -> pa.Table:
    """One row per show with active households today or an observed churn rate."""
    scored = pd.DataFrame(
        {
            "show_id": rows["show_id"].astype(str).to_numpy(),
            "p": probability,
            "high": risk_band(probability) == "high",
        }
    )
    predicted = scored.groupby("show_id").agg(
        active_households=("p", "size"),
        expected_churners=("p", "sum"),
        at_risk_households=("high", "sum"),
    )
    observed = observed_rates(data).set_index("show_id")
    shows = sorted(set(predicted.index) | set(observed.index))
    table = pd.DataFrame(index=pd.Index(shows, name="show_id"))
    table = table.join(predicted).join(observed)
    active = table["active_households"].fillna(0).astype("int64")
    expected = table["expected_churners"].fillna(0.0)
    columns: dict[str, list] = {
        "tenant_id": [tenant_id] * len(table),
        "show_id": list(table.index),
        "show_name": [data.show_names.get(s) for s in table.index],
        "as_of": [as_of] * len(table),
        "active_households": active.tolist(),
        "expected_churners": [round(float(e), 6) for e in expected],
        "predicted_churn_rate": [
            round(float(e) / a, 6) if a else None for e, a in zip(expected, active, strict=True)
        ],
        "at_risk_households": table["at_risk_households"].fillna(0).astype("int64").tolist(),
        "observed_cutoff": [None if pd.isna(d) else d for d in table["observed_cutoff"]],
        "observed_households": _nullable_ints(table["observed_households"]),
        "observed_churn_rate_last_period": [
            None if pd.isna(r) else round(float(r), 6)
            for r in table["observed_churn_rate_last_period"]
        ],
        "model_version": [model_version] * len(table),
    }
    return pa.Table.from_pydict(columns, schema=SHOW_RATES_SCHEMA)


def score_churn(
    wh: Warehouse, tenant_id: str, model: ChurnModel, model_version: str
) -> dict[str, pa.Table]:
    data = read_churn_data(wh, tenant_id)
    if data is None:
        return {
            SCORES_TABLE: SCORES_SCHEMA.empty_table(),
            SHOW_RATES_TABLE: SHOW_RATES_SCHEMA.empty_table(),
        }
    as_of = data.last_day
    cutoff = pd.Timestamp(as_of)
    shows = sorted(data.downloads["show_id"].unique())
    parts = [active_pairs(data.downloads, show_id, cutoff) for show_id in shows]
    pairs = (
        pd.concat(parts, ignore_index=True)
        if parts
        else active_pairs(data.downloads.iloc[:0], "", cutoff)
    )
    rows = features_at(data.downloads, data.episodes, pairs)
    probability = model.predict(rows)
    return {
        SCORES_TABLE: scores_table(tenant_id, as_of, rows, probability, model_version),
        SHOW_RATES_TABLE: show_rates_table(
            tenant_id, as_of, data, rows, probability, model_version
        ),
    }
