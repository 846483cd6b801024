"""What the serving assets and the command line do for one tenant: build and send its weekly
report, export its marts, raise and send its alerts. Each reads the tenant's ``serving:``
settings (serving/settings.py) and sends through the outbox (serving/outbox.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from serving.alerts.dispatch import AlertRun, run_alerts
from serving.channels import build_senders
from serving.delivery.message import Attachment, Message
from serving.outbox import DeliveryOutcome, deliver
from serving.settings import ServingSettings, export_target_of, load_serving_settings
from warehouse.connection import Warehouse, table_exists
from warehouse.settings import paths, validate_tenant_id

EXPORTS_ENDPOINT_VARIABLE = "EARSHOT_EXPORTS_ENDPOINT_URL"
# How long a report link sent to chat channels stays valid (S3's limit for presigned URLs).
REPORT_LINK_SECONDS = 7 * 24 * 3600


def exports_client() -> Any:
    """The S3 client of exports and stored reports: credentials from boto3's chain, endpoint
    from ``EARSHOT_EXPORTS_ENDPOINT_URL``, else the landing zone's ``EARSHOT_S3_ENDPOINT_URL``,
    else boto3's own ``AWS_ENDPOINT_URL``."""
    import boto3

    endpoint = os.environ.get(EXPORTS_ENDPOINT_VARIABLE) or os.environ.get(
        "EARSHOT_S3_ENDPOINT_URL"
    )
    return boto3.client("s3", endpoint_url=endpoint or None)


def reports_dir(tenant_id: str, week: str) -> Path:
    return paths().home / "reports" / validate_tenant_id(tenant_id) / week


def _tenant_name(wh: Warehouse, tenant_id: str) -> str:
    from warehouse.tenants import get_tenant

    tenant = get_tenant(wh, tenant_id)
    return tenant.name if tenant is not None and tenant.name else tenant_id


# -- reports -----------------------------------------------------------------------------------


@dataclass
class BuiltReport:
    tenant_id: str
    week: str
    files: dict[str, Path]
    summary: dict[str, Any]
    stored_at: str | None = None
    outcomes: list[DeliveryOutcome] = field(default_factory=list)

    def describe(self) -> str:
        sent = ", ".join(o.describe() for o in self.outcomes) or "no report channels"
        where = self.stored_at or str(self.files["pdf"].parent)
        return f"report {self.week} of {self.tenant_id}: {where}; {sent}"

    def metadata(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "pdf": str(self.files["pdf"]),
            "stored_at": self.stored_at or "",
            **{f"summary/{k}": v for k, v in self.summary.items() if isinstance(v, int | float)},
        }


def resolve_week(week: str | None, tz: str, now: datetime | None = None):
    """The ``ReportWeek`` asked for; by default the last complete week in the tenant's zone."""
    from serving.reports.weeks import ReportWeek, latest_complete_week

    if week:
        return ReportWeek.parse(week)
    return latest_complete_week(now or datetime.now(UTC), tz)


def build_report_files(
    wh: Warehouse,
    tenant_id: str,
    week: str | None = None,
    settings: ServingSettings | None = None,
    out_dir: Path | None = None,
    now: datetime | None = None,
):
    """Render the tenant's report of ``week`` into ``out_dir`` (default under $EARSHOT_HOME)."""
    from serving.reports.build import build_report

    settings = settings or load_serving_settings(tenant_id)
    chosen = resolve_week(week, settings.timezone, now)
    folder = out_dir or reports_dir(tenant_id, str(chosen))
    return chosen, build_report(
        wh, tenant_id, _tenant_name(wh, tenant_id), chosen, settings.timezone, folder
    )


def build_and_send_report(
    wh: Warehouse, tenant_id: str, week: str | None = None, now: datetime | None = None
) -> BuiltReport:
    """Build the report, store it next to the tenant's exports (when it has a bucket) and send
    it to its report channels: email gets the PDF, chat channels the headline and a link."""
    settings = load_serving_settings(tenant_id)
    chosen, files = build_report_files(wh, tenant_id, week, settings, now=now)
    built = BuiltReport(
        tenant_id,
        str(chosen),
        {"html": files.html_path, "pdf": files.pdf_path, "png": files.png_path},
        dict(files.summary),
    )
    link = None
    target = export_target_of(tenant_id, settings)
    if target is not None:
        built.stored_at, link = _store_report(target, built)
    if settings.reports.deliver_to:
        senders = build_senders(tenant_id, settings.channels, settings.reports.deliver_to)
        built.outcomes = deliver(wh, tenant_id, _report_message(built, link), senders)
    return built


def _store_report(target: tuple[str, str], built: BuiltReport) -> tuple[str, str]:
    """Upload the report's files under ``<prefix>/reports/<week>/``; (s3 URL, link to the PDF)."""
    bucket, prefix = target
    client = exports_client()
    base = f"{prefix.rstrip('/')}/reports/{built.week}"
    types = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "png": "image/png"}
    for kind, path in built.files.items():
        client.put_object(
            Bucket=bucket,
            Key=f"{base}/report.{kind}",
            Body=path.read_bytes(),
            ContentType=types[kind],
        )
    link = client.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": f"{base}/report.pdf"},
        ExpiresIn=REPORT_LINK_SECONDS,
    )
    return f"s3://{bucket}/{base}/", link


def _report_message(built: BuiltReport, link: str | None) -> Message:
    summary = built.summary
    fields = tuple(
        (label.replace("_", " ").capitalize(), _format(value))
        for label, value in summary.items()
        if isinstance(value, int | float | str) and not isinstance(value, bool)
    )
    return Message(
        title=f"Weekly podcast campaign report, {built.week}",
        text=(
            f"The campaign report of {built.tenant_id} for {built.week} is ready."
            + (" The PDF is linked below (valid 7 days)." if link else " The PDF is attached.")
        ),
        event="report",
        severity="info",
        fields=fields[:10],
        link=link,
        attachments=(
            Attachment(
                f"earshot-report-{built.tenant_id}-{built.week}.pdf",
                "application/pdf",
                built.files["pdf"].read_bytes(),
            ),
        ),
        key=f"report:{built.week}",
        tenant_id=built.tenant_id,
    )


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# -- exports -----------------------------------------------------------------------------------


@dataclass
class ExportDone:
    tenant_id: str
    location: str | None
    tables: int = 0
    rows: int = 0
    reason: str = ""

    def describe(self) -> str:
        if self.location is None:
            return f"export of {self.tenant_id} skipped: {self.reason}"
        return (
            f"export of {self.tenant_id}: {self.tables} tables, {self.rows:,} rows "
            f"in {self.location}"
        )

    def metadata(self) -> dict[str, Any]:
        return {
            "location": self.location or "",
            "tables": self.tables,
            "rows": self.rows,
            "skipped": self.reason,
        }


def export_settings_used(wh: Warehouse, tenant_id: str) -> dict[str, Any]:
    """What the exported numbers were computed with: the tenant's attribution settings and the
    model versions serving its predictions."""
    from warehouse.tenants import Tenant, get_tenant

    # A tenant without a row in earshot_meta.tenants is built with dbt_project.yml's defaults,
    # which are Tenant's defaults.
    tenant = get_tenant(wh, tenant_id)
    used: dict[str, Any] = {
        "attribution": (tenant or Tenant(tenant_id, name=tenant_id)).dbt_vars(),
        "attribution_source": "tenant settings" if tenant else "defaults",
    }
    if table_exists(wh, "ml", "model_versions"):
        used["models"] = {
            name: version
            for name, version in wh.fetch(
                "select model_name, max(model_version) from ml.model_versions"
                " where tenant_id = ? and promoted group by model_name order by model_name",
                [tenant_id],
            )
        }
    return used


def export(wh: Warehouse, tenant_id: str, export_id: str | None = None) -> ExportDone:
    """Export the tenant's marts to its prefix; refused when its prefix overlaps another
    tenant's (every configured tenant's target is checked, not only this one's)."""
    from serving.exports import ExportTarget, check_disjoint, export_tenant
    from serving.settings import all_serving_settings

    settings = load_serving_settings(tenant_id)
    if not settings.exports.enabled:
        return ExportDone(tenant_id, None, reason="exports are switched off for the tenant")
    target = export_target_of(tenant_id, settings)
    if target is None:
        return ExportDone(
            tenant_id, None, reason="no bucket (serving.exports.bucket or EARSHOT_EXPORTS_BUCKET)"
        )
    targets = {
        other: ExportTarget(*found)
        for other, other_settings in all_serving_settings().items()
        if other_settings.exports.enabled
        and (found := export_target_of(other, other_settings)) is not None
    }
    targets[tenant_id] = ExportTarget(*target)
    check_disjoint(targets)
    manifest = export_tenant(
        wh,
        tenant_id,
        targets[tenant_id],
        exports_client(),
        export_id=export_id,
        formats=tuple(settings.exports.formats),
        settings=export_settings_used(wh, tenant_id),
        engine=wh.engine,
    )
    return ExportDone(
        tenant_id,
        f"s3://{target[0]}/{manifest.manifest_key}",
        tables=len(manifest.tables),
        rows=sum(t.rows for t in manifest.tables),
    )


# -- alerts ------------------------------------------------------------------------------------


def alerts(wh: Warehouse, tenant_id: str, now: datetime | None = None) -> AlertRun:
    return run_alerts(wh, tenant_id, load_serving_settings(tenant_id), now)
