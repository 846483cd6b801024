"""Serving stage: each tenant's weekly report, its export and its alerts (docs/user/alerts.md).

``serving/weekly_report`` renders the report of a week (HTML, PDF, a PNG of page 1), stores it
and sends it to the tenant's report channels; ``serving/export`` writes the tenant's marts to
its own S3 prefix with a manifest; ``serving/alerts`` raises the tenant's alert rules and sends
them. Each send goes through the outbox (``serving.deliveries``), and each asset's check fails
while the tenant has a message that could not be delivered, so nothing is dropped unseen.
"""

import dagster as dg

from pipelines.partitions import tenant_partitions
from pipelines.pools import WAREHOUSE_POOL
from pipelines.resources import WarehouseResource
from serving import operations
from serving.outbox import DeliveryOutcome

GROUP = "serving"
DELIVERED_CHECK = "messages_delivered"

REPORT_KEY = dg.AssetKey([GROUP, "weekly_report"])
EXPORT_KEY = dg.AssetKey([GROUP, "export"])
ALERTS_KEY = dg.AssetKey([GROUP, "alerts"])

# What each asset reads (its upstream in the asset graph).
REPORT_READS = [
    dg.AssetKey(["marts", name])
    for name in (
        "fct_attribution_credits",
        "fct_campaign_performance",
        "fct_episode_downloads_daily",
        "dim_campaigns",
        "dim_shows",
        "rpt_reach_frequency",
        "rpt_conversion_lag",
        "rpt_incrementality",
    )
] + [dg.AssetKey(["ml", "anomalies"])]
ALERT_READS = [
    dg.AssetKey(["marts", "rpt_budget_pacing"]),
    dg.AssetKey(["marts", "fct_episode_downloads_daily"]),
    dg.AssetKey(["ml", "anomalies"]),
]


def _delivered_check(key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        DELIVERED_CHECK,
        asset=key,
        description="Every message to the tenant's channels was delivered; a failure names the "
        "channel and the reason, and the message is sent again by the next run.",
    )


def _check_result(outcomes: list[DeliveryOutcome]) -> dg.AssetCheckResult:
    failed = [o for o in outcomes if o.status == "failed"]
    return dg.AssetCheckResult(
        check_name=DELIVERED_CHECK,
        passed=not failed,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(o.describe() for o in failed) or f"{len(outcomes)} deliveries",
        metadata={
            "delivered": sum(o.status == "delivered" for o in outcomes),
            "failed": len(failed),
            "already_delivered": sum(o.status == "skipped" for o in outcomes),
        },
    )


class ReportConfig(dg.Config):
    # ISO week ("2026-W47"); empty: the last complete week in the tenant's time zone.
    week: str = ""


@dg.asset(
    key=REPORT_KEY,
    deps=REPORT_READS,
    partitions_def=tenant_partitions,
    group_name=GROUP,
    kinds={"python", "pdf"},
    pool=WAREHOUSE_POOL,
    description="The tenant's weekly campaign report (HTML, PDF, PNG preview), stored and sent "
    "to its report channels.",
    check_specs=[_delivered_check(REPORT_KEY)],
)
def weekly_report(
    context: dg.AssetExecutionContext, config: ReportConfig, warehouse: WarehouseResource
):
    tenant_id = context.partition_key
    with warehouse.connect() as wh:
        built = operations.build_and_send_report(wh, tenant_id, config.week or None)
    context.log.info(built.describe())
    return dg.MaterializeResult(
        metadata=built.metadata(),
        check_results=[_check_result(built.outcomes)],
    )


@dg.asset(
    key=EXPORT_KEY,
    deps=[dg.AssetKey(["marts", "fct_attribution_credits"])],
    partitions_def=tenant_partitions,
    group_name=GROUP,
    kinds={"s3", "parquet", "csv"},
    pool=WAREHOUSE_POOL,
    description="The tenant's marts as CSV and Parquet in its own S3 prefix, with a manifest.",
)
def export(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    tenant_id = context.partition_key
    with warehouse.connect() as wh:
        done = operations.export(wh, tenant_id)
    context.log.info(done.describe())
    return dg.MaterializeResult(metadata=done.metadata())


@dg.asset(
    key=ALERTS_KEY,
    deps=ALERT_READS,
    partitions_def=tenant_partitions,
    group_name=GROUP,
    kinds={"python"},
    pool=WAREHOUSE_POOL,
    description="Raises the tenant's alert rules (anomalies, budget pacing, stale data) and "
    "sends each new alert to its channels once; retries what earlier runs could not deliver.",
    check_specs=[_delivered_check(ALERTS_KEY)],
)
def alerts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    tenant_id = context.partition_key
    with warehouse.connect() as wh:
        run = operations.alerts(wh, tenant_id)
    context.log.info(run.describe())
    return dg.MaterializeResult(
        metadata={"alerts": len(run.alerts), "delivered": run.delivered},
        check_results=[_check_result(run.outcomes)],
    )


serving_assets = [weekly_report, export, alerts]
