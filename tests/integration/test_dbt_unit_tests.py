"""dbt's own unit tests (hand-computed expectations) on DuckDB and on PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.postgres_server import PostgresServer, fresh_database
from warehouse.connection import DuckDBWarehouse, PostgresWarehouse
from warehouse.entities import ENTITIES, QUARANTINE_SCHEMA, landed_schema
from warehouse.raw_loader import QUARANTINE_TABLE, ensure_table

ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = ROOT / "dbt_project"


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
