"""Re-runs replace and never duplicate; one tenant's run leaves the other alone; a landed batch
that breaks its expectation suite stops everything downstream of it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.conftest import TENANTS, BuiltPipeline, run_earshot
from tests.support.warehouse_query import read_sql

pytestmark = pytest.mark.e2e

TABLES = [
    "raw.download_requests",
    "raw.orders",
    "staging.stg_files__download_requests",
    "intermediate.int_downloads",
    "intermediate.int_touchpoints",
    "marts.fct_attribution_credits",
    "marts.fct_campaign_performance",
]


def _counts(p: BuiltPipeline) -> dict[tuple[str, str], int]:
    out = {}
    for table in TABLES:
        tenant_col = "_tenant_id" if table.startswith("raw.") else "tenant_id"
        df = read_sql(
            p.warehouse,
            p.home,
            p.env,
            f"select {tenant_col} as tenant_id, count(*) as n from {table} group by 1",
        )
        for tenant, n in zip(df["tenant_id"], df["n"], strict=True):
            out[(table, tenant)] = int(n)
    return out


def test_rerun_and_reingest_never_duplicate(duckdb_pipeline: BuiltPipeline) -> None:
    before = _counts(duckdb_pipeline)
    other = read_sql(
        "duckdb",
        duckdb_pipeline.home,
        duckdb_pipeline.env,
        f"select * from marts.fct_attribution_credits where tenant_id = '{TENANTS[1]}' "
        "order by conversion_id, touchpoint_id, model",
    )
    tenant = TENANTS[0]
    # The same export landed a second time replaces itself; the run then rebuilds one tenant.
    duckdb_pipeline.earshot(
        "ingest", "files", "--tenant", tenant, str(duckdb_pipeline.ingested[tenant])
    )
    duckdb_pipeline.earshot("run", "--tenant", tenant)
    assert _counts(duckdb_pipeline) == before
    other_after = read_sql(
        "duckdb",
        duckdb_pipeline.home,
        duckdb_pipeline.env,
        f"select * from marts.fct_attribution_credits where tenant_id = '{TENANTS[1]}' "
        "order by conversion_id, touchpoint_id, model",
    )
    pd.testing.assert_frame_equal(other, other_after)


def test_batch_breaking_its_suite_blocks_downstream(tmp_path: Path) -> None:
    from connectors.simulator import WorldConfig, simulate

    home = tmp_path / "home"
    env = {
        **__import__("os").environ,
        "EARSHOT_HOME": str(home),
        "EARSHOT_WAREHOUSE": "duckdb",
        "DAGSTER_HOME": str(home / "dagster"),
    }
    env.pop("EARSHOT_DUCKDB_PATH", None)
    export = tmp_path / "export"
    simulate(WorldConfig.tiny(tenant_id="tenant_gamma", seed=3), export)
    # Every order a year older than the rest: each row parses, so it lands, but the batch is
    # stale and the suite's freshness expectation must stop it before `raw`.
    orders = next(export.glob("orders*.parquet"))
    table = pq.read_table(orders).to_pandas()
    table["ts"] = pd.to_datetime(table["ts"]) - pd.Timedelta(days=400)
    table.to_parquet(orders, index=False)

    run_earshot(env, "ingest", "files", "--tenant", "tenant_gamma", str(export))
    run = run_earshot(env, "run", "--tenant", "tenant_gamma", check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    output = run.stdout + run.stderr
    assert "landing/files/orders" in output
    assert "tenant_gamma/files/orders" in output  # the table the message names
    assert "expect_column_max_to_be_between" in output  # the expectation
    assert "orders.parquet row" in output  # an example row, by file and row
    # Nothing after the check ran: the warehouse was not even created, or holds no orders and
    # no marts.
    database = home / "warehouse.duckdb"
    if not database.exists():
        return
    import duckdb

    with duckdb.connect(str(database), read_only=True) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
        }
        if "raw.orders" in tables:
            assert conn.execute("select count(*) from raw.orders").fetchone()[0] == 0
        assert "marts.fct_attribution_credits" not in tables
