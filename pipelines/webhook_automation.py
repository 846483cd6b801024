"""What Dagster does with webhook deliveries: load them into the warehouse soon after they land.

The receiver (`earshot webhooks serve`, connectors/webhooks/) lands each delivery in the tenant's
landing zone as it drains its inbox; the raw tables and marts only see it after a tenant run.
This sensor launches the tenant pipeline for every tenant whose inbox has landed deliveries since
the sensor last looked, so webhook data reaches the marts within minutes instead of waiting for
the next scheduled sync. Its cursor is each tenant's landed marker (a counter the drain raises
after landing, ``Inbox.landed_marker``): one small read per tenant instead of listing every done
delivery on each tick.
"""

import json

import dagster as dg

from connectors.webhooks.inbox import Inbox
from pipelines.partitions import tenant_partitions
from pipelines.resources import LandingResource

LOAD_JOB = "tenant_pipeline"


@dg.sensor(
    name="webhook_arrivals",
    job_name=LOAD_JOB,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Loads and transforms a tenant when webhook deliveries have landed for it.",
)
def webhook_arrivals(context: dg.SensorEvaluationContext, landing: LandingResource):
    inbox = Inbox(landing.zone())
    seen: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
    now: dict[str, int] = {}
    requests = []
    for tenant_id in inbox.tenants():
        now[tenant_id] = inbox.landed_marker(tenant_id)
        failed = inbox.failed_count(tenant_id)
        if failed:
            context.log.warning(
                f"{tenant_id}: {failed} webhook deliveries failed; see "
                f"`earshot webhooks status --tenant {tenant_id}`"
            )
        if now[tenant_id] != seen.get(tenant_id, 0):
            requests.append(
                dg.RunRequest(
                    run_key=f"webhooks:{tenant_id}:{now[tenant_id]}",
                    partition_key=tenant_id,
                    tags={"earshot/trigger": "webhooks"},
                )
            )
    known = set(context.instance.get_dynamic_partitions(tenant_partitions.name))
    new = sorted(set(now) - known)
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps(now, sort_keys=True),
        dynamic_partitions_requests=[tenant_partitions.build_add_request(new)] if new else [],
    )
