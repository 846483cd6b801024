"""The serving sensors: each tenant's crons in its own time zone, quality-gate alerts of a failed
run, and failed runs reported to the operators (kept and sent again when the channel fails)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.serving_automation import (
    latest_tick,
    operator_alerts,
    pending_ops_messages,
    quality_gate_alerts,
    retry_ops_messages,
    serving_requests,
)
from serving.delivery import DeliveryError
from serving.sandbox import FakeMessaging
from serving.settings import ServingSettings
from warehouse.connection import DuckDBWarehouse


def test_crons_tick_in_the_tenants_time_zone() -> None:
    # Monday 2026-11-23 08:00 in Sydney (UTC+11 in summer) is Sunday 21:00 UTC.
    now = datetime(2026, 11, 22, 21, 30, tzinfo=UTC)
    tick = latest_tick("0 8 * * 1", now, "Australia/Sydney")
    assert tick.astimezone(UTC) == datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
    # Half an hour earlier the latest Sydney tick is the week before.
    earlier = latest_tick(
        "0 8 * * 1", datetime(2026, 11, 22, 20, 30, tzinfo=UTC), "Australia/Sydney"
    )
    assert earlier.astimezone(UTC) == datetime(2026, 11, 15, 21, 0, tzinfo=UTC)


def test_a_tenant_gets_its_report_export_and_alert_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARSHOT_EXPORTS_BUCKET", "exports")
    settings = ServingSettings.model_validate(
        {
            "timezone": "America/New_York",
            "channels": {"team": {"type": "slack_webhook", "secret": "slack_url"}},
            "alerts": [{"rule": "stale_data", "channels": ["team"]}],
        }
    )
    # Monday 2026-11-23 13:30 UTC is 08:30 in New York: the 08:00 report tick has passed.
    now = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
    report, export, alerts = serving_requests("acme", settings, now)
    assert report.job_name == "tenant_report" and report.partition_key == "acme"
    assert report.run_key == "tenant_report:acme:2026-11-23T08:00:00-05:00"
    # The week complete at the tick: Monday 16 to Sunday 22 November.
    assert report.run_config == {
        "ops": {"serving__weekly_report": {"config": {"week": "2026-W47"}}}
    }
    assert export.run_key == "tenant_export:acme:2026-11-23T07:00:00-05:00"
    assert alerts.run_key == "tenant_alerts:acme:2026-11-23T07:30:00-05:00"
    # Without rules, a bucket or a report there is nothing to run.
    monkeypatch.delenv("EARSHOT_EXPORTS_BUCKET")
    quiet = ServingSettings.model_validate({"reports": {"enabled": False}})
    assert serving_requests("acme", quiet, now) == []


# -- failed runs -------------------------------------------------------------------------------


@dg.asset(check_specs=[dg.AssetCheckSpec("rows_present", asset="landed", blocking=True)])
def landed():
    return dg.MaterializeResult(
        check_results=[
            dg.AssetCheckResult(
                check_name="rows_present", passed=False, description="0 rows landed"
            )
        ]
    )


@dg.asset(deps=[landed])
def modelled() -> None:
    return None


def _failed_run(instance: dg.DagsterInstance, job_name: str, tenant: str):
    job = dg.define_asset_job(job_name, selection=[landed, modelled])
    defs = dg.Definitions(assets=[landed, modelled], jobs=[job])
    result = defs.resolve_job_def(job_name).execute_in_process(
        instance=instance, raise_on_error=False, tags={"dagster/partition": tenant}
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    return dg.build_run_status_sensor_context(
        sensor_name="test",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=failure,
    ).for_run_failure()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


def test_a_quality_gate_alerts_the_tenants_channels_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeMessaging, instance
) -> None:
    folder = tmp_path / "tenants"
    folder.mkdir()
    (folder / "acme.yaml").write_text(
        yaml.safe_dump(
            {
                "serving": {
                    "channels": {"team": {"type": "slack_webhook", "secret": "slack_url"}},
                    "alerts": [{"rule": "quality_gate", "channels": ["team"]}],
                }
            }
        )
    )
    monkeypatch.setenv("EARSHOT_TENANTS_DIR", str(folder))
    monkeypatch.setenv("EARSHOT_WAREHOUSE", "duckdb")
    monkeypatch.setenv("EARSHOT_DUCKDB_PATH", str(tmp_path / "wh.duckdb"))
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "env")
    monkeypatch.setenv("EARSHOT_SECRET_SLACK_URL__ACME", fake.slack_hook_url("team"))

    context = _failed_run(instance, "tenant_pipeline", "acme")
    assert quality_gate_alerts(context) is None
    (body,) = fake.received("slack_webhook")
    assert "Quality gate failed in tenant_pipeline" in body["text"]
    assert "landed / rows_present: 0 rows landed" in body["text"]
    # The sensor seeing the run again sends nothing more.
    quality_gate_alerts(context)
    assert len(fake.received("slack_webhook")) == 1
    wh = DuckDBWarehouse(tmp_path / "wh.duckdb", read_only=True)
    assert wh.fetch("select tenant_id, status from serving.deliveries") == [("acme", "delivered")]
    wh.close()
    # Other jobs' failures are not quality gates of a tenant.
    other = _failed_run(instance, "sync_shopify", "acme")
    assert isinstance(quality_gate_alerts(other), dg.SkipReason)


def test_failed_runs_reach_the_operators_and_wait_when_the_channel_fails(
    monkeypatch: pytest.MonkeyPatch, fake: FakeMessaging, instance
) -> None:
    monkeypatch.setenv("EARSHOT_OPS_CHANNEL", "slack_webhook")
    monkeypatch.setenv("EARSHOT_OPS_WEBHOOK_URL", fake.slack_hook_url("ops"))
    # Short waits between the attempts (and no pacing wait between messages).
    monkeypatch.setattr("pipelines.serving_automation.OPS_RETRY", (3, 0.01, 1.0))
    context = _failed_run(instance, "tenant_pipeline", "acme")
    operator_alerts(context)
    (body,) = fake.received("slack_webhook")
    assert "Run failed: tenant_pipeline (acme)" in body["text"]
    assert context.dagster_run.run_id in str(body)

    # Slack down: the sensor's tick fails and the message is kept in the instance...
    fake.fail("/slack/hooks/", times=50, status=503)
    second = _failed_run(instance, "tenant_ml", "globex")
    with pytest.raises(DeliveryError, match="503"):
        operator_alerts(second)
    (kept,) = pending_ops_messages(instance)
    assert kept["message"]["key"] == f"ops:run_failure:{second.dagster_run.run_id}"
    assert "503" in kept["error"]
    # ... and sent when Slack answers again (serving_schedule does this each minute).
    fake.reset()
    from pipelines.serving_automation import ops_sender

    assert retry_ops_messages(instance, ops_sender()) == (1, [])
    (body,) = fake.received("slack_webhook")
    assert "Run failed: tenant_ml (globex)" in body["text"]
    assert pending_ops_messages(instance) == []


def test_without_an_operators_channel_the_sensor_skips(
    monkeypatch: pytest.MonkeyPatch, instance
) -> None:
    monkeypatch.delenv("EARSHOT_OPS_CHANNEL", raising=False)
    context = _failed_run(instance, "tenant_pipeline", "acme")
    assert isinstance(operator_alerts(context), dg.SkipReason)
