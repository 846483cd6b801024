"""Build marts from what connectors landed, for one tenant, on DuckDB: the raw loader loads every
landed entity, then dbt builds the selected models and their data tests (no unit tests)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.integration.test_dbt_unit_tests import UNIT_TEST_KEY, _create_raw, _dbt
from warehouse.connection import DuckDBWarehouse
from warehouse.entities import ENTITIES
from warehouse.landing import LandingZone
from warehouse.pseudonymisation import dbt_environment
from warehouse.raw_loader import load_entity


def build_marts(
    zone: LandingZone, tenant: str, home: Path, select: str
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The DuckDB file under ``home`` and dbt's result of building ``select`` for ``tenant``."""
    database = home / "warehouse.duckdb"
    wh = DuckDBWarehouse(database)
    _create_raw(wh)
    for entity in ENTITIES:
        load_entity(wh, tenant, entity, zone.storage, zone.entity_files(tenant, entity))
    wh.close()
    env = {
        **os.environ,
        "DBT_TARGET": "duckdb",
        "DBT_TARGET_PATH": str(home / "target"),
        "DBT_LOG_PATH": str(home / "logs"),
        "EARSHOT_DUCKDB_PATH": str(database),
        **dbt_environment(UNIT_TEST_KEY, base={}),
    }
    built = _dbt(
        env,
        "build",
        "--select",
        select,
        "--exclude",
        "test_type:unit",
        # the data tests of the selected models only (not those that also read a model the
        # selection leaves out, such as placements)
        "--indirect-selection",
        "cautious",
        "--vars",
        f'{{"tenant_id": "{tenant}"}}',
    )
    return database, built
