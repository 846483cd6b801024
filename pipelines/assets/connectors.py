"""Connector stage: one asset per platform and stream (`landing/<platform>/<stream>`).

Each platform is one multi-asset (its streams share a client, a rate limit and a run), partitioned
by tenant like every asset; a tenant without the platform in its `tenants/<tenant>.yaml` has
nothing to sync, and the step says so without materializing anything. Runs come from the
`connector_schedule` sensor (each tenant's own cron per connector) or the UI; failures are
retried with backoff (a sync resumes from its last checkpoint, so a retry repeats no landed
slice). Every stream carries a freshness check (hours since the tenant's last successful sync),
evaluated at the end of each sync and every hour by `connector_freshness` for every tenant.
"""

import os
from datetime import UTC, datetime, timedelta

import dagster as dg

from connectors.framework.connector import Connector
from connectors.framework.errors import ConnectorError, SettingsError
from connectors.framework.runtime import build_connector
from connectors.framework.settings import load_tenant_connectors
from connectors.framework.state import StateStore
from connectors.framework.sync import FULL, INCREMENTAL, sync_connector
from connectors.registry import CONNECTORS
from pipelines.partitions import tenant_partitions
from pipelines.resources import LandingResource
from warehouse.quotas import UNLIMITED, enforce_quotas, read_limits

GROUP = "connectors"
FRESHNESS_CHECK = "freshness"
# A failed sync (a source down for longer than its retries, a busy warehouse while reading the
# tenant's quotas) is tried again later; it resumes from its last checkpoint.
SYNC_RETRIES = dg.RetryPolicy(
    max_retries=3, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def connector_key(platform: str, stream: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", platform, stream])


class SyncConfig(dg.Config):
    """`full`: from the start date, not the cursor. `restart`: drop an interrupted run instead
    of resuming it. `until`: last day to ask for (YYYY-MM-DD; default yesterday)."""

    full: bool = False
    restart: bool = False
    until: str | None = None


def _hours_since(moment: str | None, now: datetime) -> float | None:
    if not moment:
        return None
    return (now - datetime.fromisoformat(moment)).total_seconds() / 3600.0


def freshness_evaluation(
    landing_zone, tenant_id: str, platform: str, stream: str, max_hours: float
) -> dg.AssetCheckEvaluation:
    """Whether the tenant's stream synced successfully within ``max_hours``."""
    state = StateStore(landing_zone).load(tenant_id, platform, stream)
    hours = _hours_since(state.last_success_at, datetime.now(UTC))
    passed = hours is not None and hours <= max_hours
    if hours is None:
        description = f"{tenant_id} has never synced {platform}/{stream}"
    else:
        description = (
            f"last successful sync of {platform}/{stream} for {tenant_id} {hours:.1f} h ago "
            f"(limit {max_hours:g} h)"
        )
    return dg.AssetCheckEvaluation(
        asset_key=connector_key(platform, stream),
        check_name=FRESHNESS_CHECK,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "hours_since_success": hours if hours is not None else -1.0,
            "cursor": state.cursor or "",
        },
        partition=tenant_id,
    )


def _make_platform_assets(cls: type[Connector]) -> dg.AssetsDefinition:
    platform = cls.platform
    keys = {connector_key(platform, s.name): s for s in cls.streams}

    @dg.multi_asset(
        name=f"{platform}_sync",
        specs=[
            dg.AssetSpec(
                key,
                group_name=GROUP,
                description=(
                    f"{cls.display_name} {stream.name}: {stream.description}. Lands as "
                    f"`{stream.entity}` rows (Parquet, append-only) with the source record."
                ),
                kinds={"api", "parquet"},
                metadata={"entity": stream.entity, "per_day": stream.per_day},
                skippable=True,
            )
            for key, stream in keys.items()
        ],
        check_specs=[
            dg.AssetCheckSpec(
                FRESHNESS_CHECK,
                asset=key,
                description="hours since the tenant's last successful sync of this stream, "
                "against the connector's freshness_hours (default 36)",
            )
            for key in keys
        ],
        partitions_def=tenant_partitions,
        can_subset=True,
        pool=f"connector_{platform}",
        retry_policy=SYNC_RETRIES,
    )
    def _sync(context: dg.AssetExecutionContext, config: SyncConfig, landing: LandingResource):
        tenant_id = context.partition_key
        try:
            settings = load_tenant_connectors(tenant_id).get(platform)
        except SettingsError as exc:
            raise dg.Failure(description=str(exc)) from None
        if settings is None or not settings.enabled:
            context.log.info(f"tenant {tenant_id} has no enabled {platform} connector: skipped")
            return
        today = None
        if config.until:
            today = datetime.fromisoformat(config.until).date() + timedelta(days=1)
        try:
            connector = build_connector(tenant_id, platform, today=today)
            # A short read of the tenant's quotas; landing past them is refused per slice.
            limits = read_limits(tenant_id, os.environ.get("EARSHOT_WAREHOUSE")) or UNLIMITED
            zone = enforce_quotas(landing.zone(tenant_scope=tenant_id), limits)
            selected = [keys[k].name for k in keys if k in context.selected_asset_keys]
            report = sync_connector(
                connector,
                zone,
                streams=selected,
                mode=FULL if config.full else INCREMENTAL,
                restart=config.restart,
                after_slice=lambda stream, slice_id: context.log.debug(
                    f"{platform}/{stream.name}: slice {slice_id} landed"
                ),
            )
        except (ConnectorError, SettingsError) as exc:
            raise dg.Failure(description=str(exc)) from None
        context.log.info(report.format())
        for stream_report in report.streams:
            key = connector_key(platform, stream_report.stream)
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "mode": stream_report.mode,
                    "resumed": stream_report.resumed,
                    "slices_landed": stream_report.slices_landed,
                    "slices_planned": stream_report.slices_planned,
                    "records": stream_report.records,
                    "rows_landed": stream_report.rows_landed,
                    "rows_quarantined": stream_report.rows_quarantined,
                    "cursor": stream_report.cursor or "",
                    "requests": report.requests,
                    "throttled": report.throttled,
                },
            )
            evaluation = freshness_evaluation(
                zone, tenant_id, platform, stream_report.stream, settings.freshness_hours
            )
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=FRESHNESS_CHECK,
                passed=evaluation.passed,
                severity=dg.AssetCheckSeverity.WARN,
                description=evaluation.description,
                metadata=dict(evaluation.metadata),
            )

    return _sync


# Platforms that pull; a push-only source (Meta's Conversions API) has no stream to sync: what
# it pushes lands through the webhook receiver and reaches the raw tables like any landing.
PULLED = {platform: cls for platform, cls in CONNECTORS.items() if cls.streams}

connector_assets = [_make_platform_assets(cls) for cls in PULLED.values()]


def streams_of_entity(entity: str) -> list[dg.AssetKey]:
    """Every connector asset that lands ``entity`` rows (the raw table depends on them)."""
    return [
        connector_key(cls.platform, s.name)
        for cls in CONNECTORS.values()
        for s in cls.streams
        if s.entity == entity
    ]


def sync_job(platform: str):
    """Sync one platform for a tenant, then load and transform what it landed."""
    keys = [connector_key(platform, s.name) for s in CONNECTORS[platform].streams]
    return dg.define_asset_job(
        name=f"sync_{platform}",
        selection=dg.AssetSelection.assets(*keys).downstream(),
        description=f"Sync {CONNECTORS[platform].display_name} for one tenant, then load and "
        "build everything downstream of it.",
    )


sync_jobs = {platform: sync_job(platform) for platform in PULLED}
