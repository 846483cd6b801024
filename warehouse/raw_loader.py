"""Load landed Parquet into the warehouse's ``raw`` schema, one tenant at a time.

The landing zone is the source of truth: a tenant's rows in ``raw.<entity>`` are replaced by
what is landed for that tenant, in one transaction, so a re-run never duplicates and a failed
load leaves the previous rows in place. DuckDB reads the Parquet files itself; PostgreSQL is fed
by COPY.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.connection import Warehouse
from warehouse.entities import QUARANTINE_SCHEMA, landed_schema
from warehouse.landing_storage import LandingStorage
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
    pa.bool_(): "boolean",
}
_POSTGRES_TYPES = {
    pa.string(): "text",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.float64(): "double precision",
    pa.date32(): "date",
    pa.timestamp("us"): "timestamp",
    pa.bool_(): "boolean",
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
    """Create ``raw.<table>``, or add the columns the contract gained since it was created.

    New contract columns are optional (older exports lack them), so they are added nullable and
    the rows already loaded keep null there until their tenant is loaded again."""
    wh.execute(f'create schema if not exists "{RAW_SCHEMA}"')
    wh.execute(
        f'create table if not exists "{RAW_SCHEMA}"."{table}" ({column_ddl(schema, wh.engine)})'
    )
    existing = {
        r[0]
        for r in wh.fetch(
            "select column_name from information_schema.columns"
            " where table_schema = ? and table_name = ?",
            [RAW_SCHEMA, table],
        )
    }
    for field in schema:
        if field.name not in existing:
            column = column_ddl(pa.schema([field]), wh.engine)
            wh.execute(f'alter table "{RAW_SCHEMA}"."{table}" add column {column}')


def replace_tenant_rows(
    wh: Warehouse,
    table: str,
    schema: pa.Schema,
    tenant_id: str,
    storage: LandingStorage,
    keys: list[str],
) -> RawLoadResult:
    """Replace ``tenant_id``'s rows of ``raw.<table>`` with the rows of the landed ``keys``."""
    validate_tenant_id(tenant_id)
    foreign = [k for k in keys if not k.startswith(f"{tenant_id}/")]
    if foreign:
        # A run loads one tenant; a key under another tenant's prefix is a bug upstream.
        raise ValueError(f"refusing to load {foreign[0]!r} into tenant {tenant_id}'s rows")
    ensure_table(wh, table, schema)
    with wh.transaction():
        return _replace(wh, table, schema, tenant_id, storage, keys)


def _replace(
    wh: Warehouse,
    table: str,
    schema: pa.Schema,
    tenant_id: str,
    storage: LandingStorage,
    keys: list[str],
) -> RawLoadResult:
    wh.execute(f'delete from "{RAW_SCHEMA}"."{table}" where "_tenant_id" = ?', [tenant_id])
    rows = 0
    if keys:
        if wh.engine == "duckdb":
            # Local files are read in place; object-store files are copied to a temporary
            # folder first (DuckDB's own S3 reader needs an extension fetched from the network).
            with storage.local_paths(keys) as files:
                file_list = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
                # By name: a contract column no landed file has yet (every file predates it)
                # is filled with nulls.
                wh.execute(
                    f'insert into "{RAW_SCHEMA}"."{table}" by name select * '
                    f"from read_parquet([{file_list}], union_by_name = true, "
                    # the dt= folders are the landing layout, not a column
                    "hive_partitioning = false) "
                    "where _tenant_id = ?",
                    [tenant_id],
                )
        else:
            for key in keys:
                with storage.open_read(key) as handle:
                    data = pq.read_table(handle, schema=schema)
                wh.copy_arrow(RAW_SCHEMA, table, data)
        rows = wh.fetch(
            f'select count(*) from "{RAW_SCHEMA}"."{table}" where "_tenant_id" = ?', [tenant_id]
        )[0][0]
    return RawLoadResult(
        table=f"{RAW_SCHEMA}.{table}", tenant_id=tenant_id, files=len(keys), rows=int(rows)
    )


def load_entity(
    wh: Warehouse, tenant_id: str, entity: str, storage: LandingStorage, keys: list[str]
) -> RawLoadResult:
    return replace_tenant_rows(wh, entity, landed_schema(entity), tenant_id, storage, keys)


def load_quarantine(
    wh: Warehouse, tenant_id: str, storage: LandingStorage, keys: list[str]
) -> RawLoadResult:
    return replace_tenant_rows(wh, QUARANTINE_TABLE, QUARANTINE_SCHEMA, tenant_id, storage, keys)
