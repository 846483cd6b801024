"""ML stage: per model family, a training asset gated by a blocking check, then scoring.

``ml/<family>_model`` trains a candidate on the tenant's marts, evaluates it against the family's
baseline and records it in the registry (``ml.model_versions``, artefact in the model store).
Its check ``beats_baseline`` blocks the scoring assets (``ml/<table>``) when the candidate lost
or could not be trained: the tables then keep the rows of the last good version.
"""

import dagster as dg

from models_ml.artefacts import artefact_store
from models_ml.families import FAMILIES
from models_ml.family import ModelFamily
from models_ml.runner import score_family, train_family
from pipelines.partitions import tenant_partitions
from pipelines.pools import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource

GROUP = "ml"
CHECK_NAME = "beats_baseline"


def model_key(family: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, f"{family}_model"])


def table_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, table])


def _training_asset(family: ModelFamily) -> dg.AssetsDefinition:
    key = model_key(family.name)

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(read.split("/")) for read in family.reads],
        partitions_def=tenant_partitions,
        group_name=GROUP,
        kinds={"python"},
        pool=WAREHOUSE_POOL,
        description=f"Trains and registers a {family.name} candidate: {family.description}",
        check_specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=key,
                blocking=True,
                description="The candidate beats its baseline on the holdout; else it is not "
                "promoted and the last good version keeps serving.",
            )
        ],
    )
    def _train(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        tenant_id = context.partition_key
        with warehouse.connect() as wh:
            outcome = train_family(wh, artefact_store(), family, tenant_id)
        context.log.info(outcome.describe())
        version = outcome.version
        metadata: dict[str, object] = {"outcome": outcome.describe()}
        if version is not None:
            metadata |= {
                "model_version": version.model_version,
                "promoted": version.promoted,
                "training_rows": version.training_rows,
                "holdout_rows": version.holdout_rows,
                "data_window": f"{version.data_start} to {version.data_end}",
                "features": ", ".join(version.features),
                **{f"metric/{k}": float(v) for k, v in version.metrics.items()},
                **{f"baseline/{k}": float(v) for k, v in version.baseline_metrics.items()},
            }
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=CHECK_NAME,
                    passed=outcome.promoted,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=outcome.describe(),
                )
            ],
        )

    return _train


def _scoring_asset(family: ModelFamily) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name=f"{family.name}_scoring",
        specs=[
            dg.AssetSpec(
                table_key(table),
                deps=[model_key(family.name)],
                group_name=GROUP,
                kinds={"sql"},
                description=f"`ml.{table}`, scored by the serving {family.name} version.",
            )
            for table in family.tables
        ],
        partitions_def=tenant_partitions,
        pool=WAREHOUSE_POOL,
    )
    def _score(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        tenant_id = context.partition_key
        with warehouse.connect() as wh:
            version, written = score_family(wh, artefact_store(), family, tenant_id)
        for table, rows in written.items():
            yield dg.MaterializeResult(
                asset_key=table_key(table),
                metadata={"rows": rows, "model_version": version.model_version},
            )

    return _score


ml_assets: list[dg.AssetsDefinition] = [
    asset
    for family in FAMILIES.values()
    for asset in (_training_asset(family), _scoring_asset(family))
]
