"""Transform stage: the dbt project, one tenant partition per run."""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.dbt_project import EarshotDbtTranslator, dbt_project, ensure_manifest
from pipelines.partitions import tenant_partitions
from pipelines.pools import WAREHOUSE_POOL
from warehouse.pseudonymisation import dbt_environment, scoped_environ, tenant_key
from warehouse.settings import paths

ensure_manifest()


def tenant_vars(tenant_id: str) -> dict[str, object]:
    """dbt vars for one tenant's run: its id, plus its attribution settings when it has a row
    in `earshot_meta.tenants` (otherwise dbt_project.yml's defaults apply)."""
    from warehouse.connection import connect
    from warehouse.settings import warehouse_target
    from warehouse.tenants import get_tenant

    run_vars: dict[str, object] = {"tenant_id": tenant_id}
    if warehouse_target() == "duckdb" and not paths().duckdb_path.exists():
        return run_vars
    # Read-only and closed before dbt starts: DuckDB allows one writing process at a time.
    with connect(read_only=True) as wh:
        tenant = get_tenant(wh, tenant_id)
    if tenant is not None:
        run_vars.update(tenant.dbt_vars())
    return run_vars


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=EarshotDbtTranslator(),
    partitions_def=tenant_partitions,
    pool=WAREHOUSE_POOL,
)
def earshot_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build` for one tenant: models replace that tenant's rows; tests run as checks.

    dbt unit tests check the SQL, not the data: they run in CI (tests/integration), not here.
    """
    args = [
        "build",
        "--vars",
        json.dumps(tenant_vars(context.partition_key)),
        "--exclude",
        "test_type:unit",
    ]
    # Each run's dbt artefacts (run_results, logs) go under $EARSHOT_HOME, not into the source
    # tree, and only the latest few per tenant are kept.
    runs_dir = paths().home / "dbt-runs" / context.partition_key
    target = runs_dir / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{context.run_id[:8]}"
    # The tenant's pseudonymisation key reaches dbt's sessions through the environment of this
    # dbt process only (see warehouse/pseudonymisation.py); it is in no arg, var or log.
    key_env = dbt_environment(tenant_key(context.partition_key))
    with scoped_environ(key_env):
        invocation = dbt.cli(args, context=context, target_path=target)
    del key_env
    yield from invocation.stream()
    _prune(runs_dir, keep=KEPT_DBT_RUNS)


KEPT_DBT_RUNS = 5


def _prune(runs_dir: Path, keep: int) -> None:
    """Delete all but the `keep` newest run folders (their names start with the UTC time)."""
    runs = sorted(p for p in runs_dir.iterdir() if p.is_dir())
    for old in runs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
