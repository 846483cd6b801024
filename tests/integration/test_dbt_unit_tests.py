"""dbt's own unit tests (hand-computed expectations) on DuckDB and on PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.postgres_server import PostgresServer, fresh_database
from warehouse.connection import DuckDBWarehouse, PostgresSettings, PostgresWarehouse
from warehouse.entities import ENTITIES, QUARANTINE_SCHEMA, landed_schema
from warehouse.pseudonymisation import IPAD_ENV, OPAD_ENV, dbt_environment
from warehouse.raw_loader import QUARANTINE_TABLE, ensure_table

ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = ROOT / "dbt_project"
# The expected network keys in the staging models' unit tests were computed with this key.
UNIT_TEST_KEY = b"earshot-unit-tests-key: not a secret"


def _dbt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    dbt = str(Path(sys.executable).parent / "dbt")
    return subprocess.run(
        [dbt, *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


def _create_raw(wh) -> None:
    for entity in ENTITIES:
        ensure_table(wh, entity, landed_schema(entity))
    ensure_table(wh, QUARANTINE_TABLE, QUARANTINE_SCHEMA)


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_dbt_unit_tests_pass(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    env = {
        **os.environ,
        "DBT_TARGET": engine,
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "EARSHOT_DUCKDB_PATH": str(tmp_path / "unit.duckdb"),
        **dbt_environment(UNIT_TEST_KEY, base={}),
    }
    if engine == "duckdb":
        wh = DuckDBWarehouse(tmp_path / "unit.duckdb")
        _create_raw(wh)
        wh.close()
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        env.update(server.env())
        env["EARSHOT_PG_DATABASE"] = "dbt_unit"
        pg = PostgresWarehouse(fresh_database(server, "dbt_unit"))
        _create_raw(pg)
        pg.close()
    # Unit tests need their parents to exist: build every relation empty first.
    seeded = _dbt(env, "seed")
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    empty = _dbt(env, "run", "--empty")
    assert empty.returncode == 0, empty.stdout + empty.stderr
    result = _dbt(env, "test", "--select", "test_type:unit")
    assert result.returncode == 0, result.stdout + result.stderr
    passed = re.search(r"PASS=(\d+)", result.stdout)
    # Every model's logic has hand-computed cases (23 when this was written): none may vanish.
    assert passed and int(passed.group(1)) >= 23, result.stdout[-2000:]

    # A session without the tenant's key must fail, not write unkeyed values.
    if engine == "duckdb":
        wh = DuckDBWarehouse(tmp_path / "unit.duckdb")
    else:
        settings = PostgresSettings(server.host, server.port, server.user, "", "dbt_unit")
        wh = PostgresWarehouse(settings)
    wh.execute(
        "insert into raw.download_requests (_tenant_id, ts, ip, episode_id) values (?, ?, ?, ?)",
        ["acme", "2024-01-01 00:00:00", "192.0.2.1", "e1"],
    )
    wh.close()
    keyless = {k: v for k, v in env.items() if k not in (IPAD_ENV, OPAD_ENV, "PGOPTIONS")}
    refused = _dbt(keyless, "run", "--select", "stg_files__download_requests")
    assert refused.returncode != 0
    expected = (
        "no pseudonymisation key in this session"
        if engine == "duckdb"
        else 'unrecognized configuration parameter "earshot.hmac_'
    )
    assert expected in refused.stdout, refused.stdout[-3000:]
