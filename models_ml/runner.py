"""Train, register and score one family for one tenant: what the Dagster assets, the CLI and the
tests call, so each goes through the same registry and tables."""

from __future__ import annotations

from dataclasses import dataclass

from models_ml.family import ModelFamily, NotEnoughData
from models_ml.registry import ModelRegistry, ModelVersion
from models_ml.tables import replace_tenant_rows
from warehouse.connection import Warehouse
from warehouse.landing_storage import LandingStorage


class NoServingVersion(Exception):
    """No version of the model ever beat its baseline, so there is nothing to score with."""


@dataclass(frozen=True)
class TrainingOutcome:
    """A registered candidate, or why none could be trained."""

    version: ModelVersion | None
    not_enough_data: str | None = None

    @property
    def promoted(self) -> bool:
        return self.version is not None and self.version.promoted

    def describe(self) -> str:
        if self.version is None:
            return f"no candidate: {self.not_enough_data}"
        state = "promoted" if self.version.promoted else "not promoted"
        return f"{self.version.model_version} {state}: {self.version.verdict}"


def train_family(
    wh: Warehouse, store: LandingStorage, family: ModelFamily, tenant_id: str
) -> TrainingOutcome:
    try:
        trained = family.train(wh, tenant_id)
    except NotEnoughData as short:
        return TrainingOutcome(None, f"{family.name} for tenant {tenant_id}: {short}")
    version = ModelRegistry(wh, store).register(tenant_id, family.name, trained)
    return TrainingOutcome(version)


def score_family(
    wh: Warehouse, store: LandingStorage, family: ModelFamily, tenant_id: str
) -> tuple[ModelVersion, dict[str, int]]:
    """Score with the serving version into the family's tables; returns it and rows per table."""
    registry = ModelRegistry(wh, store)
    version = registry.serving(tenant_id, family.name)
    if version is None:
        raise NoServingVersion(
            f"{family.name} has no promoted version for tenant {tenant_id}: no candidate has beaten"
            " its baseline yet (see ml.model_versions)"
        )
    tables = family.score(wh, tenant_id, registry.load(version), version.model_version)
    unexpected = set(tables) - set(family.tables)
    missing = set(family.tables) - set(tables)
    if unexpected or missing:
        raise ValueError(
            f"{family.name} scored the tables {sorted(tables)}, it declares {list(family.tables)}"
        )
    written = {
        name: replace_tenant_rows(wh, name, tenant_id, table) for name, table in tables.items()
    }
    return version, written
