"""Reports, exports and alerts end to end, through the command line, on both warehouses: a
tenant configured as an operator would configure it (settings file, secrets), delivering to the
sandbox's fake Slack, Discord, webhook and SMTP server and to the session's S3 (moto)."""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
from email.message import EmailMessage

import boto3
import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from PIL import Image

from serving.sandbox import FakeMessaging, SmtpSink
from tests.conftest import AWS_TEST_ENV, TENANTS, BuiltPipeline, run_earshot
from tests.support.warehouse_query import sql

pytestmark = pytest.mark.e2e

ALPHA, BETA = TENANTS
SMTP_USER, SMTP_PASSWORD = "earshot", "sink-password-e2e"


def _configure(pipeline: BuiltPipeline, tenant: str, serving: dict) -> None:
    """Add the serving section to the tenant's settings file, keeping its connectors."""
    path = pipeline.home / "tenants" / f"{tenant}.yaml"
    document = yaml.safe_load(path.read_text()) if path.exists() else {}
    document["serving"] = serving
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _secret(tenant: str, name: str) -> str:
    return f"EARSHOT_SECRET_{name.upper()}__{tenant.upper()}"


def _objects(s3, bucket: str, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_a_tenant_gets_its_report_export_and_alerts(
    pipeline: BuiltPipeline, moto_endpoint: str
) -> None:
    bucket = f"exports-{pipeline.warehouse}-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        aws_access_key_id=AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=AWS_TEST_ENV["AWS_DEFAULT_REGION"],
    )
    s3.create_bucket(Bucket=bucket)
    newest = sql(
        pipeline,
        f"select max(conversion_ts) as ts from marts.fct_attribution_credits"
        f" where tenant_id = '{ALPHA}'",
    )["ts"][0]
    year, week_number, _ = newest.date().isocalendar()
    week = f"{year}-W{week_number:02d}"

    with FakeMessaging() as fake, SmtpSink(username=SMTP_USER, password=SMTP_PASSWORD) as smtp:
        host, port = smtp.address
        env = {
            **pipeline.env,
            **AWS_TEST_ENV,
            "AWS_ENDPOINT_URL": moto_endpoint,
            "EARSHOT_EXPORTS_BUCKET": bucket,
            "EARSHOT_EXPORTS_ENDPOINT_URL": moto_endpoint,
            # The channels' credentials, as an operator of a production deployment sets them.
            "EARSHOT_SECRETS_BACKEND": "env",
            _secret(ALPHA, "slack_url"): fake.slack_hook_url("alpha-team"),
            _secret(ALPHA, "discord_url"): fake.discord_webhook_url("alpha-alerts"),
            _secret(ALPHA, "n8n_url"): fake.webhook_url(
                "alpha-n8n", auth="basic", username="earshot", secret="hook-pass"
            ),
            _secret(ALPHA, "n8n_password"): "hook-pass",
            _secret(ALPHA, "smtp_password"): SMTP_PASSWORD,
        }
        _configure(
            pipeline,
            ALPHA,
            {
                "timezone": "Europe/London",
                "reports": {"deliver_to": ["team", "boss"]},
                "channels": {
                    "team": {"type": "slack_webhook", "secret": "slack_url"},
                    "alerts": {"type": "discord", "secret": "discord_url"},
                    "n8n": {
                        "type": "webhook",
                        "flavor": "n8n",
                        "secret": "n8n_url",
                        "auth": "basic",
                        "username": "earshot",
                        "auth_secret": "n8n_password",
                    },
                    "boss": {
                        "type": "email",
                        "host": host,
                        "port": port,
                        "security": "none",
                        "sender": "reports@earshot.example",
                        "recipients": ["boss@alpha.example"],
                        "username": SMTP_USER,
                        "secret": "smtp_password",
                    },
                },
                # Every landed source is older than 4 seconds by now: one alert per source.
                "alerts": [
                    {"rule": "stale_data", "max_age_hours": 0.001, "channels": ["alerts", "n8n"]}
                ],
            },
        )
        _configure(pipeline, BETA, {"timezone": "America/New_York"})

        # -- the report: rendered, stored in the tenant's prefix, sent by email and to Slack --
        built = run_earshot(env, "report", "--tenant", ALPHA, "--week", week)
        assert "succeeded" in built.stdout, built.stdout + built.stderr
        folder = pipeline.home / "reports" / ALPHA / week
        pdf = (folder / "report.pdf").read_bytes()
        assert pdf.startswith(b"%PDF")
        page = np.asarray(Image.open(folder / "report.png").convert("L"))
        assert page.shape[0] > 800 and (page < 200).mean() > 0.02  # a page with ink on it
        assert ALPHA in (folder / "report.html").read_text()

        (mail,) = smtp.messages
        assert mail.authenticated_as == SMTP_USER and mail.rcpt_tos == ("boss@alpha.example",)
        message: EmailMessage = mail.message
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content() == pdf
        (slack,) = fake.received("slack_webhook", "alpha-team")
        assert week in slack["text"]
        link = next(
            element["url"]
            for block in slack["blocks"]
            for element in block.get("elements", [])
            if element.get("url")
        )
        with urllib.request.urlopen(link, timeout=10) as response:
            assert response.read() == pdf
        assert f"tenants/{ALPHA}/reports/{week}/report.pdf" in _objects(
            s3, bucket, f"tenants/{ALPHA}/reports/"
        )

        # -- the exports: each tenant's marts in its own prefix, with a manifest --------------
        for tenant in (ALPHA, BETA):
            done = run_earshot(env, "export", "--tenant", tenant)
            assert "succeeded" in done.stdout, done.stdout + done.stderr
        alpha_keys = _objects(s3, bucket, f"tenants/{ALPHA}/exports/")
        beta_keys = _objects(s3, bucket, f"tenants/{BETA}/exports/")
        (manifest_key,) = [k for k in alpha_keys if k.endswith("/manifest.json")]
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
        assert manifest["tenant_id"] == ALPHA
        assert manifest["settings"]["attribution"]["lookback_days"] == 30
        parquet = [k for k in alpha_keys if k.endswith("fct_attribution_credits.parquet")]
        table = pq.read_table(
            io.BytesIO(s3.get_object(Bucket=bucket, Key=parquet[0])["Body"].read())
        )
        assert table.num_rows > 0 and set(table.column("tenant_id").to_pylist()) == {ALPHA}
        assert any(k.endswith("/manifest.json") for k in beta_keys)
        assert not any(k.startswith(f"tenants/{ALPHA}/") for k in beta_keys)

        # -- alerts: one per stale source to each channel; a re-run sends nothing again -------
        alerted = run_earshot(env, "alerts", "run", "--tenant", ALPHA)
        assert "succeeded" in alerted.stdout, alerted.stdout + alerted.stderr
        sources = sql(
            pipeline,
            f"select distinct _source from raw.download_requests where _tenant_id = '{ALPHA}'",
        )["_source"].tolist()
        discord = fake.received("discord", "alpha-alerts")
        n8n = fake.received("webhook", "alpha-n8n")
        assert len(discord) >= len(sources) >= 1
        assert len(n8n) == len(discord)
        assert {hook["tenant_id"] for hook in n8n} == {ALPHA}
        assert all(hook["title"].startswith("Stale data: nothing new from ") for hook in n8n)
        assert all(d["allowed_mentions"] == {"parse": []} for d in discord)
        again = run_earshot(env, "alerts", "run", "--tenant", ALPHA)
        assert "succeeded" in again.stdout
        assert len(fake.received("discord", "alpha-alerts")) == len(discord)
        assert len(fake.received("webhook", "alpha-n8n")) == len(n8n)

        log = sql(
            pipeline,
            f"select channel, event, status from serving.deliveries where tenant_id = '{ALPHA}'",
        )
        assert set(log["status"]) == {"delivered"}
        assert set(zip(log["channel"], log["event"], strict=True)) == {
            ("team", "report"),
            ("boss", "report"),
            ("alerts", "alert"),
            ("n8n", "alert"),
        }
        listed = run_earshot(env, "alerts", "deliveries", "--tenant", ALPHA, "--failed")
        assert "no failed deliveries" in listed.stdout
