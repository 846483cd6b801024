"""The ``ml`` schema: prediction tables holding every tenant's rows, replaced one tenant at a time.

A scoring run deletes the tenant's rows and inserts the new ones in one transaction, so a re-run
never duplicates, other tenants are untouched and a failure leaves the previous rows (the last
good version keeps serving). Tables are created from the first rows' Arrow schema.
"""

from __future__ import annotations

import pyarrow as pa

from warehouse.connection import Warehouse
from warehouse.raw_loader import column_ddl

ML_SCHEMA = "ml"
REQUIRED_COLUMNS = ("tenant_id", "model_version")


class TableShapeChanged(Exception):
    """An ``ml`` table's columns differ from what the model now writes."""


def _normalise(data: pa.Table) -> pa.Table:
    """Arrow types the warehouse DDL knows: large strings, other int/float widths, timestamps
    with zones or other units become string, int64, float64 and naive microsecond timestamps."""
    fields = []
    for f in data.schema:
        t = f.type
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
            t = pa.string()
        elif pa.types.is_boolean(t):
            t = pa.bool_()
        elif pa.types.is_integer(t):
            t = pa.int64()
        elif pa.types.is_floating(t) or pa.types.is_decimal(t):
            t = pa.float64()
        elif pa.types.is_timestamp(t):
            t = pa.timestamp("us")
        elif pa.types.is_date(t):
            t = pa.date32()
        else:
            raise TypeError(f"column {f.name!r} has type {t}, which no ml table column takes")
        fields.append(pa.field(f.name, t))
    columns = []
    for f, column in zip(fields, data.columns, strict=True):
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
        columns.append(column.cast(f.type))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def secure_table(wh: Warehouse, table: str, schema: str = ML_SCHEMA) -> None:
    """On PostgreSQL with the warehouse's migrations applied, the marts' row-level security
    (dbt_project/macros/row_level_security.sql): a BI login sees only its tenants' rows, the
    platform's roles every row. DuckDB has neither roles nor policies."""
    if wh.engine != "postgres" or not wh.fetch(
        "select 1 from pg_catalog.pg_namespace where nspname = 'earshot_security'"
    ):
        return
    relation = f'"{schema}"."{table}"'
    wh.execute(f"alter table {relation} enable row level security")
    policies = {
        name
        for (name,) in wh.fetch(
            "select policyname from pg_policies where schemaname = ? and tablename = ?",
            [schema, table],
        )
    }
    if "tenant_isolation" not in policies:
        wh.execute(
            f"create policy tenant_isolation on {relation} as permissive for select to public"
            " using (tenant_id = any (earshot_security.current_tenant_ids()))"
        )
    if "earshot_platform" not in policies:
        wh.execute(
            f"create policy earshot_platform on {relation} as permissive for all"
            " to platform_admin, pipeline_writer, analyst using (true) with check (true)"
        )


def _existing_columns(wh: Warehouse, table: str) -> list[str]:
    rows = wh.fetch(
        "select column_name from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [ML_SCHEMA, table],
    )
    return [r[0] for r in rows]


def replace_tenant_rows(wh: Warehouse, table: str, tenant_id: str, data: pa.Table) -> int:
    """Make ``ml.<table>`` hold ``data`` as ``tenant_id``'s rows; returns the rows written.

    Every row must belong to ``tenant_id`` and name its model version: a scoring bug must not
    write another tenant's rows or unversioned predictions.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in data.column_names]
    if missing:
        raise ValueError(f"ml.{table}: the rows lack the column(s) {', '.join(missing)}")
    tenants = set(data.column("tenant_id").to_pylist())
    if tenants - {tenant_id}:
        others = ", ".join(sorted(str(t) for t in tenants - {tenant_id}))
        raise ValueError(f"ml.{table}: rows of {others} in a run of tenant {tenant_id}")
    if data.column("model_version").null_count:
        raise ValueError(f"ml.{table}: rows without a model_version")
    data = _normalise(data)
    wh.execute(f'create schema if not exists "{ML_SCHEMA}"')
    existing = _existing_columns(wh, table)
    if not existing:
        wh.execute(
            f'create table if not exists "{ML_SCHEMA}"."{table}"'
            f" ({column_ddl(data.schema, wh.engine)})"
        )
    elif existing != data.column_names:
        raise TableShapeChanged(
            f"ml.{table} has the columns {existing}, the model now writes {data.column_names}:"
            f' drop it (drop table {ML_SCHEMA}."{table}") and score every tenant again'
            " (earshot ml run --tenant <each tenant>)"
        )
    # Every time, not only at creation: the migrations may come after the table (as with the
    # marts, whose post-hook runs with every build).
    secure_table(wh, table)
    with wh.transaction():
        wh.execute(f'delete from "{ML_SCHEMA}"."{table}" where tenant_id = ?', [tenant_id])
        if data.num_rows:
            wh.copy_arrow(ML_SCHEMA, table, data)
    return data.num_rows
