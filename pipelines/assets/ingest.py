"""Ingest stage: land what tenants send, untouched, in the landing zone."""

import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from connectors.files import import_directory
from pipelines.partitions import tenant_partitions
from pipelines.pools import WAREHOUSE_POOL
from pipelines.resources import LandingResource, WarehouseResource
from warehouse.entities import ENTITIES
from warehouse.quotas import UNLIMITED, enforce_quotas, read_limits
from warehouse.settings import paths

SOURCE = "files"


def landing_key(entity: str, source: str = SOURCE) -> dg.AssetKey:
    return dg.AssetKey(["landing", source, entity])


class InboxConfig(dg.Config):
    """Where to pick the tenant's export files up; default `$EARSHOT_HOME/inbox/<tenant>`."""

    source_dir: str | None = None
    keep_files: bool = False


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            landing_key(entity),
            group_name="ingest",
            description=f"Landed `{entity}` batches from file imports (Parquet, append-only).",
            kinds={"parquet"},
        )
        for entity in ENTITIES
    ],
    partitions_def=tenant_partitions,
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def landed_files(
    context: dg.AssetExecutionContext,
    config: InboxConfig,
    landing: LandingResource,
    warehouse: WarehouseResource,
):
    """Land the export files waiting in the tenant's inbox; bad rows go to quarantine.

    A file that would take the tenant over a quota (earshot_meta.tenants) is refused whole and
    stays in the inbox, so it lands on the first run after the quota is raised.
    """
    tenant_id = context.partition_key
    inbox = Path(config.source_dir) if config.source_dir else paths().tenant_inbox(tenant_id)
    _refuse_other_inbox(inbox, tenant_id)
    report = None
    if inbox.exists():
        # Read over a short read-only connection that is closed before anything lands.
        limits = read_limits(tenant_id, warehouse.target) or UNLIMITED
        zone = enforce_quotas(landing.zone(tenant_scope=tenant_id), limits)
        report = import_directory(tenant_id, inbox, zone)
    if report is not None:
        context.log.info(report.format())
    per_entity = report.by_entity() if report is not None else {}
    for key in context.selected_asset_keys:
        entity = key.path[-1]
        stats = per_entity.get(entity)
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "inbox": str(inbox),
                "files": stats.files if stats else 0,
                "rows_landed": stats.rows_landed if stats else 0,
                "rows_quarantined": stats.rows_quarantined if stats else 0,
            },
        )
    if report is not None and not config.keep_files:
        _archive(inbox, report.handled_files(), context.run_id)
    if report is not None and report.refused:
        by_quota = len(report.refused_by_quota)
        raise dg.Failure(
            description="Some files were refused; nothing of them landed, the rest did."
            + (
                f" {by_quota} of them by the tenant's quota: they stay in the inbox and land "
                "once the quota is raised (earshot tenant usage shows the usage)."
                if by_quota
                else ""
            ),
            metadata={"report": dg.MetadataValue.md(f"```\n{report.format()}\n```")},
        )


def _refuse_other_inbox(inbox: Path, tenant_id: str) -> None:
    """A run lands its own tenant's files: refuse a `source_dir` inside another tenant's inbox."""
    inboxes = paths().tenant_inbox(tenant_id).parent.resolve()
    try:
        owner = inbox.resolve().relative_to(inboxes).parts[0]
    except (ValueError, IndexError):
        return  # outside the inbox tree: an operator's folder, landed as this tenant's
    if owner != tenant_id:
        raise dg.Failure(
            description=(
                f"source_dir {inbox} is tenant {owner}'s inbox; a run for {tenant_id} cannot "
                "land another tenant's files"
            )
        )


def _archive(inbox: Path, handled: list[Path], run_id: str) -> None:
    """Move fully handled files out of the inbox so the next run does not land them again."""
    if not handled:
        return
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    done = inbox / "_processed" / f"{stamp}-{run_id[:8]}"
    for path in handled:
        target = done / path.relative_to(inbox)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), target)
