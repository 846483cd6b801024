"""The churn family: the probability that a household stops listening to a show."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from models_ml.churn.cutoffs import GRACE_DAYS, NEXT_EPISODES
from models_ml.churn.scoring import SCORES_TABLE, SHOW_RATES_TABLE, score_churn
from models_ml.churn.training import train_churn
from models_ml.family import Trained
from warehouse.connection import Warehouse


class ChurnFamily:
    name = "churn"
    description = (
        f"the probability that a household downloads none of a show's next {NEXT_EPISODES}"
        f" episodes (within {GRACE_DAYS} days of the last one's release); LightGBM on recency,"
        " frequency, tenure, completeness and listening-app features, against days since the"
        " last download"
    )
    reads = (
        "intermediate/int_downloads",
        "intermediate/int_households",
        "staging/stg_files__episodes",
        "marts/dim_shows",
    )
    tables = (SCORES_TABLE, SHOW_RATES_TABLE)

    def train(self, wh: Warehouse, tenant_id: str) -> Trained:
        return train_churn(wh, tenant_id)

    def score(
        self, wh: Warehouse, tenant_id: str, model: Any, model_version: str
    ) -> dict[str, pa.Table]:
        return score_churn(wh, tenant_id, model, model_version)
