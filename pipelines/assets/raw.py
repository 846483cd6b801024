"""Load stage: landed batches into the warehouse's `raw` schema, one tenant per run."""

import dagster as dg

from pipelines.assets.connectors import streams_of_entity
from pipelines.assets.ingest import landing_key
from pipelines.partitions import tenant_partitions
from pipelines.pools import WAREHOUSE_POOL
from pipelines.resources import LandingResource, WarehouseResource
from warehouse.entities import ENTITIES
from warehouse.raw_loader import load_entity, load_quarantine

QUARANTINE_KEY = dg.AssetKey(["raw", "quarantine"])


def raw_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", entity])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            raw_key(entity),
            deps=[landing_key(entity), *streams_of_entity(entity)],
            group_name="raw",
            description=f"`raw.{entity}`: every landed `{entity}` row, with lineage columns.",
            kinds={"sql"},
        )
        for entity in ENTITIES
    ]
    + [
        dg.AssetSpec(
            QUARANTINE_KEY,
            deps=[landing_key(entity) for entity in ENTITIES]
            + [key for entity in ENTITIES for key in streams_of_entity(entity)],
            group_name="raw",
            description="`raw.quarantine`: rows refused at landing, with file, row and reason.",
            kinds={"sql"},
        )
    ],
    partitions_def=tenant_partitions,
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def raw_tables(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource
):
    tenant_id = context.partition_key
    zone = landing.zone(tenant_scope=tenant_id)
    with warehouse.connect() as wh:
        for key in context.selected_asset_keys:
            if key == QUARANTINE_KEY:
                result = load_quarantine(
                    wh, tenant_id, zone.storage, zone.quarantine_files(tenant_id)
                )
            else:
                entity = key.path[-1]
                # Every source of the entity: file exports, logs, connectors.
                keys = zone.entity_files(tenant_id, entity)
                result = load_entity(wh, tenant_id, entity, zone.storage, keys)
            context.log.info(f"{result.table}: {result.rows} rows for {tenant_id}")
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "table": result.table,
                    "files": result.files,
                    "dagster/row_count": result.rows,
                },
            )
