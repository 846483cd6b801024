"""Quotas end to end on DuckDB: the CLI refuses over-quota files, usage shows it, the asset too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import run_earshot
from tests.support.warehouses import cli_env
from warehouse.connection import DuckDBWarehouse
from warehouse.landing import LandingZone
from warehouse.quotas import landing_usage
from warehouse.tenants import Tenant, create_tenant

TENANT = "tenant_quota"


def _env(home: Path) -> dict[str, str]:
    return cli_env(home, "cli_tester")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from connectors.simulator import WorldConfig, simulate

    out = tmp_path_factory.mktemp("quota-export") / "export"
    simulate(WorldConfig.tiny(tenant_id=TENANT, seed=5), out)
    return out


def test_cli_refuses_over_quota_and_lands_once_raised(tmp_path: Path, export: Path) -> None:
    home = tmp_path / "home"
    env = _env(home)
    landing = home / "landing" / TENANT
    data_files = sorted(p.name for p in export.iterdir() if p.is_file())

    run_earshot(env, "tenant", "create", "--tenant", TENANT, "--name", "Q",
                "--max-landed-bytes", "1")  # fmt: skip
    refused = run_earshot(env, "ingest", "files", "--tenant", TENANT, str(export), check=False)
    assert refused.returncode == 1
    for name in data_files:
        assert f"{name}: " in refused.stdout and "REFUSED by quota" in refused.stdout
    assert refused.stdout.count("REFUSED by quota") == len(data_files)
    assert f"earshot tenant update --tenant {TENANT} --max-landed-bytes" in refused.stdout
    assert f"{len(data_files)} file(s) refused by quota" in refused.stderr
    assert _files(landing) == []  # nothing landed, no staging left behind

    # Bytes are plenty now, download requests are not: only those files are refused.
    run_earshot(env, "tenant", "update", "--tenant", TENANT, "--max-landed-bytes", "100000000",
                "--max-download-requests-per-month", "500")  # fmt: skip
    partly = run_earshot(env, "ingest", "files", "--tenant", TENANT, str(export), check=False)
    assert partly.returncode == 1
    assert "quota max_download_requests_per_month (download requests in 20" in partly.stdout
    assert "--max-download-requests-per-month" in partly.stdout
    blocks = {
        line.split(":")[0].strip(): line
        for line in partly.stdout.splitlines()
        if line.startswith("  ") and ": " in line
    }
    for name in data_files:
        if not name.startswith("download_requests"):
            assert "rows read" in blocks[name], blocks[name]
    zone = LandingZone(home / "landing")
    months = landing_usage(zone, TENANT).download_requests_by_month
    assert all(count <= 500 for count in months.values())

    run_earshot(env, "tenant", "update", "--tenant", TENANT,
                "--max-download-requests-per-month", "1000000")  # fmt: skip
    landed = run_earshot(env, "ingest", "files", "--tenant", TENANT, str(export))
    assert "REFUSED" not in landed.stdout
    requests = zone.read(TENANT, "files", "download_requests").num_rows
    usage = landing_usage(zone, TENANT)
    assert sum(usage.download_requests_by_month.values()) == requests > 0

    table = run_earshot(env, "tenant", "usage", "--tenant", TENANT)
    assert f"Quota usage of tenant {TENANT}" in table.stdout
    assert f"{usage.landed_bytes:,}" in table.stdout and "OVER" not in table.stdout
    as_json = json.loads(run_earshot(env, "tenant", "usage", "--tenant", TENANT, "--json").stdout)
    assert as_json["over"] is False and as_json["files"] == usage.files
    by_period = {q["period"]: q for q in as_json["quotas"]}
    assert by_period["total"]["used"] == usage.landed_bytes
    assert by_period["total"]["limit"] == 100_000_000
    assert {p: q["used"] for p, q in by_period.items() if p != "total"} == (
        usage.download_requests_by_month
    )

    # Importing the same files again at exactly the current use: nothing new, nothing refused.
    exact = str(usage.landed_bytes)
    busiest = max(usage.download_requests_by_month.values())
    run_earshot(env, "tenant", "update", "--tenant", TENANT, "--max-landed-bytes", exact,
                "--max-download-requests-per-month", str(busiest))  # fmt: skip
    again = run_earshot(env, "ingest", "files", "--tenant", TENANT, str(export))
    assert "REFUSED" not in again.stdout
    assert landing_usage(zone, TENANT).files == usage.files

    # A quota lowered below the current use: usage says so and exits 1.
    run_earshot(env, "tenant", "update", "--tenant", TENANT, "--max-landed-bytes", "1")
    over = run_earshot(env, "tenant", "usage", "--tenant", TENANT, check=False)
    assert over.returncode == 1
    assert "OVER" in over.stdout
    assert "exceed the quota max_landed_bytes of 1" in over.stderr


def test_usage_of_an_unknown_tenant_is_an_error(tmp_path: Path) -> None:
    result = run_earshot(_env(tmp_path / "home"), "tenant", "usage", "--tenant", "nobody",
                         check=False)  # fmt: skip
    assert result.returncode == 1 and "nobody does not exist" in result.stderr


def test_the_ingest_asset_keeps_refused_files_in_the_inbox(
    tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.assets.ingest import landed_files
    from pipelines.partitions import tenant_partitions
    from pipelines.resources import LandingResource, WarehouseResource

    home = tmp_path / "home"
    for name, value in _env(home).items():
        if name.startswith("EARSHOT_") or name == "DAGSTER_HOME":
            monkeypatch.setenv(name, value)
    for name in ("EARSHOT_DUCKDB_PATH", "EARSHOT_LANDING", "EARSHOT_DEPLOYMENT"):
        monkeypatch.delenv(name, raising=False)
    wh = DuckDBWarehouse(home / "warehouse.duckdb")
    try:
        create_tenant(wh, Tenant(TENANT, "Q", max_download_requests_per_month=0))
    finally:
        wh.close()  # the asset opens its own, read-only connection
    inbox = tmp_path / "inbox"
    shutil.copytree(export, inbox)
    requests = sorted(p.name for p in inbox.glob("download_requests*"))
    others = sorted(p.name for p in inbox.iterdir() if p.is_file() and p.name not in requests)

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(tenant_partitions.name, [TENANT])
    result = dg.materialize(
        [landed_files],
        instance=instance,
        partition_key=TENANT,
        resources={
            "landing": LandingResource(kind="local", root=str(home / "landing")),
            "warehouse": WarehouseResource(target="duckdb"),
        },
        run_config={"ops": {"landed_files": {"config": {"source_dir": str(inbox)}}}},
        raise_on_error=False,
    )

    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "by the tenant's quota" in failure.step_failure_data.error.message
    # Refused files wait in the inbox; the landed ones were archived.
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == requests
    archived = sorted(p.name for p in (inbox / "_processed").rglob("*") if p.is_file())
    assert archived == others
    zone = LandingZone(home / "landing")
    assert zone.files(TENANT, "files", "download_requests") == []
    assert zone.files(TENANT, "files", "orders")


def test_quotas_on_an_s3_landing_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    import boto3

    from tests.support.moto_server import moto_server
    from tests.unit.test_quotas import bad_requests, requests_on
    from warehouse.quotas import QuotaExceeded, QuotaLimits, enforce_quotas
    from warehouse.s3_storage import S3Storage

    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    with moto_server() as endpoint:
        client = boto3.client("s3", endpoint_url=endpoint)
        bucket = f"landing-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=bucket)
        zone = LandingZone(storage=S3Storage(bucket, "landing/", client))
        enforce_quotas(zone, QuotaLimits(max_download_requests_per_month=10))

        first = requests_on(("2026-03-31", 10), ("2026-04-01", 2))
        zone.write_batch(TENANT, "files", "download_requests", first, cursor="c")
        zone.write_quarantine(TENANT, "files", "download_requests", bad_requests(4))
        before = zone.storage.sizes(TENANT)
        with pytest.raises(QuotaExceeded, match="download requests in 2026-03"):
            more = requests_on(("2026-03-15", 1))
            zone.write_batch(TENANT, "files", "download_requests", more, cursor="c")

        assert zone.storage.sizes(TENANT) == before  # nothing landed, no staging left
        usage = landing_usage(zone, TENANT)
        assert usage.download_requests_by_month == {"2026-03": 10, "2026-04": 2}
        assert (usage.files, usage.landed_bytes) == (3, sum(before.values()))


def test_landing_shares_the_warehouse_pool() -> None:
    # Landing reads quotas from the warehouse, so it queues with everything else that opens it.
    from pipelines.assets.ingest import landed_files
    from pipelines.pools import WAREHOUSE_POOL

    assert landed_files.op.pool == WAREHOUSE_POOL
