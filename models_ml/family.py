"""What every ML model family provides: training with its own evaluation, and scoring.

A family (churn, ROI, anomalies, forecasts, transcripts) reads the tenant's marts, trains a
candidate and evaluates it against its baseline on a holdout it chooses (time-based wherever time
matters); the registry keeps the candidate and promotes it only when it beats the baseline; the
family then scores with the promoted version into its ``ml`` tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import pyarrow as pa

from models_ml.evaluation import Evaluation
from warehouse.connection import Warehouse


class NotEnoughData(Exception):
    """The tenant's data cannot train or evaluate this model (the message says what is short)."""


@dataclass
class Trained:
    """A fitted candidate: the object scoring needs (picklable), what it learnt from, and how it
    did against its baseline."""

    model: Any
    features: list[str]
    data_start: date | None
    data_end: date | None
    training_rows: int
    evaluation: Evaluation
    # Anything else worth keeping beside the version (hyper-parameters, class balance, ...).
    details: dict[str, Any] = field(default_factory=dict)


class ModelFamily(Protocol):
    """One model family. ``reads`` are the dbt models it queries (its Dagster upstream, as
    ``<layer>/<model>``); ``tables`` the ``ml`` tables :meth:`score` returns, each with the
    columns ``tenant_id`` and ``model_version``."""

    name: str
    description: str
    reads: tuple[str, ...]
    tables: tuple[str, ...]

    def train(self, wh: Warehouse, tenant_id: str) -> Trained: ...

    def score(
        self, wh: Warehouse, tenant_id: str, model: Any, model_version: str
    ) -> dict[str, pa.Table]: ...
