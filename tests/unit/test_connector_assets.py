"""The connector stage in Dagster: a sync asset per platform, its freshness check, its sensors."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml

from tests.fakes.buzzsprout import FakeBuzzsprout
from tests.fakes.catalog import make_catalog
from warehouse.secrets import clear_cache, env_variable

TENANT = "dagster_co"
FIRST = date(2026, 10, 1)


@pytest.fixture
def configured(tmp_path: Path, monkeypatch):
    catalog = make_catalog(first_day=FIRST, days=5, numeric_ids=True)
    fake = FakeBuzzsprout(catalog).start()
    monkeypatch.setenv("EARSHOT_HOME", str(tmp_path))
    monkeypatch.setenv("EARSHOT_TENANTS_DIR", str(tmp_path / "tenants"))
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "env")
    monkeypatch.setenv(env_variable(TENANT, "buzzsprout_api_token"), fake.token)
    clear_cache()
    (tmp_path / "tenants").mkdir()
    settings = {
        "base_url": fake.base_url,
        "start_date": FIRST.isoformat(),
        "rate_limit": {"requests": 1000, "per_seconds": 1},
        "schedule": "0 7 * * *",
    }
    (tmp_path / "tenants" / f"{TENANT}.yaml").write_text(
        yaml.safe_dump({"connectors": {"buzzsprout": settings}})
    )
    try:
        yield tmp_path, catalog
    finally:
        fake.stop()


def _materialize(home: Path, tenant: str):
    from pipelines.assets.connectors import SyncConfig, connector_assets
    from pipelines.resources import LandingResource

    buzzsprout = next(a for a in connector_assets if "buzzsprout" in a.op.name)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("tenants", [tenant])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dg.materialize(
            [buzzsprout],
            partition_key=tenant,
            instance=instance,
            resources={"landing": LandingResource(kind="local", root=str(home / "landing"))},
            run_config=dg.RunConfig(
                ops={"buzzsprout_sync": SyncConfig(full=True, until=str(FIRST + timedelta(4)))}
            ),
        )


def test_the_sync_asset_lands_and_reports_per_stream(configured) -> None:
    home, catalog = configured
    result = _materialize(home, TENANT)
    assert result.success
    by_key = {
        m.asset_key.to_user_string(): m.metadata
        for m in result.asset_materializations_for_node("buzzsprout_sync")
    }
    downloads = by_key["landing/buzzsprout/host_downloads_daily"]
    expected = catalog.expected_downloads(FIRST, FIRST + timedelta(4))
    assert downloads["rows_landed"].value == len(expected)
    assert downloads["cursor"].value == (FIRST + timedelta(4)).isoformat()
    assert by_key["landing/buzzsprout/episodes"]["rows_landed"].value == len(catalog.episodes)
    checks = result.get_asset_check_evaluations()
    assert {c.check_name for c in checks} == {"freshness"} and all(c.passed for c in checks)


def test_a_tenant_without_the_connector_materializes_nothing(configured) -> None:
    home, _ = configured
    result = _materialize(home, "other_co")
    assert result.success
    assert result.asset_materializations_for_node("buzzsprout_sync") == []


def test_the_schedule_sensor_launches_one_run_per_tick(configured) -> None:
    from pipelines.connector_automation import connector_schedule, latest_tick

    instance = dg.DagsterInstance.ephemeral()
    with dg.build_sensor_context(instance=instance) as context:
        result = connector_schedule(context)
    (request,) = result.run_requests
    tick = latest_tick("0 7 * * *", datetime.now(UTC))
    assert request.partition_key == TENANT and request.job_name == "sync_buzzsprout"
    assert request.run_key == f"buzzsprout:{TENANT}:{tick.isoformat()}"
    assert tick.hour == 7 and tick <= datetime.now(UTC)
    # the tenant becomes a partition
    (added,) = result.dynamic_partitions_requests
    assert list(added.partition_keys) == [TENANT]


def test_the_freshness_sensor_flags_a_tenant_that_never_synced(configured) -> None:
    from pipelines.connector_automation import connector_freshness
    from pipelines.resources import LandingResource

    home, _ = configured
    landing = LandingResource(kind="local", root=str(home / "landing"))
    with dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), resources={"landing": landing}
    ) as context:
        before = connector_freshness(context).asset_events
    from connectors.hosting.buzzsprout import Buzzsprout

    assert len(before) == len(Buzzsprout.streams) and not any(e.passed for e in before)
    assert all("never synced" in e.description for e in before)
    _materialize(home, TENANT)
    with dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), resources={"landing": landing}
    ) as context:
        after = connector_freshness(context).asset_events
    assert all(e.passed and e.partition == TENANT for e in after)
