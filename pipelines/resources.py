"""Resources, configured by environment.

`EARSHOT_DEPLOYMENT=local` (default): DuckDB file and landing folder under `$EARSHOT_HOME`.
`EARSHOT_DEPLOYMENT=production`: PostgreSQL warehouse (connection from `EARSHOT_PG_*`).
Secrets (the PostgreSQL password) are read from the environment when a connection opens and are
never part of the resource config, so they do not show in the Dagster UI or run logs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.dbt_project import dbt_executable, dbt_project
from warehouse.connection import Warehouse, connect
from warehouse.landing import LandingZone
from warehouse.settings import paths


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse every stage writes: `duckdb` or `postgres`."""

    target: str = "duckdb"

    @contextmanager
    def connect(self) -> Iterator[Warehouse]:
        with connect(self.target) as wh:
            yield wh


class LandingResource(dg.ConfigurableResource):
    """The landing zone: a local folder (S3 in production is a later step)."""

    root: str

    def zone(self) -> LandingZone:
        return LandingZone(Path(self.root))


def deployment() -> str:
    name = os.environ.get("EARSHOT_DEPLOYMENT", "local")
    if name not in ("local", "production"):
        raise ValueError(f"EARSHOT_DEPLOYMENT must be 'local' or 'production', not {name!r}")
    return name


def build_resources() -> dict[str, object]:
    """The resource set for this deployment."""
    target = (
        "postgres"
        if deployment() == "production"
        else os.environ.get("EARSHOT_WAREHOUSE", "duckdb")
    )
    # dbt and the loaders must see the same DuckDB file whatever the working directory.
    os.environ.setdefault("EARSHOT_DUCKDB_PATH", str(paths().duckdb_path))
    os.environ["DBT_TARGET"] = target
    return {
        "warehouse": WarehouseResource(target=target),
        "landing": LandingResource(root=str(paths().landing)),
        "dbt": DbtCliResource(
            project_dir=dbt_project,
            profiles_dir=str(dbt_project.profiles_dir),
            target=target,
            dbt_executable=dbt_executable(),
        ),
    }
