"""Load landed Parquet into the warehouse's ``raw`` schema, one tenant at a time.

The landing zone is the source of truth: a tenant's rows in ``raw.<entity>`` are replaced by
what is landed for that tenant, in one transaction, so a re-run never duplicates and a failed
load leaves the previous rows in place. DuckDB reads the Parquet files itself; PostgreSQL is fed
by COPY.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.connection import Warehouse
from warehouse.entities import QUARANTINE_SCHEMA, landed_schema
from warehouse.settings import validate_tenant_id

RAW_SCHEMA = "raw"
QUARANTINE_TABLE = "quarantine"

_DUCKDB_TYPES = {
    pa.string(): "varchar",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.float64(): "double",
    pa.date32(): "date",
    pa.timestamp("us"): "timestamp",
}
_POSTGRES_TYPES = {
    pa.string(): "text",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.float64(): "double precision",
    pa.date32(): "date",
    pa.timestamp("us"): "timestamp",
}


@dataclass(frozen=True)
class RawLoadResult:
    table: str
    tenant_id: str
    files: int
    rows: int


def column_ddl(schema: pa.Schema, engine: str) -> str:
    types = _DUCKDB_TYPES if engine == "duckdb" else _POSTGRES_TYPES
    return ", ".join(f'"{f.name}" {types[f.type]}' for f in schema)


def ensure_table(wh: Warehouse, table: str, schema: pa.Schema) -> None:
    wh.execute(f'create schema if not exists "{RAW_SCHEMA}"')
    wh.execute(
        f'create table if not exists "{RAW_SCHEMA}"."{table}" ({column_ddl(schema, wh.engine)})'
    )


def replace_tenant_rows(
    wh: Warehouse, table: str, schema: pa.Schema, tenant_id: str, files: list[Path]
) -> RawLoadResult:
    """Replace ``tenant_id``'s rows of ``raw.<table>`` with the rows of the landed ``files``."""
    validate_tenant_id(tenant_id)
    ensure_table(wh, table, schema)
    with wh.transaction():
        return _replace(wh, table, schema, tenant_id, files)


def _replace(
    wh: Warehouse, table: str, schema: pa.Schema, tenant_id: str, files: list[Path]
) -> RawLoadResult:
    wh.execute(f'delete from "{RAW_SCHEMA}"."{table}" where "_tenant_id" = ?', [tenant_id])
    rows = 0
    if files:
        if wh.engine == "duckdb":
            cols = ", ".join(f'"{f.name}"' for f in schema)
            file_list = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
            wh.execute(
                f'insert into "{RAW_SCHEMA}"."{table}" ({cols}) select {cols} '
                f"from read_parquet([{file_list}], union_by_name = true) "
                "where _tenant_id = ?",
                [tenant_id],
            )
        else:
            for path in files:
                data = pq.read_table(path, schema=schema)
                wh.copy_arrow(RAW_SCHEMA, table, data)
        rows = wh.fetch(
            f'select count(*) from "{RAW_SCHEMA}"."{table}" where "_tenant_id" = ?', [tenant_id]
        )[0][0]
    return RawLoadResult(
        table=f"{RAW_SCHEMA}.{table}", tenant_id=tenant_id, files=len(files), rows=int(rows)
    )


def load_entity(wh: Warehouse, tenant_id: str, entity: str, files: list[Path]) -> RawLoadResult:
    return replace_tenant_rows(wh, entity, landed_schema(entity), tenant_id, files)


def load_quarantine(wh: Warehouse, tenant_id: str, files: list[Path]) -> RawLoadResult:
    return replace_tenant_rows(wh, QUARANTINE_TABLE, QUARANTINE_SCHEMA, tenant_id, files)
