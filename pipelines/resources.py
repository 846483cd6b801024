"""Resources, configured by environment.

`EARSHOT_DEPLOYMENT=local` (default): DuckDB file and landing folder under `$EARSHOT_HOME`.
`EARSHOT_DEPLOYMENT=production`: PostgreSQL warehouse (connection from `EARSHOT_PG_*`), the
landing zone in S3 (`EARSHOT_LANDING_BUCKET`, `EARSHOT_LANDING_PREFIX`), tenant secrets from the
environment or AWS Secrets Manager. docs/user/deploy.md has every variable.
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
from warehouse.landing import LandingZone, landing_kind
from warehouse.settings import deployment, paths, warehouse_target


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse every stage writes: `duckdb` or `postgres`."""

    target: str = "duckdb"

    @contextmanager
    def connect(self) -> Iterator[Warehouse]:
        with connect(self.target) as wh:
            yield wh


class LandingResource(dg.ConfigurableResource):
    """The landing zone: a local folder (`kind="local"`) or an S3 bucket (`kind="s3"`).

    Only where the zone is goes in the config; S3 credentials and an endpoint override
    (`EARSHOT_S3_ENDPOINT_URL`) come from the environment when the client is made, exactly as
    for `earshot ingest` (`S3Storage.from_env`).
    """

    kind: str = "local"
    root: str | None = None
    bucket: str | None = None
    prefix: str = ""

    def zone(self, tenant_scope: str | None = None) -> LandingZone:
        """The zone; a run passes its tenant as ``tenant_scope`` so it cannot write another's."""
        if self.kind == "s3":
            from warehouse.s3_storage import S3Storage

            environ = {
                **os.environ,
                "EARSHOT_LANDING_BUCKET": self.bucket or "",
                "EARSHOT_LANDING_PREFIX": self.prefix,
            }
            storage = S3Storage.from_env(environ)
            return LandingZone(storage=storage, tenant_scope=tenant_scope)
        return LandingZone(Path(self.root or paths().landing), tenant_scope=tenant_scope)


def _landing_resource() -> LandingResource:
    if landing_kind() == "s3":
        bucket = os.environ.get("EARSHOT_LANDING_BUCKET", "").strip()
        if not bucket:
            # refused when the definitions load, not at a run's first step
            raise ValueError("EARSHOT_LANDING_BUCKET must name the landing bucket for S3 landing")
        return LandingResource(
            kind="s3", bucket=bucket, prefix=os.environ.get("EARSHOT_LANDING_PREFIX", "")
        )
    return LandingResource(kind="local", root=str(paths().landing))


def build_resources() -> dict[str, object]:
    """The resource set for this deployment."""
    deployment()  # refuses an unknown EARSHOT_DEPLOYMENT before anything else
    target = warehouse_target()
    # dbt and the loaders must see the same DuckDB file whatever the working directory.
    os.environ.setdefault("EARSHOT_DUCKDB_PATH", str(paths().duckdb_path))
    os.environ["DBT_TARGET"] = target
    return {
        "warehouse": WarehouseResource(target=target),
        "landing": _landing_resource(),
        "dbt": DbtCliResource(
            project_dir=dbt_project,
            profiles_dir=str(dbt_project.profiles_dir),
            target=target,
            dbt_executable=dbt_executable(),
        ),
    }
