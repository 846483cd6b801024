"""The ROI family: a placement's ROAS and CAC, and a budget spread over shows.

``train`` builds one row per placement (placements.py), measures each over the same horizon,
splits the mature ones in time (holdout.py), fits the booster on the earlier ones with features
known at the time (features.py) and compares it on the later ones with the show-mean baseline
(baseline.py). The served model is then refitted on every mature placement with the same
settings. ``score`` predicts every placement into ``ml.roi_predictions`` and spreads the budget
into ``ml.budget_allocation`` (response.py, allocation.py).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from models_ml.evaluation import Evaluation
from models_ml.family import NotEnoughData, Trained
from models_ml.roi.allocation import AllocationSettings, allocate, default_budget
from models_ml.roi.baseline import ShowMeanBaseline
from models_ml.roi.features import FEATURES, feature_matrix, show_average_order_value
from models_ml.roi.holdout import time_split
from models_ml.roi.incrementality import incremental_shares, show_shares
from models_ml.roi.metrics import regression_metrics
from models_ml.roi.model import LGBM_PARAMS, RoiModel, fit_regressor
from models_ml.roi.placements import UNKNOWN_SHOW, data_window, placement_frame
from models_ml.roi.reads import READS, RoiData, read_all
from models_ml.roi.response import show_responses
from warehouse.connection import Warehouse

PREDICTIONS_TABLE = "roi_predictions"
ALLOCATION_TABLE = "budget_allocation"

PREDICTIONS_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("placement_id", pa.string()),
        ("campaign_id", pa.string()),
        ("show_id", pa.string()),
        ("position", pa.string()),
        ("read_type", pa.string()),
        ("start_date", pa.date32()),
        ("cost", pa.float64()),
        ("predicted_roas", pa.float64()),
        ("predicted_cac", pa.float64()),
        ("actual_roas", pa.float64()),
        ("actual_cac", pa.float64()),
        ("model_version", pa.string()),
    ]
)

ALLOCATION_SCHEMA = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("show_id", pa.string()),
        ("budget_total", pa.float64()),
        ("allocated_spend", pa.float64()),
        ("min_spend", pa.float64()),
        ("max_spend", pa.float64()),
        ("predicted_incremental_revenue", pa.float64()),
        ("predicted_roas", pa.float64()),
        ("incremental_share", pa.float64()),
        ("binding_constraint", pa.string()),
        ("model_version", pa.string()),
    ]
)


def _none_if_nan(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


def _table(records: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    clean = [{k: _none_if_nan(v) for k, v in r.items()} for r in records]
    return pa.Table.from_pylist(clean, schema=schema)


class RoiFamily:
    """ROAS and CAC per placement, and the budget spread over shows (docs/user/ml/roi.md)."""

    name = "roi"
    description = (
        "a placement's ROAS and CAC over its first weeks, from show, position, read type, ad load,"
        " frequency and the show's history; and a budget spread over shows for the most"
        " predicted incremental revenue"
    )
    reads = READS
    tables = (PREDICTIONS_TABLE, ALLOCATION_TABLE)

    def __init__(
        self,
        *,
        horizon_days: int = 28,
        attribution_model: str = "linear",
        holdout_share: float = 0.3,
        min_train_placements: int = 36,
        min_holdout_placements: int = 12,
        min_relative_gain: float = 0.02,
        allocation: AllocationSettings | None = None,
    ) -> None:
        self.horizon_days = horizon_days
        self.attribution_model = attribution_model
        self.holdout_share = holdout_share
        self.min_train_placements = min_train_placements
        self.min_holdout_placements = min_holdout_placements
        self.min_relative_gain = min_relative_gain
        self.allocation = allocation or AllocationSettings()

    # -- training -------------------------------------------------------------------------

    def train(self, wh: Warehouse, tenant_id: str) -> Trained:
        data = read_all(wh, tenant_id, self.attribution_model)
        if data.data_end is None:
            raise NotEnoughData("no conversions: no placement's return is known")
        frame = placement_frame(data, self.horizon_days)
        mature = frame[frame["mature"] & (frame["cost"] > 0)]
        if mature.empty:
            raise NotEnoughData(
                f"no placement with a cost has completed its {self.horizon_days}-day horizon by"
                f" the last conversion day {data.data_end}"
            )
        split = time_split(
            mature, self.holdout_share, self.min_train_placements, self.min_holdout_placements
        )
        train, holdout = split.train, split.holdout

        # Training rows as of their own start; holdout rows as of the cutoff at the latest.
        as_of_start = feature_matrix(data, frame, frame["start"], self.horizon_days)
        train_x = as_of_start.loc[train.index]
        holdout_as_of = split.holdout_as_of(frame["start"])
        holdout_x = feature_matrix(data, frame, holdout_as_of, self.horizon_days).loc[holdout.index]
        candidate = RoiModel(
            regressor=fit_regressor(train_x, train["roas"]),
            features=list(FEATURES),
            horizon_days=self.horizon_days,
            attribution_model=self.attribution_model,
            fallback_order_value=_order_value(train),
        )
        predicted_roas = candidate.predict_roas(holdout_x)
        order_value = show_average_order_value(frame, holdout_as_of).loc[holdout.index]
        predicted_cac = candidate.predict_cac(predicted_roas, order_value)

        roas_baseline = ShowMeanBaseline.fit(train, "roas")
        baseline_roas = roas_baseline.predict(holdout)
        model_metrics = regression_metrics("roas", predicted_roas, holdout["roas"])
        baseline_metrics = regression_metrics("roas", baseline_roas, holdout["roas"])
        if train["cac"].notna().any():
            baseline_cac = ShowMeanBaseline.fit(train, "cac").predict(holdout)
            model_metrics |= regression_metrics("cac", predicted_cac, holdout["cac"])
            baseline_metrics |= regression_metrics("cac", baseline_cac, holdout["cac"])
        median = regression_metrics(
            "roas",
            holdout["show_id"]
            .map(train.groupby("show_id")["roas"].median())
            .fillna(float(train["roas"].median())),
            holdout["roas"],
        )
        evaluation = Evaluation(
            metric="roas_mae",
            higher_is_better=False,
            model=model_metrics,
            baseline_name="show_mean_roas",
            baseline=baseline_metrics,
            holdout_rows=len(holdout),
            min_gain=self.min_relative_gain * baseline_metrics["roas_mae"],
            notes={
                "holdout": (
                    f"placements starting on or after {split.cutoff.date()}"
                    f" ({len(train)} earlier ones trained the evaluated candidate)"
                ),
                "target": (
                    f"ROAS over the {self.horizon_days} days from a placement's start, observed"
                    f" {self.attribution_model} credits"
                ),
                "served_model": "refitted on every mature placement with the same settings",
            },
        )

        # The served model learns from every mature placement, the latest ones included.
        served = RoiModel(
            regressor=fit_regressor(as_of_start.loc[mature.index], mature["roas"]),
            features=list(FEATURES),
            horizon_days=self.horizon_days,
            attribution_model=self.attribution_model,
            fallback_order_value=_order_value(mature),
        )
        importance = served.regressor.booster_.feature_importance("gain")
        total = float(sum(importance)) or 1.0
        start, end = data_window(frame)
        return Trained(
            model=served,
            features=list(FEATURES),
            data_start=start,
            data_end=end,
            training_rows=len(mature),
            evaluation=evaluation,
            details={
                "horizon_days": self.horizon_days,
                "attribution_model": self.attribution_model,
                "holdout_cutoff": str(split.cutoff.date()),
                "evaluation_training_rows": len(train),
                "last_conversion_day": str(data.data_end),
                "median_baseline_roas_mae": median.get("roas_mae"),
                "lightgbm_params": {k: v for k, v in LGBM_PARAMS.items() if k != "verbose"},
                "feature_gain_share": {
                    f: round(float(g) / total, 4) for f, g in zip(FEATURES, importance, strict=True)
                },
            },
        )

    # -- scoring --------------------------------------------------------------------------

    def score(
        self, wh: Warehouse, tenant_id: str, model: Any, model_version: str
    ) -> dict[str, pa.Table]:
        roi: RoiModel = model
        data = read_all(wh, tenant_id, roi.attribution_model)
        frame = placement_frame(data, roi.horizon_days)
        predictions = self.predict_placements(data, frame, roi)
        allocation = self.allocate(data, frame, roi)

        prediction_rows = [
            {
                "tenant_id": tenant_id,
                "placement_id": row.placement_id,
                "campaign_id": row.campaign_id,
                "show_id": None if row.show_id == UNKNOWN_SHOW else row.show_id,
                "position": row.position,
                "read_type": row.read_type,
                "start_date": row.start.date(),
                "cost": float(row.cost),
                "predicted_roas": float(row.predicted_roas),
                "predicted_cac": row.predicted_cac,
                "actual_roas": row.roas,
                "actual_cac": row.cac,
                "model_version": model_version,
            }
            for row in predictions.itertuples()
        ]
        allocation_rows = [
            {**record, "tenant_id": tenant_id, "model_version": model_version}
            for record in allocation.to_dict("records")
        ]
        return {
            PREDICTIONS_TABLE: _table(prediction_rows, PREDICTIONS_SCHEMA),
            ALLOCATION_TABLE: _table(allocation_rows, ALLOCATION_SCHEMA),
        }

    def predict_placements(
        self, data: RoiData, frame: pd.DataFrame, model: RoiModel
    ) -> pd.DataFrame:
        """Every priced placement with its predicted ROAS and CAC, each as of its start (what
        the model would have said when it was booked) or, for placements starting after the
        data, as of the day after the last conversion day."""
        priced = frame[(frame["cost"] > 0) & frame["start"].notna()]
        if priced.empty or data.data_end is None:
            return priced.assign(predicted_roas=pd.Series(dtype=float), predicted_cac=None)
        as_of = frame["start"].clip(upper=pd.Timestamp(data.data_end) + pd.Timedelta(days=1))
        features = feature_matrix(data, frame, as_of, model.horizon_days).loc[priced.index]
        roas = model.predict_roas(features)
        cac = model.predict_cac(roas, show_average_order_value(frame, as_of).loc[priced.index])
        return priced.assign(predicted_roas=roas, predicted_cac=cac).sort_values(
            ["start", "placement_id"]
        )

    def show_curves(
        self, data: RoiData, frame: pd.DataFrame, model: RoiModel
    ) -> tuple[pd.DataFrame, float]:
        """Each show's response curve and frequency cap (response.py), and the budget."""
        settings = self.allocation
        priced = frame[(frame["cost"] > 0) & (frame["show_id"] != UNKNOWN_SHOW)]
        budget = (
            settings.budget
            if settings.budget is not None
            else default_budget(priced, settings.period_days)
        )
        if priced.empty or data.data_end is None:
            return pd.DataFrame(), budget
        # A repeat of each show's placement mix, booked the day after the data ends.
        now = pd.Series(pd.Timestamp(data.data_end) + pd.Timedelta(days=1), index=frame.index)
        features = feature_matrix(data, frame, now, model.horizon_days).loc[priced.index]
        roas = model.predict_roas(features)
        weighted = (roas * priced["cost"]).groupby(priced["show_id"]).sum()
        show_roas = weighted / priced.groupby("show_id")["cost"].sum()
        shares = incremental_shares(data.incrementality)
        curves = show_responses(
            data,
            priced,
            show_roas,
            show_shares(priced, shares),
            shares.tenant,
            settings.period_days,
            settings.frequency_cap_per_week,
        )
        return curves, budget

    def allocate(self, data: RoiData, frame: pd.DataFrame, model: RoiModel) -> pd.DataFrame:
        """The budget spread over the shows that delivered ads (allocation.py)."""
        curves, budget = self.show_curves(data, frame, model)
        if curves.empty:
            return pd.DataFrame(columns=[f.name for f in ALLOCATION_SCHEMA][1:-1])
        result = allocate(curves, budget, self.allocation)
        share = curves.set_index("show_id")["incremental_share"]
        return result.assign(incremental_share=result["show_id"].map(share))


def _order_value(rows: pd.DataFrame) -> float:
    """Revenue per conversion over ``rows`` (NaN when they have no conversion)."""
    conversions = float(rows["conversions"].sum())
    return float(rows["revenue"].sum()) / conversions if conversions > 0 else float("nan")
