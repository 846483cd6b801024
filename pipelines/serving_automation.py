"""When reports, exports and alerts run, and who hears of failures: three sensors.

``serving_schedule`` runs each tenant's report, export and alert jobs on the crons of its
``serving:`` settings, in the tenant's own time zone (a Monday 08:00 report is 08:00 in
Sydney for a Sydney tenant). One sensor evaluates every tenant, as ``connector_schedule`` does for
syncs: the run key is the tick, so each tick launches once; the report of a tick is the last
week complete at that tick.

``quality_gate_alerts`` watches the tenant pipeline and ML runs: a run stopped by a failed
blocking check sends the tenant's ``quality_gate`` alerts.

``operator_alerts`` reports every failed run of this code location to the operators' channel
(``EARSHOT_OPS_CHANNEL``, docs/user/alerts.md). It does not use the warehouse, which may be what
failed: a message that cannot be delivered is kept in the Dagster instance's own storage (its
key-value table) and ``serving_schedule`` sends it again each minute, and the failed tick shows
in the UI meanwhile.
"""

import json
import os
from datetime import UTC, datetime

import dagster as dg
from dagster._utils.schedules import reverse_cron_string_iterator

from connectors.framework.errors import SettingsError
from connectors.framework.settings import configured_tenants
from pipelines.partitions import tenant_partitions
from serving.settings import ServingSettings, export_target_of, load_serving_settings

REPORT_JOB = "tenant_report"
EXPORT_JOB = "tenant_export"
ALERTS_JOB = "tenant_alerts"
# Runs whose failed checks are quality gates of the tenant's data.
GATED_JOBS = ("tenant_pipeline", "tenant_ml")
OPS_CHANNEL_VARIABLE = "EARSHOT_OPS_CHANNEL"
OPS_URL_VARIABLE = "EARSHOT_OPS_WEBHOOK_URL"
OPS_TOKEN_VARIABLE = "EARSHOT_OPS_SLACK_TOKEN"
OPS_SLACK_CHANNEL_VARIABLE = "EARSHOT_OPS_SLACK_CHANNEL"
OPS_KINDS = ("slack_webhook", "slack_api", "discord", "webhook")
# Attempts per operator message in one tick: (attempts, first backoff s, longest wait s).
OPS_RETRY = (4, 1.0, 60.0)


def latest_tick(cron: str, now: datetime, timezone: str) -> datetime:
    """The most recent tick of ``cron`` in ``timezone`` at or before ``now`` (aware)."""
    return next(reverse_cron_string_iterator(now.timestamp(), cron, timezone))


# Where undelivered operator messages wait (the instance's key-value storage).
OPS_PENDING_KEY = "earshot/ops_undelivered"


def pending_ops_messages(instance: dg.DagsterInstance) -> list[dict]:
    raw = instance.run_storage.get_cursor_values({OPS_PENDING_KEY}).get(OPS_PENDING_KEY)
    return json.loads(raw) if raw else []


def _set_pending(instance: dg.DagsterInstance, pending: list[dict]) -> None:
    instance.run_storage.set_cursor_values({OPS_PENDING_KEY: json.dumps(pending)})


def keep_ops_message(instance: dg.DagsterInstance, message, error: str) -> None:
    """Keep an operator message that could not be delivered, with the reason."""
    from serving.outbox import message_payload

    pending = pending_ops_messages(instance)
    if all(p["message"]["key"] != message.key for p in pending):
        pending.append({"message": json.loads(message_payload(message)), "error": error})
        _set_pending(instance, pending)


def retry_ops_messages(instance: dg.DagsterInstance, sender) -> tuple[int, list[str]]:
    """Send the kept operator messages again: (delivered, errors of those still kept)."""
    from serving.delivery.retry import DeliveryError
    from serving.outbox import message_from_payload

    pending = pending_ops_messages(instance)
    if not pending:
        return 0, []
    kept, errors = [], []
    for item in pending:
        try:
            sender.send(message_from_payload(json.dumps(item["message"])))
        except DeliveryError as exc:
            kept.append({**item, "error": str(exc)})
            errors.append(str(exc))
    _set_pending(instance, kept)
    return len(pending) - len(kept), errors


def serving_requests(
    tenant_id: str, settings: ServingSettings, now: datetime
) -> list[dg.RunRequest]:
    """The run requests of one tenant's latest report, export and alert ticks."""
    from serving.reports.weeks import latest_complete_week

    zone = settings.timezone
    # (job, whether the tenant runs it, its cron)
    jobs = [
        (REPORT_JOB, settings.reports.enabled, settings.reports.schedule),
        (
            EXPORT_JOB,
            settings.exports.enabled and export_target_of(tenant_id, settings) is not None,
            settings.exports.schedule,
        ),
        (ALERTS_JOB, bool(settings.alerts), settings.alert_schedule),
    ]
    requests = []
    for job, runs, cron in jobs:
        if not runs:
            continue
        tick = latest_tick(cron, now, zone)
        tags = {"earshot/tick": tick.isoformat()}
        run_config = {}
        if job == REPORT_JOB:
            # The report of a tick is the last week complete at the tick, in the tenant's zone.
            tags["earshot/week"] = week = str(latest_complete_week(tick, zone))
            run_config = {"ops": {"serving__weekly_report": {"config": {"week": week}}}}
        requests.append(
            dg.RunRequest(
                run_key=f"{job}:{tenant_id}:{tick.isoformat()}",
                job_name=job,
                partition_key=tenant_id,
                run_config=run_config,
                tags=tags,
            )
        )
    return requests


@dg.sensor(
    name="serving_schedule",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Runs each tenant's report, export and alert jobs on the crons of its "
    "tenants/<tenant>.yaml, in the tenant's time zone.",
)
def serving_schedule(context: dg.SensorEvaluationContext):
    now = datetime.now(UTC)
    requests = []
    tenants = []
    for tenant_id in configured_tenants():
        try:
            settings = load_serving_settings(tenant_id)
        except SettingsError as exc:
            context.log.error(str(exc))
            continue
        found = serving_requests(tenant_id, settings, now)
        if found:
            tenants.append(tenant_id)
        requests += found
    sender = ops_sender()
    if sender is not None:
        sent, errors = retry_ops_messages(context.instance, sender)
        if sent:
            context.log.info(f"{sent} kept operator messages delivered")
        for error in errors:
            context.log.error(f"operator message still undelivered: {error}")
    known = set(context.instance.get_dynamic_partitions(tenant_partitions.name))
    new = sorted(set(tenants) - known)
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[tenant_partitions.build_add_request(new)] if new else [],
    )


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The blocking (ERROR) checks that failed in a run, as ``asset / check: why``."""
    found = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.asset_check_evaluation_data
        if evaluation.passed or evaluation.severity == dg.AssetCheckSeverity.WARN:
            continue
        key = evaluation.asset_check_key
        why = (evaluation.description or "").strip()
        found.append(f"{key.asset_key.to_user_string()} / {key.name}" + (f": {why}" if why else ""))
    return found


def _failed_steps(context: dg.RunFailureSensorContext) -> list[str]:
    return [event.step_key or "" for event in context.get_step_failure_events()]


@dg.run_failure_sensor(
    name="quality_gate_alerts",
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Sends the tenant's quality_gate alerts when its pipeline or ML run is stopped "
    "by a failed blocking check.",
)
def quality_gate_alerts(context: dg.RunFailureSensorContext):
    from serving.alerts.dispatch import send_alerts
    from serving.alerts.rules import quality_gate_alerts as gate_alerts
    from serving.channels import build_senders
    from serving.settings import QualityGateRule
    from warehouse.connection import connect

    run = context.dagster_run
    tenant_id = run.tags.get("dagster/partition")
    if run.job_name not in GATED_JOBS or not tenant_id:
        return dg.SkipReason(f"run {run.run_id} of {run.job_name}: not a tenant's gated run")
    checks = failed_checks(context.instance, run.run_id)
    if not checks:
        return dg.SkipReason(f"run {run.run_id} failed without a failed quality gate")
    settings = load_serving_settings(tenant_id)
    raised = [
        alert
        for rule in settings.alerts
        if isinstance(rule, QualityGateRule)
        for alert in gate_alerts(
            tenant_id, rule, run.run_id, run.job_name, checks, _failed_steps(context)
        )
    ]
    if not raised:
        return dg.SkipReason(f"tenant {tenant_id} has no quality_gate alert rule")
    senders = build_senders(tenant_id, settings.channels)
    with connect() as wh:
        outcomes = send_alerts(wh, tenant_id, raised, senders)
    failed = [o.describe() for o in outcomes if o.status == "failed"]
    context.log.info(f"quality gate of run {run.run_id}: {len(outcomes)} deliveries")
    if failed:
        # Recorded in serving.deliveries; the tenant's next alerts run sends them again.
        context.log.warning("undelivered: " + "; ".join(failed))
    return None


def ops_sender():
    """The operators' channel from the environment; None when none is configured."""
    from serving import delivery

    attempts, backoff, longest = OPS_RETRY
    policy = delivery.RetryPolicy(max_attempts=attempts, backoff_s=backoff, max_delay_s=longest)
    kind = os.environ.get(OPS_CHANNEL_VARIABLE, "").strip()
    if not kind:
        return None
    if kind not in OPS_KINDS:
        raise ValueError(f"{OPS_CHANNEL_VARIABLE} must be one of {', '.join(OPS_KINDS)}")
    if kind == "slack_api":
        token = os.environ.get(OPS_TOKEN_VARIABLE, "")
        channel = os.environ.get(OPS_SLACK_CHANNEL_VARIABLE, "")
        if not token or not channel:
            raise ValueError(
                f"{OPS_CHANNEL_VARIABLE}=slack_api needs {OPS_TOKEN_VARIABLE} and "
                f"{OPS_SLACK_CHANNEL_VARIABLE}"
            )
        return delivery.SlackApi("operators", token, channel, policy=policy)
    url = os.environ.get(OPS_URL_VARIABLE, "")
    if not url:
        raise ValueError(f"{OPS_CHANNEL_VARIABLE}={kind} needs {OPS_URL_VARIABLE}")
    factory = {
        "slack_webhook": delivery.SlackWebhook,
        "discord": delivery.DiscordWebhook,
        "webhook": delivery.WebhookChannel,
    }[kind]
    return factory("operators", url, policy=policy)


def failure_message(context: dg.RunFailureSensorContext):
    from serving.delivery.message import Message

    run = context.dagster_run
    tenant_id = run.tags.get("dagster/partition")
    steps = _failed_steps(context)
    checks = failed_checks(context.instance, run.run_id)
    reason = (context.failure_event.message or "").strip().splitlines()[0:1]
    fields = [("Job", run.job_name), ("Run", run.run_id)]
    if tenant_id:
        fields.append(("Tenant", tenant_id))
    if steps:
        fields.append(("Failed steps", ", ".join(steps[:5])))
    if checks:
        fields.append(("Failed checks", "; ".join(checks[:5])))
    return Message(
        title=f"Run failed: {run.job_name}" + (f" ({tenant_id})" if tenant_id else ""),
        text=(reason[0] if reason else "The run failed.") + " Open the run in the Dagster UI.",
        event="ops",
        severity="high",
        fields=tuple(fields),
        key=f"ops:run_failure:{run.run_id}",
        tenant_id=tenant_id,
    )


@dg.run_failure_sensor(
    name="operator_alerts",
    default_status=(
        dg.DefaultSensorStatus.RUNNING
        if os.environ.get(OPS_CHANNEL_VARIABLE)
        else dg.DefaultSensorStatus.STOPPED
    ),
    description="Reports every failed run to the operators' channel (EARSHOT_OPS_CHANNEL).",
)
def operator_alerts(context: dg.RunFailureSensorContext):
    from serving.delivery.retry import DeliveryError

    sender = ops_sender()
    if sender is None:
        return dg.SkipReason(f"no operators' channel: set {OPS_CHANNEL_VARIABLE}")
    message = failure_message(context)
    try:
        receipt = sender.send(message)
    except DeliveryError as exc:
        # Kept for serving_schedule to send again; raising marks this tick failed in the UI.
        keep_ops_message(context.instance, message, str(exc))
        raise
    context.log.info(f"run {context.dagster_run.run_id} reported to {receipt.channel}")
    return None


serving_sensors = [serving_schedule, quality_gate_alerts, operator_alerts]
