"""The demo's serving stage: every simulated tenant gets its report, its export and its alerts,
delivered to local stand-ins of Slack, Discord, SMTP, a webhook and S3 (serving/sandbox/).

Each tenant is configured as a real one would be: a ``serving:`` section in its
``tenants/<tenant>.yaml`` naming its channels, and the channels' URLs, token and password stored
as its secrets. Only the addresses are local. What the stand-ins received is kept under
``$EARSHOT_HOME/sandbox`` after the demo ends (JSON lines per service, one .eml per mail).
"""

from __future__ import annotations

import json
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connectors.framework.settings import tenant_file
from pipelines.execution import RunOutcome, run_tenant_serving
from pipelines.serving_automation import ALERTS_JOB, EXPORT_JOB, REPORT_JOB
from warehouse.secrets import put_tenant_secret
from warehouse.settings import paths

EXPORTS_BUCKET = "earshot-demo-exports"
TIME_ZONES = ("Europe/London", "America/New_York", "Australia/Sydney")
SMTP_USER = "earshot-demo"
# The demo's world spans a quarter: alert on anomalies of its last 45 days, not only the last
# week as a tenant would (docs/user/alerts.md).
DEMO_ANOMALY_DAYS = 45


@contextmanager
def demo_sandbox():
    """The stand-ins, with the environment pointing exports at their S3 (for this process)."""
    import boto3

    from serving.sandbox import Sandbox

    record_dir = paths().home / "sandbox"
    password = secrets.token_urlsafe(16)
    with Sandbox(record_dir, smtp_username=SMTP_USER, smtp_password=password) as sandbox:
        saved = {k: os.environ.get(k) for k in _S3_ENVIRONMENT}
        os.environ.update(
            {
                "EARSHOT_EXPORTS_BUCKET": EXPORTS_BUCKET,
                "EARSHOT_EXPORTS_ENDPOINT_URL": sandbox.s3_endpoint,
                # moto accepts any key; a user's own credentials are never sent anywhere else.
                "AWS_ACCESS_KEY_ID": "earshot-demo",
                "AWS_SECRET_ACCESS_KEY": "earshot-demo",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
        try:
            boto3.client("s3", endpoint_url=sandbox.s3_endpoint).create_bucket(
                Bucket=EXPORTS_BUCKET
            )
            sandbox.smtp_password = password
            yield sandbox
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


_S3_ENVIRONMENT = (
    "EARSHOT_EXPORTS_BUCKET",
    "EARSHOT_EXPORTS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)


def configure_tenant(sandbox: Any, tenant_id: str, index: int) -> None:
    """Write the tenant's ``serving:`` section and store its channels' secrets."""
    messaging = sandbox.messaging
    host, port = sandbox.smtp_address
    credentials = {
        "slack_team_url": messaging.slack_hook_url(f"{tenant_id}-team"),
        "slack_bot_token": messaging.slack_bot_token,
        "discord_url": messaging.discord_webhook_url(f"{tenant_id}-alerts"),
        "smtp_password": sandbox.smtp_password,
        "zapier_url": messaging.webhook_url(f"zapier-{tenant_id}"),
    }
    slack_channel = messaging.slack_channel(f"#podcast-ads-{tenant_id}")
    for name, value in credentials.items():
        put_tenant_secret(tenant_id, name, value.encode(), credential=True)
    every = ["team", "ads", "alerts_discord", "boss", "zapier"]
    serving = {
        "timezone": TIME_ZONES[index % len(TIME_ZONES)],
        "reports": {"deliver_to": ["team", "boss", "zapier"]},
        "channels": {
            "team": {"type": "slack_webhook", "secret": "slack_team_url"},
            "ads": {
                "type": "slack_api",
                "channel": slack_channel,
                "secret": "slack_bot_token",
                "base_url": messaging.slack_api_url,
            },
            "alerts_discord": {"type": "discord", "secret": "discord_url"},
            "boss": {
                "type": "email",
                "host": host,
                "port": port,
                "security": "none",
                "sender": "reports@earshot.example",
                "recipients": [_mailbox(tenant_id)],
                "username": SMTP_USER,
                "secret": "smtp_password",
            },
            "zapier": {"type": "webhook", "flavor": "zapier", "secret": "zapier_url"},
        },
        "alerts": [
            {
                "rule": "anomalies",
                "min_severity": "medium",
                "within_days": DEMO_ANOMALY_DAYS,
                "channels": every,
            },
            {"rule": "budget_pacing", "channels": ["ads"]},
            {"rule": "quality_gate", "channels": ["team", "alerts_discord"]},
            {"rule": "stale_data", "max_age_hours": 48, "channels": ["team"]},
        ],
    }
    path = tenant_file(tenant_id)
    document = yaml.safe_load(path.read_text()) if path.exists() else {}
    document = document or {}
    document["serving"] = serving
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


@dataclass
class Served:
    tenant_id: str
    runs: list[RunOutcome] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(run.success for run in self.runs)


def serve_tenant(tenant_id: str) -> Served:
    """The tenant's report (last complete week), export and alerts, each a Dagster run."""
    served = Served(tenant_id)
    for job in (REPORT_JOB, EXPORT_JOB, ALERTS_JOB):
        served.runs.append(run_tenant_serving(tenant_id, job))
    return served


def ink_share(png: bytes) -> float:
    """Share of pixels of a rendered page that are not (near) white: a blank page is ~0."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    return float((pixels < 200).mean())


def serving_lines(sandbox: Any, tenant_id: str) -> list[str]:
    """What the tenant got: the report (checked rendered), the export's manifest read back from
    S3, and the messages each stand-in received for it."""
    import boto3

    lines = []
    reports = sorted((paths().home / "reports" / tenant_id).glob("*/report.png"))
    if reports:
        png = reports[-1]
        from PIL import Image

        width, height = Image.open(png).size
        lines.append(
            f"  report {png.parent.name}: {png.with_suffix('.pdf')} (page 1 rendered to "
            f"{width}x{height} px, {ink_share(png.read_bytes()):.0%} of it ink)"
        )
    else:
        lines.append("  report: none built")
    s3 = boto3.client("s3", endpoint_url=sandbox.s3_endpoint)
    prefix = f"tenants/{tenant_id}/exports/"
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=EXPORTS_BUCKET, Prefix=prefix
        )
        for o in page.get("Contents", [])
    ]
    manifests = sorted(k for k in keys if k.endswith("/manifest.json"))
    if manifests:
        manifest = json.loads(
            s3.get_object(Bucket=EXPORTS_BUCKET, Key=manifests[-1])["Body"].read()
        )
        rows = sum(t["rows"] for t in manifest["tables"])
        lines.append(
            f"  export: s3://{EXPORTS_BUCKET}/{manifests[-1]} ({len(manifest['tables'])} tables, "
            f"{rows:,} rows, {len(keys)} objects)"
        )
    else:
        lines.append(f"  export: no manifest under s3://{EXPORTS_BUCKET}/{prefix}")
    messaging = sandbox.messaging
    counts = {
        "Slack webhook": len(messaging.received("slack_webhook", f"{tenant_id}-team")),
        "Slack API": len(messaging.received("slack_api", f"#podcast-ads-{tenant_id}")),
        "Discord": len(messaging.received("discord", f"{tenant_id}-alerts")),
        "webhook": len(messaging.received("webhook", f"zapier-{tenant_id}")),
        "SMTP": sum(
            1
            for mail in sandbox.smtp.messages
            if any(_mailbox(tenant_id) in rcpt for rcpt in mail.rcpt_tos)
        ),
    }
    lines.append("  delivered: " + ", ".join(f"{n} {where}" for where, n in counts.items()))
    return lines


def _mailbox(tenant_id: str) -> str:
    return f"boss@{tenant_id.replace('_', '-')}.example"


def sandbox_folder() -> Path:
    return paths().home / "sandbox"
