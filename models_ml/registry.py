"""The model registry: every trained version with its metrics, data window, features and
baseline, its artefact in the object store, and whether it was promoted.

Versions live in ``ml.model_versions`` (one row per tenant, model and version; never updated
but for pruning) and their artefacts under ``<tenant>/<model>/v<n>/`` in the artefact store
(:mod:`models_ml.artefacts`). The version serving predictions is the newest promoted one: a
candidate that does not beat its baseline is kept for inspection, but the last good version
keeps serving.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import joblib

from models_ml.family import Trained
from models_ml.tables import ML_SCHEMA, secure_table
from warehouse.connection import Warehouse, table_exists
from warehouse.landing_storage import LandingStorage

VERSIONS_TABLE = "model_versions"
_COLUMNS = (
    "tenant_id", "model_name", "version_number", "model_version", "trained_at", "data_start",
    "data_end", "training_rows", "features", "metric", "higher_is_better", "metrics",
    "baseline_name", "baseline_metrics", "holdout_rows", "promoted", "verdict", "details",
    "artefact_key",
)  # fmt: skip


@dataclass(frozen=True)
class ModelVersion:
    tenant_id: str
    model_name: str
    version_number: int
    model_version: str
    trained_at: datetime
    data_start: date | None
    data_end: date | None
    training_rows: int
    features: list[str]
    metric: str
    higher_is_better: bool
    metrics: dict[str, float]
    baseline_name: str
    baseline_metrics: dict[str, float]
    holdout_rows: int
    promoted: bool
    verdict: str
    details: dict[str, Any]
    artefact_key: str


def _ddl(engine: str) -> str:
    text, double, ts = (
        ("varchar", "double", "timestamp")
        if engine == "duckdb"
        else ("text", "double precision", "timestamp")
    )
    return (
        f'create table if not exists "{ML_SCHEMA}"."{VERSIONS_TABLE}" ('
        f" tenant_id {text} not null, model_name {text} not null,"
        f" version_number integer not null, model_version {text} not null,"
        f" trained_at {ts} not null, data_start date, data_end date,"
        f" training_rows bigint not null, features {text} not null, metric {text} not null,"
        f" higher_is_better boolean not null, metrics {text} not null,"
        f" baseline_name {text} not null, baseline_metrics {text} not null,"
        f" holdout_rows bigint not null, promoted boolean not null, verdict {text} not null,"
        f" details {text} not null, artefact_key {text} not null,"
        f" primary key (tenant_id, model_name, version_number))"
    )


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class ModelRegistry:
    """Versions of every tenant's models: register a candidate, find the serving version, load
    an artefact."""

    def __init__(self, wh: Warehouse, store: LandingStorage, *, read_only: bool = False) -> None:
        """``read_only``: only list and load (a read-only connection cannot create the table)."""
        self.wh = wh
        self.store = store
        if not read_only:
            wh.execute(f'create schema if not exists "{ML_SCHEMA}"')
            wh.execute(_ddl(wh.engine))
            secure_table(wh, VERSIONS_TABLE)

    def _exists(self) -> bool:
        return table_exists(self.wh, ML_SCHEMA, VERSIONS_TABLE)

    def register(self, tenant_id: str, model_name: str, trained: Trained) -> ModelVersion:
        """Store the candidate's artefact and record it; promoted when it beats its baseline.

        The artefact is written first (under a new version's key): a crash before the row is
        recorded leaves an orphan file, never a recorded version without its artefact.
        """
        evaluation = trained.evaluation
        details = dict(trained.details)
        if evaluation.notes:
            details["notes"] = evaluation.notes
        (latest,) = self.wh.fetch(
            f'select coalesce(max(version_number), 0) from "{ML_SCHEMA}"."{VERSIONS_TABLE}"'
            " where tenant_id = ? and model_name = ?",
            [tenant_id, model_name],
        )[0]
        number = int(latest) + 1
        label = f"{model_name}-v{number}"
        key = f"{tenant_id}/{model_name}/v{number}/model.joblib"
        buffer = io.BytesIO()
        joblib.dump(trained.model, buffer, compress=3)
        with self.store.open_write(key) as handle:
            handle.write(buffer.getvalue())
        version = ModelVersion(
            tenant_id=tenant_id,
            model_name=model_name,
            version_number=number,
            model_version=label,
            trained_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            data_start=trained.data_start,
            data_end=trained.data_end,
            training_rows=trained.training_rows,
            features=list(trained.features),
            metric=evaluation.metric,
            higher_is_better=evaluation.higher_is_better,
            metrics=dict(evaluation.model),
            baseline_name=evaluation.baseline_name,
            baseline_metrics=dict(evaluation.baseline),
            holdout_rows=evaluation.holdout_rows,
            promoted=evaluation.beats_baseline(),
            verdict=evaluation.verdict(),
            details=details,
            artefact_key=key,
        )
        with self.store.open_write(key.rsplit("/", 1)[0] + "/metadata.json") as handle:
            handle.write(_json(self._row(version)).encode())
        marks = ", ".join("?" for _ in _COLUMNS)
        with self.wh.transaction():
            self.wh.execute(
                f'insert into "{ML_SCHEMA}"."{VERSIONS_TABLE}" ({", ".join(_COLUMNS)})'
                f" values ({marks})",
                list(self._row(version).values()),
            )
        return version

    @staticmethod
    def _row(v: ModelVersion) -> dict[str, Any]:
        return {
            "tenant_id": v.tenant_id,
            "model_name": v.model_name,
            "version_number": v.version_number,
            "model_version": v.model_version,
            "trained_at": v.trained_at,
            "data_start": v.data_start,
            "data_end": v.data_end,
            "training_rows": v.training_rows,
            "features": _json(v.features),
            "metric": v.metric,
            "higher_is_better": v.higher_is_better,
            "metrics": _json(v.metrics),
            "baseline_name": v.baseline_name,
            "baseline_metrics": _json(v.baseline_metrics),
            "holdout_rows": v.holdout_rows,
            "promoted": v.promoted,
            "verdict": v.verdict,
            "details": _json(v.details),
            "artefact_key": v.artefact_key,
        }

    def versions(self, tenant_id: str, model_name: str | None = None) -> list[ModelVersion]:
        """The tenant's versions, oldest first (of one model, or of all)."""
        if not self._exists():
            return []
        where, params = "tenant_id = ?", [tenant_id]
        if model_name is not None:
            where, params = where + " and model_name = ?", [*params, model_name]
        rows = self.wh.fetch(
            f'select {", ".join(_COLUMNS)} from "{ML_SCHEMA}"."{VERSIONS_TABLE}"'
            f" where {where} order by model_name, version_number",
            params,
        )
        return [self._version(dict(zip(_COLUMNS, row, strict=True))) for row in rows]

    def serving(self, tenant_id: str, model_name: str) -> ModelVersion | None:
        """The newest promoted version, or None when no version ever beat its baseline."""
        promoted = [v for v in self.versions(tenant_id, model_name) if v.promoted]
        return promoted[-1] if promoted else None

    def load(self, version: ModelVersion) -> Any:
        """The fitted model of ``version``, from the artefact store."""
        with self.store.open_read(version.artefact_key) as handle:
            return joblib.load(io.BytesIO(handle.read()))

    @staticmethod
    def _version(row: dict[str, Any]) -> ModelVersion:
        for name in ("features", "metrics", "baseline_metrics", "details"):
            row[name] = json.loads(row[name])
        row["version_number"] = int(row["version_number"])
        row["training_rows"] = int(row["training_rows"])
        row["holdout_rows"] = int(row["holdout_rows"])
        return ModelVersion(**row)
