"""The alert rules a tenant can switch on, each read from the warehouse (docs/user/alerts.md).

Every alert has a key that names what it is about (an anomaly, a campaign's pace in a week, a
source's newest batch, a failed run), so re-evaluating the rules raises the same alert again and
the outbox sends it once. The rules measure against the tenant's newest listening day (its
newest IAB download), not the wall clock, except stale data, which is about the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from serving.delivery.message import Message
from serving.settings import (
    SEVERITIES,
    AnomalyRule,
    BudgetPacingRule,
    QualityGateRule,
    ServingSettings,
    StaleDataRule,
)
from warehouse.connection import Warehouse, table_exists

RAW_SCHEMA = "raw"


@dataclass(frozen=True)
class Alert:
    tenant_id: str
    rule: str
    key: str
    severity: str
    title: str
    text: str
    channels: tuple[str, ...]
    fields: tuple[tuple[str, str], ...] = ()

    def message(self) -> Message:
        return Message(
            title=self.title,
            text=self.text,
            event="alert",
            severity=self.severity,
            fields=self.fields,
            key=self.key,
            tenant_id=self.tenant_id,
        )


def newest_listening_day(wh: Warehouse, tenant_id: str) -> date | None:
    """The tenant's newest day with an IAB download (the day the rules measure against)."""
    if not table_exists(wh, "marts", "fct_episode_downloads_daily"):
        return None
    rows = wh.fetch(
        "select max(download_date) from marts.fct_episode_downloads_daily"
        " where tenant_id = ? and downloads > 0",
        [tenant_id],
    )
    value = rows[0][0] if rows else None
    return value.date() if isinstance(value, datetime) else value


def anomaly_alerts(wh: Warehouse, tenant_id: str, rule: AnomalyRule) -> list[Alert]:
    """One alert per anomaly at or above ``min_severity`` detected within ``within_days`` of
    the newest listening day."""
    if not table_exists(wh, "ml", "anomalies"):
        return []
    newest = newest_listening_day(wh, tenant_id)
    if newest is None:
        return []
    severities = list(SEVERITIES[SEVERITIES.index(rule.min_severity) :])
    marks = ", ".join("?" for _ in severities)
    rows = wh.fetch(
        "select anomaly_id, detected_at_day, severity, metric, entity_type, entity_id,"
        " observed, expected, expected_low, expected_high, explanation, model_version"
        " from ml.anomalies"
        f" where tenant_id = ? and detected_at_day >= ? and severity in ({marks})"
        " order by detected_at_day, anomaly_id",
        [tenant_id, newest - timedelta(days=rule.within_days - 1), *severities],
    )
    alerts = []
    for (
        anomaly_id,
        day,
        severity,
        metric,
        entity_type,
        entity_id,
        observed,
        expected,
        low,
        high,
        explanation,
        version,
    ) in rows:
        alerts.append(
            Alert(
                tenant_id=tenant_id,
                rule=rule.rule,
                key=f"anomalies:{anomaly_id}",
                severity=severity,
                title=f"{severity.capitalize()} anomaly: {metric} of {entity_type} {entity_id}",
                text=explanation or f"{metric} was {observed:,.1f}, expected {expected:,.1f}.",
                channels=tuple(rule.channels),
                fields=(
                    ("Day", str(day)),
                    ("Observed", f"{observed:,.1f}"),
                    ("Expected", f"{expected:,.1f} ({low:,.1f} to {high:,.1f})"),
                    ("Model", str(version)),
                ),
            )
        )
    return alerts


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def budget_pacing_alerts(wh: Warehouse, tenant_id: str, rule: BudgetPacingRule) -> list[Alert]:
    """Campaigns in flight pacing below ``under`` or above ``over``, and campaigns whose booked
    spend passed their budget; at most once per campaign, direction and ISO week."""
    if not table_exists(wh, "marts", "rpt_budget_pacing"):
        return []
    rows = wh.fetch(
        "select campaign_id, campaign_name, as_of_date, flight_status, budget, currency,"
        " booked_spend, expected_spend, pacing_ratio, budget_used_share, end_date"
        " from marts.rpt_budget_pacing where tenant_id = ? order by campaign_id",
        [tenant_id],
    )
    alerts = []
    for (
        campaign_id,
        name,
        as_of,
        status,
        budget,
        currency,
        booked,
        expected,
        ratio,
        used,
        end_date,
    ) in rows:
        as_of = as_of.date() if isinstance(as_of, datetime) else as_of
        label = name or campaign_id
        money = f"{currency or ''} ".lstrip()
        fields = (
            ("As of", str(as_of)),
            ("Booked spend", f"{money}{booked:,.2f}"),
            ("Expected by now", f"{money}{(expected or 0):,.2f}"),
            ("Budget", f"{money}{(budget or 0):,.2f}"),
            ("Flight ends", str(end_date)),
        )
        direction = None
        if used is not None and used > 1:
            direction, severity = "over_budget", "high"
            text = f"{label} has booked {used:.0%} of its budget."
        elif status == "in_flight" and ratio is not None and ratio < rule.under:
            direction, severity = "under", "medium"
            text = f"{label} is pacing at {ratio:.0%} of plan (alert below {rule.under:.0%})."
        elif status == "in_flight" and ratio is not None and ratio > rule.over:
            direction, severity = "over", "medium"
            text = f"{label} is pacing at {ratio:.0%} of plan (alert above {rule.over:.0%})."
        if direction is None:
            continue
        alerts.append(
            Alert(
                tenant_id=tenant_id,
                rule=rule.rule,
                key=f"budget_pacing:{campaign_id}:{direction}:{_iso_week(as_of)}",
                severity=severity,
                title=f"Budget pacing: {label} ({direction.replace('_', ' ')})",
                text=text,
                channels=tuple(rule.channels),
                fields=fields,
            )
        )
    return alerts


def _raw_tables_with_batches(wh: Warehouse) -> list[str]:
    rows = wh.fetch(
        "select table_name from information_schema.columns"
        " where table_schema = ? and column_name in ('_tenant_id', '_source', '_extracted_at')"
        " group by table_name having count(*) = 3 order by table_name",
        [RAW_SCHEMA],
    )
    return [r[0] for r in rows]


def newest_batches(wh: Warehouse, tenant_id: str) -> dict[str, datetime]:
    """Per source, the newest ``_extracted_at`` of the tenant's landed rows (UTC)."""
    newest: dict[str, datetime] = {}
    for table in _raw_tables_with_batches(wh):
        for source, extracted in wh.fetch(
            f'select _source, max(_extracted_at) from {RAW_SCHEMA}."{table}"'
            " where _tenant_id = ? group by _source",
            [tenant_id],
        ):
            if extracted is None:
                continue
            if extracted.tzinfo is not None:
                extracted = extracted.astimezone(UTC).replace(tzinfo=None)
            if source not in newest or extracted > newest[source]:
                newest[source] = extracted
    return newest


def stale_data_alerts(
    wh: Warehouse, tenant_id: str, rule: StaleDataRule, now: datetime | None = None
) -> list[Alert]:
    """Sources whose newest landed batch is older than ``max_age_hours``: once per source and
    newest batch (a source that lands again and goes stale again alerts again)."""
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    alerts = []
    for source, extracted in sorted(newest_batches(wh, tenant_id).items()):
        age_hours = (now - extracted).total_seconds() / 3600
        if age_hours <= rule.max_age_hours:
            continue
        alerts.append(
            Alert(
                tenant_id=tenant_id,
                rule=rule.rule,
                key=f"stale_data:{source}:{extracted.isoformat(timespec='seconds')}",
                severity="high",
                title=f"Stale data: nothing new from {source} for {age_hours:,.0f} h",
                text=(
                    f"The newest data from {source} landed at {extracted:%Y-%m-%d %H:%M} UTC, "
                    f"{age_hours:,.0f} hours ago (alert after {rule.max_age_hours:,.0f} h). "
                    "Check the connector's runs and credentials."
                ),
                channels=tuple(rule.channels),
                fields=(("Source", source), ("Newest batch", f"{extracted:%Y-%m-%d %H:%M} UTC")),
            )
        )
    return alerts


def quality_gate_alerts(
    tenant_id: str,
    rule: QualityGateRule,
    run_id: str,
    job_name: str,
    failed_checks: list[str],
    failed_steps: list[str],
) -> list[Alert]:
    """One alert for a tenant run stopped by a quality gate (a blocking check that failed)."""
    if not failed_checks:
        return []
    shown = failed_checks[:10]
    more = len(failed_checks) - len(shown)
    text = "The run stopped before publishing because these checks failed: " + ", ".join(shown)
    if more:
        text += f" and {more} more"
    text += ". The marts keep their previous data until a run passes."
    return [
        Alert(
            tenant_id=tenant_id,
            rule=rule.rule,
            key=f"quality_gate:{run_id}",
            severity="critical",
            title=f"Quality gate failed in {job_name}",
            text=text,
            channels=tuple(rule.channels),
            fields=(("Run", run_id), ("Failed steps", ", ".join(failed_steps[:5]) or "none")),
        )
    ]


def warehouse_alerts(
    wh: Warehouse, tenant_id: str, settings: ServingSettings, now: datetime | None = None
) -> list[Alert]:
    """Every alert the tenant's warehouse rules raise now (quality gates come from runs)."""
    alerts: list[Alert] = []
    for rule in settings.alerts:
        if isinstance(rule, AnomalyRule):
            alerts += anomaly_alerts(wh, tenant_id, rule)
        elif isinstance(rule, BudgetPacingRule):
            alerts += budget_pacing_alerts(wh, tenant_id, rule)
        elif isinstance(rule, StaleDataRule):
            alerts += stale_data_alerts(wh, tenant_id, rule, now)
    return alerts
