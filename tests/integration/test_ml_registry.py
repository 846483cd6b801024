"""The ML framework on both engines: registry, promotion gate, serving version, scored tables.

A toy family (a mean predictor) whose evaluation the test chooses, so each path is exercised:
promoted, beaten by its baseline (the last good version keeps serving), not enough data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from models_ml.evaluation import Evaluation
from models_ml.family import NotEnoughData, Trained
from models_ml.registry import ModelRegistry
from models_ml.runner import NoServingVersion, score_family, train_family
from models_ml.tables import TableShapeChanged, replace_tenant_rows
from warehouse.connection import Warehouse
from warehouse.landing_storage import LocalFolderStorage


class ToyFamily:
    name = "toy"
    description = "predicts the mean it was given"
    reads = ("marts/dim_shows",)
    tables = ("toy_scores",)

    def __init__(self) -> None:
        self.mean = 1.0
        self.model_mae = 0.5
        self.short: str | None = None

    def train(self, wh: Warehouse, tenant_id: str) -> Trained:
        if self.short:
            raise NotEnoughData(self.short)
        evaluation = Evaluation(
            metric="mae",
            higher_is_better=False,
            model={"mae": self.model_mae, "rmse": self.model_mae * 1.2},
            baseline_name="constant",
            baseline={"mae": 1.0, "rmse": 1.3},
            holdout_rows=10,
        )
        return Trained({"mean": self.mean}, ["x"], None, None, 40, evaluation)

    def score(
        self, wh: Warehouse, tenant_id: str, model: Any, model_version: str
    ) -> dict[str, pa.Table]:
        return {
            "toy_scores": pa.table(
                {
                    "tenant_id": [tenant_id, tenant_id],
                    "item": ["a", "b"],
                    "prediction": [model["mean"], model["mean"] * 2],
                    "model_version": [model_version, model_version],
                }
            )
        }


@pytest.fixture
def store(tmp_path: Path) -> LocalFolderStorage:
    return LocalFolderStorage(tmp_path / "models")


def _scores(wh: Warehouse) -> list[tuple]:
    return wh.fetch(
        "select tenant_id, item, prediction, model_version from ml.toy_scores order by 1, 2"
    )


def test_a_promoted_version_serves_and_a_beaten_one_does_not(wh: Warehouse, store) -> None:
    family = ToyFamily()
    first = train_family(wh, store, family, "tenant_a")
    assert first.promoted and first.version is not None
    assert first.version.model_version == "toy-v1"
    assert "beats the constant baseline" in first.version.verdict
    version, written = score_family(wh, store, family, "tenant_a")
    assert version.model_version == "toy-v1" and written == {"toy_scores": 2}

    # A worse candidate is registered, not promoted; v1 keeps serving with its own model.
    family.mean, family.model_mae = 5.0, 1.5
    second = train_family(wh, store, family, "tenant_a")
    assert second.version is not None and not second.promoted
    assert "does not beat" in second.describe()
    version, _ = score_family(wh, store, family, "tenant_a")
    assert version.model_version == "toy-v1"
    assert _scores(wh) == [
        ("tenant_a", "a", 1.0, "toy-v1"),
        ("tenant_a", "b", 2.0, "toy-v1"),
    ]

    registry = ModelRegistry(wh, store)
    versions = registry.versions("tenant_a", "toy")
    assert [(v.model_version, v.promoted) for v in versions] == [
        ("toy-v1", True),
        ("toy-v2", False),
    ]
    assert versions[1].metrics == {"mae": 1.5, "rmse": 1.5 * 1.2}
    assert versions[1].baseline_metrics == {"mae": 1.0, "rmse": 1.3}
    assert versions[0].features == ["x"] and versions[0].training_rows == 40
    assert registry.load(versions[1]) == {"mean": 5.0}
    assert store.exists("tenant_a/toy/v2/metadata.json")


def test_rescoring_replaces_one_tenant_and_leaves_the_other(wh: Warehouse, store) -> None:
    family = ToyFamily()
    for tenant in ("tenant_a", "tenant_b"):
        train_family(wh, store, family, tenant)
        score_family(wh, store, family, tenant)
    family.mean = 3.0
    train_family(wh, store, family, "tenant_a")
    score_family(wh, store, family, "tenant_a")
    score_family(wh, store, family, "tenant_a")
    assert _scores(wh) == [
        ("tenant_a", "a", 3.0, "toy-v2"),
        ("tenant_a", "b", 6.0, "toy-v2"),
        ("tenant_b", "a", 1.0, "toy-v1"),
        ("tenant_b", "b", 2.0, "toy-v1"),
    ]


def test_without_data_or_a_winning_version_nothing_is_scored(wh: Warehouse, store) -> None:
    family = ToyFamily()
    family.short = "fewer than 30 households"
    outcome = train_family(wh, store, family, "tenant_a")
    assert outcome.version is None and not outcome.promoted
    assert "fewer than 30 households" in outcome.describe()
    family.short, family.model_mae = None, 2.0
    assert not train_family(wh, store, family, "tenant_a").promoted
    with pytest.raises(NoServingVersion, match="no promoted version for tenant tenant_a"):
        score_family(wh, store, family, "tenant_a")


def test_scored_rows_must_be_the_tenants_versioned_and_keep_their_shape(wh: Warehouse) -> None:
    rows = pa.table({"tenant_id": ["t1"], "x": [1], "model_version": ["m-v1"]})
    assert replace_tenant_rows(wh, "shapes", "t1", rows) == 1
    with pytest.raises(ValueError, match="rows of t2 in a run of tenant t1"):
        replace_tenant_rows(wh, "shapes", "t1", rows.set_column(0, "tenant_id", pa.array(["t2"])))
    with pytest.raises(ValueError, match="lack the column"):
        replace_tenant_rows(wh, "shapes", "t1", rows.drop_columns(["model_version"]))
    with pytest.raises(TableShapeChanged, match="drop it"):
        replace_tenant_rows(wh, "shapes", "t1", rows.append_column("y", pa.array([2.0])))
    assert wh.fetch("select tenant_id, x, model_version from ml.shapes") == [("t1", 1, "m-v1")]


def test_a_read_only_registry_lists_nothing_before_the_first_training(wh: Warehouse, store) -> None:
    assert ModelRegistry(wh, store, read_only=True).versions("tenant_a") == []
    train_family(wh, store, ToyFamily(), "tenant_a")
    listed = ModelRegistry(wh, store, read_only=True).versions("tenant_a")
    assert [v.model_version for v in listed] == ["toy-v1"]
