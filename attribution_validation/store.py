"""The ``validation.attribution_validations`` table: every figure of every validation run.

One row per (run_id, scenario, scope, model, metric, dimension, group_value); docs/user/
choosing-a-model.md describes the columns. Writing a (run_id, scenario) again replaces its rows
in one transaction, so a re-run never duplicates and a reader never sees half a world.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pyarrow as pa

from warehouse.connection import Warehouse

SCHEMA = "validation"
TABLE = "attribution_validations"

COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("run_id", pa.string(), "varchar"),
    ("scenario", pa.string(), "varchar"),
    ("tenant_id", pa.string(), "varchar"),
    ("scope", pa.string(), "varchar"),
    ("model", pa.string(), "varchar"),
    ("metric", pa.string(), "varchar"),
    ("dimension", pa.string(), "varchar"),
    ("group_value", pa.string(), "varchar"),
    ("value", pa.float64(), "double precision"),
    ("lower", pa.float64(), "double precision"),
    ("upper", pa.float64(), "double precision"),
    ("attributed", pa.float64(), "double precision"),
    ("truth", pa.float64(), "double precision"),
    ("significant", pa.bool_(), "boolean"),
    ("rank", pa.int32(), "integer"),
    ("verdict", pa.string(), "varchar"),
    ("world_params", pa.string(), "varchar"),
    ("seed", pa.int64(), "bigint"),
    ("bootstrap_samples", pa.int32(), "integer"),
    ("computed_at", pa.timestamp("us"), "timestamp"),
)


def ensure_table(wh: Warehouse) -> None:
    cols = ",\n    ".join(f'"{name}" {sql_type}' for name, _, sql_type in COLUMNS)
    wh.execute(f"create schema if not exists {SCHEMA}")
    wh.execute(f"create table if not exists {SCHEMA}.{TABLE} (\n    {cols}\n)")


def write_world(
    wh: Warehouse,
    rows: pd.DataFrame,
    *,
    run_id: str,
    scenario: str,
    tenant_id: str,
    world_params: str,
    seed: int,
    bootstrap_samples: int,
    computed_at: datetime,
) -> int:
    """Replace the rows of (run_id, scenario) with ``rows`` (evaluate.ROW_COLUMNS); returns the
    number of rows written."""
    if not run_id:
        raise ValueError("a validation run_id must not be empty")
    frame = rows.assign(
        run_id=run_id,
        scenario=scenario,
        tenant_id=tenant_id,
        world_params=world_params,
        seed=seed,
        bootstrap_samples=bootstrap_samples,
        # Stored without a zone, always UTC (the warehouse's convention for timestamps).
        computed_at=pd.Timestamp(computed_at).tz_convert("UTC").tz_localize(None)
        if pd.Timestamp(computed_at).tzinfo
        else pd.Timestamp(computed_at),
    )
    schema = pa.schema([(name, arrow_type) for name, arrow_type, _ in COLUMNS])
    frame = frame[[name for name, _, _ in COLUMNS]]
    frame = frame.astype({"significant": "object", "rank": "object"})
    data = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    ensure_table(wh)
    with wh.transaction():
        wh.execute(
            f"delete from {SCHEMA}.{TABLE} where run_id = ? and scenario = ?", [run_id, scenario]
        )
        wh.copy_arrow(SCHEMA, TABLE, data)
    return data.num_rows
