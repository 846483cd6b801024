"""Warehouses and environments the integration tests share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import postgres_server
from warehouse.connection import DuckDBWarehouse, PostgresWarehouse, Warehouse


def open_warehouse(request: pytest.FixtureRequest, tmp_path: Path, database: str) -> Warehouse:
    """A fresh warehouse of the engine the fixture is parametrised with (`duckdb`/`postgres`);
    on PostgreSQL, database ``database`` recreated on the session's server."""
    if request.param == "duckdb":
        return DuckDBWarehouse(tmp_path / "w.duckdb")
    server = request.getfixturevalue("pg_server")
    return PostgresWarehouse(postgres_server.fresh_database(server, database))


def cli_env(home: Path, actor: str) -> dict[str, str]:
    """Environment for `earshot` commands on a local DuckDB deployment under ``home``."""
    env = {
        **os.environ,
        "EARSHOT_HOME": str(home),
        "EARSHOT_WAREHOUSE": "duckdb",
        "DAGSTER_HOME": str(home / "dagster"),
        "EARSHOT_ACTOR": actor,
    }
    for name in ("EARSHOT_DUCKDB_PATH", "EARSHOT_LANDING", "EARSHOT_DEPLOYMENT"):
        env.pop(name, None)
    return env
