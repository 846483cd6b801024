"""The local Dagster instance under `$EARSHOT_HOME/dagster`, shared by the CLI and `make ui`."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.partitions import tenant_partitions
from warehouse.settings import paths, validate_tenant_id

_DAGSTER_YAML = """\
# Written by earshot on first use; edit freely.
telemetry:
  enabled: false
concurrency:
  pools:
    # Assets that write the warehouse share the pool `warehouse`; DuckDB takes one writer.
    default_limit: 1
  runs:
    # Runs launched from the UI, schedules and sensors queue here. One run per tenant at a time
    # (a tenant's runs carry its id in the dagster/partition tag); different tenants in parallel.
    max_concurrent_runs: 4
    tag_concurrency_limits:
      - key: dagster/partition
        value:
          applyLimitPerUniqueValue: true
        limit: 1
"""


def dagster_home() -> Path:
    home = paths().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(_DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def instance() -> dg.DagsterInstance:
    dagster_home()
    return dg.DagsterInstance.get()


def register_tenant(inst: dg.DagsterInstance, tenant_id: str) -> None:
    """Add the tenant as a partition of every tenant-partitioned asset (idempotent)."""
    validate_tenant_id(tenant_id)
    name = tenant_partitions.name
    if not inst.has_dynamic_partition(name, tenant_id):
        inst.add_dynamic_partitions(name, [tenant_id])
