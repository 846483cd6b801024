"""When connectors sync, and whether their data is fresh: two sensors.

`connector_schedule` is the schedule of every tenant's connectors: each tenant's file sets a cron
per connector (`schedule`, default 06:00 UTC daily), so one sensor evaluates them all every
minute and launches `sync_<platform>` for a tenant once per tick of its cron. The run key is the
tick, so a tick is launched once however often the sensor evaluates; a tick missed while the
daemon was down is launched when it comes back (the latest one only: a sync catches up through
its cursor anyway). A tenant whose file appears is added as a partition first.

`connector_freshness` evaluates every configured stream's freshness check each hour, so a
tenant whose syncs stopped (failing credentials, a schedule switched off) shows as overdue in
the UI without any run.
"""

import time
from datetime import UTC, datetime

import dagster as dg
from dagster._utils.schedules import reverse_cron_string_iterator

from connectors.framework.errors import SettingsError
from connectors.framework.settings import configured_tenants, load_tenant_connectors
from connectors.registry import CONNECTORS
from pipelines.assets.connectors import freshness_evaluation, sync_jobs
from pipelines.partitions import tenant_partitions
from pipelines.resources import LandingResource


def latest_tick(cron: str, now: datetime) -> datetime:
    """The most recent tick of ``cron`` (UTC) at or before ``now``."""
    return next(reverse_cron_string_iterator(now.timestamp(), cron, "UTC"))


def _enabled(context: dg.SensorEvaluationContext):
    """(tenant, platform, settings) of every enabled connector; bad files are logged."""
    for tenant_id in configured_tenants():
        try:
            settings = load_tenant_connectors(tenant_id)
        except SettingsError as exc:
            context.log.error(str(exc))
            continue
        for platform, platform_settings in sorted(settings.items()):
            # A push-only platform has no sync job: the webhook receiver lands what it sends.
            if platform_settings.enabled and platform in sync_jobs:
                yield tenant_id, platform, platform_settings


@dg.sensor(
    name="connector_schedule",
    jobs=list(sync_jobs.values()),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Launches each tenant's connector syncs on the cron of its tenants/<tenant>.yaml.",
)
def connector_schedule(context: dg.SensorEvaluationContext):
    now = datetime.now(UTC)
    requests = []
    tenants = set()
    for tenant_id, platform, settings in _enabled(context):
        tick = latest_tick(settings.schedule, now)
        tenants.add(tenant_id)
        requests.append(
            dg.RunRequest(
                run_key=f"{platform}:{tenant_id}:{tick.isoformat()}",
                job_name=sync_jobs[platform].name,
                partition_key=tenant_id,
                tags={"earshot/connector": platform, "earshot/tick": tick.isoformat()},
            )
        )
    known = set(context.instance.get_dynamic_partitions(tenant_partitions.name))
    new = sorted(tenants - known)
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[tenant_partitions.build_add_request(new)] if new else [],
    )


@dg.sensor(
    name="connector_freshness",
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Evaluates every tenant's connector freshness checks each hour.",
)
def connector_freshness(context: dg.SensorEvaluationContext, landing: LandingResource):
    started = time.monotonic()
    events = []
    for tenant_id, platform, settings in _enabled(context):
        zone = landing.zone(tenant_scope=tenant_id)
        for stream in CONNECTORS[platform].streams:
            events.append(
                freshness_evaluation(
                    zone, tenant_id, platform, stream.name, settings.freshness_hours
                )
            )
    context.log.info(f"{len(events)} freshness checks in {time.monotonic() - started:.1f} s")
    return dg.SensorResult(asset_events=events)


connector_sensors = [connector_schedule, connector_freshness]
