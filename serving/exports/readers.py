"""Read one tenant's rows as Arrow record batches, in one consistent snapshot of the warehouse.

The warehouse connection's own surface (warehouse/connection.py) returns Python rows; an export
streams whole tables, so this module reads batches itself: DuckDB hands Arrow batches over
directly, PostgreSQL rows come through a server-side cursor and are turned into Arrow batches of
a schema fixed from the catalogue.

On PostgreSQL the reader works on a connection of its own, in one read-only REPEATABLE READ
transaction (every table of an export comes from the same snapshot), and reads each table as
the tenant's read-only role where it can. Row-level security's policies
(dbt_project/macros/row_level_security.sql) identify a tenant by ``session_user``
(``earshot_security.current_tenant_ids()``), so ``SET ROLE`` would change nothing but the
privileges and show no rows at all; the reader takes the role's session identity instead
(``SET LOCAL SESSION AUTHORIZATION``, which a superuser connection may do) and checks that the
warehouse then names this tenant, and only this tenant, for the session.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from serving.exports.tables import TENANT_COLUMN, TableRef
from warehouse.connection import Warehouse

BATCH_ROWS = 50_000

# DuckDB types that Arrow, CSV and Parquet all carry as they are; any other (lists, structs,
# maps, intervals, enums, UUIDs, blobs, ...) is exported as its text form.
_DUCKDB_PLAIN = re.compile(
    r"^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT"
    r"|FLOAT|DOUBLE|DATE|TIME|TIMESTAMP|TIMESTAMP WITH TIME ZONE|TIMESTAMP_S|TIMESTAMP_MS"
    r"|TIMESTAMP_NS|VARCHAR|DECIMAL\(\d+,\d+\))$"
)

# PostgreSQL types with an Arrow type of their own; any other is exported as its text form.
_PG_ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "character varying": pa.string(),
    "character": pa.string(),
    "boolean": pa.bool_(),
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "double precision": pa.float64(),
    "date": pa.date32(),
    "time without time zone": pa.time64("us"),
    "timestamp without time zone": pa.timestamp("us"),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
}
# numeric without a declared precision (what PostgreSQL's sum() and avg() return) has no fixed
# scale for Arrow or Parquet: it is exported as double precision, the type DuckDB's marts hold
# for the same measures, so a column's type never depends on the day's values.


class ExportReadError(RuntimeError):
    """The warehouse cannot be read as the export needs (e.g. the tenant's role was required)."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    warehouse_type: str
    # The SQL that selects the column (quoted name, or a cast to text for exotic types).
    select: str
    # Fixed by the catalogue on PostgreSQL; taken from DuckDB's own Arrow output otherwise.
    arrow_type: pa.DataType | None = None


@dataclass
class TableRead:
    """One table as the export sees it: its columns, its Arrow schema and its batches."""

    ref: TableRef
    columns: list[ColumnSpec]
    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    row_level_security: bool
    note: str | None


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def normalise_type(t: pa.DataType) -> pa.DataType:
    """Types both file formats take as they are: plain strings, decoded dictionaries, UTC."""
    if pa.types.is_dictionary(t):
        return normalise_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_timestamp(t) and t.tz is not None and t.tz != "UTC":
        return pa.timestamp(t.unit, tz="UTC")
    return t


def normalise_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, normalise_type(f.type)) for f in schema])


def normalise_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    if batch.schema.equals(schema):
        return batch
    columns = [
        column if column.type == f.type else column.cast(f.type)
        for column, f in zip(batch.columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def table_query(ref: TableRef, columns: Sequence[ColumnSpec], placeholder: str) -> str:
    """The export's query of one table: the tenant's rows, in a stable order (every column),
    so that the same rows give byte-identical files on a re-run."""
    select = ", ".join(f"{c.select} as {quote_ident(c.name)}" for c in columns)
    order = ", ".join(str(i) for i in range(1, len(columns) + 1))
    return (
        f"select {select} from {ref.sql} where {quote_ident(TENANT_COLUMN)} = {placeholder}"
        f" order by {order}"
    )


class DuckDBTenantReader:
    """DuckDB: no roles, no row-level security; the filter and the row check keep tenants
    apart. Reads through a cursor of the caller's connection, in one transaction."""

    engine = "duckdb"
    role: str | None = None
    row_level_security = False
    note = "DuckDB has no roles or row-level security: rows are filtered on tenant_id and checked"

    def __init__(self, wh: Warehouse, tenant_id: str, batch_rows: int = BATCH_ROWS) -> None:
        self.tenant_id = tenant_id
        self.batch_rows = batch_rows
        self.conn = wh.conn.cursor()  # type: ignore[attr-defined]
        self.conn.execute("begin transaction")

    def read_table(self, ref: TableRef) -> TableRead:
        rows = self.conn.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = ? and table_name = ? order by ordinal_position",
            [ref.schema, ref.table],
        ).fetchall()
        columns = [
            ColumnSpec(
                name,
                data_type,
                quote_ident(name)
                if _DUCKDB_PLAIN.match(data_type)
                else f"cast({quote_ident(name)} as varchar)",
            )
            for name, data_type in rows
        ]
        relation = self.conn.sql(table_query(ref, columns, "?"), params=[self.tenant_id])
        reader = relation.to_arrow_reader(self.batch_rows)
        schema = normalise_schema(reader.schema)
        batches = (normalise_batch(batch, schema) for batch in reader)
        return TableRead(ref, columns, schema, batches, False, None)

    def query_as_tenant(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        raise ExportReadError("DuckDB has no tenant roles to read as")

    def close(self) -> None:
        try:
            self.conn.execute("rollback")
        finally:
            self.conn.close()


class PostgresTenantReader:
    """PostgreSQL: its own read-only connection; each table read as the tenant's role when the
    role exists, may read the table and the table has row-level security."""

    engine = "postgres"

    def __init__(
        self,
        wh: Warehouse,
        tenant_id: str,
        as_tenant_role: bool | None,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        import psycopg

        settings = getattr(wh, "settings", None)
        if settings is None:
            raise ExportReadError("a PostgreSQL warehouse without connection settings")
        self.tenant_id = tenant_id
        self.batch_rows = batch_rows
        self._cursors = 0
        self.conn = psycopg.connect(**settings.conninfo(), autocommit=False)
        self.conn.read_only = True
        self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        try:
            # Timestamps with a zone arrive in UTC, as the export writes them.
            self.conn.execute("set local time zone 'UTC'")
            self.role, self.note = self._tenant_role(as_tenant_role)
        except BaseException:
            self.conn.close()
            raise
        self.row_level_security = self.role is not None
        if as_tenant_role and self.role is None:
            self.close()
            raise ExportReadError(
                f"tenant {tenant_id!r}: reading as the tenant's role was required, but {self.note}"
            )

    # -- the tenant's role -------------------------------------------------------------------

    def _tenant_role(self, wanted: bool | None) -> tuple[str | None, str | None]:
        """The role to read as, or None and why not."""
        import psycopg

        if wanted is False:
            return None, "reading as the tenant's role was switched off for this export"
        try:
            # A savepoint: a failed lookup (e.g. a warehouse user that may not read the tenant
            # mapping) must not end the transaction the export reads in.
            with self.conn.transaction():
                return self._find_tenant_role()
        except psycopg.Error as exc:
            reason = exc.diag.message_primary or type(exc).__name__
            return None, f"the tenant's role could not be looked up: {reason}"

    def _find_tenant_role(self) -> tuple[str | None, str | None]:
        from warehouse.tenant_roles import BiRoleError, bi_role_name

        if self._one("select to_regnamespace('earshot_security') is not null") is not True:
            return None, (
                "the warehouse has no row-level security set up (run `earshot warehouse "
                "migrate`, then `earshot tenant grant-bi`)"
            )
        try:
            preferred = bi_role_name(self.tenant_id)
        except BiRoleError:
            preferred = ""
        roles = self.conn.execute(
            "select t.role_name, r.rolsuper or r.rolbypassrls"
            " from earshot_security.tenant_roles as t join pg_catalog.pg_roles as r"
            " on r.rolname = t.role_name where t.tenant_id = %s"
            " order by t.role_name <> %s, t.role_name",
            (self.tenant_id, preferred),
        ).fetchall()
        usable = [name for name, privileged in roles if not privileged]
        if not usable:
            if roles:
                return None, f"the tenant's role {roles[0][0]} bypasses row-level security"
            return None, (
                f"tenant {self.tenant_id} has no read-only role yet (`earshot tenant grant-bi "
                f"--tenant {self.tenant_id}`)"
            )
        role = usable[0]
        if self._one("select rolsuper from pg_catalog.pg_roles where rolname = session_user"):
            with self._as(role):
                identity = self.conn.execute(
                    "select session_user::text, earshot_security.current_tenant_ids()"
                ).fetchone()
            if identity == (role, [self.tenant_id]):
                return role, None
            return None, (
                f"as role {role} the warehouse names tenants {identity[1]}, not only "
                f"{self.tenant_id}"
            )
        user = self._one("select session_user::text")
        return None, (
            f"the warehouse user {user} is not a superuser, so it cannot take the session "
            f"identity of the tenant's role {role}"
        )

    @contextmanager
    def _as(self, role: str | None) -> Iterator[None]:
        """Run the block with ``role``'s session identity (``None``: the connection's own)."""
        from psycopg import sql
        from psycopg.pq import TransactionStatus

        if role is None:
            yield
            return
        self.conn.execute(
            sql.SQL("set local session authorization {}").format(sql.Identifier(role))
        )
        try:
            yield
        finally:
            # After an error the transaction is over for good: nothing to switch back.
            if self.conn.info.transaction_status == TransactionStatus.INTRANS:
                self.conn.execute("set local session authorization default")

    def _one(self, query: str, params: Sequence[Any] | None = None) -> Any:
        row = self.conn.execute(query, params).fetchone()
        return row[0] if row else None

    def _table_security(self, ref: TableRef) -> tuple[bool, str | None]:
        """Whether to read ``ref`` as the tenant's role, and if not, why not."""
        if self.role is None:
            return False, None
        row = self.conn.execute(
            "select c.relkind::text, c.relrowsecurity, coalesce(c.reloptions, '{}'),"
            " has_schema_privilege(%s, n.oid, 'USAGE')"
            " and has_table_privilege(%s, c.oid, 'SELECT'),"
            " exists (select 1 from pg_catalog.pg_policy as p"
            "   where p.polrelid = c.oid and p.polname = 'tenant_isolation'),"
            " pg_get_userbyid(c.relowner) = %s"
            " from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n"
            " on n.oid = c.relnamespace where n.nspname = %s and c.relname = %s",
            (self.role, self.role, self.role, ref.schema, ref.table),
        ).fetchone()
        if row is None:
            return False, "not found in the catalogue"
        kind, secured, options, may_read, has_policy, owned = row
        if not may_read:
            return False, f"the tenant's role {self.role} may not read it: filter and check only"
        if owned:
            return False, f"owned by the tenant's role {self.role}, which policies do not bind"
        if kind == "v":
            # A view has no policies of its own; as security_invoker, the tables under it filter.
            if "security_invoker=true" in options:
                return True, None
            return False, "a view that does not run as its reader: filter and check only"
        if secured and has_policy:
            return True, None
        return False, "no row-level security policy on it: filter and check only"

    # -- reading -----------------------------------------------------------------------------

    def _specs(self, ref: TableRef) -> list[ColumnSpec]:
        catalogue = self.conn.execute(
            "select column_name::text, data_type::text, numeric_precision, numeric_scale"
            " from information_schema.columns where table_schema = %s and table_name = %s"
            " order by ordinal_position",
            (ref.schema, ref.table),
        ).fetchall()
        return [_pg_column(name, *rest) for name, *rest in catalogue]

    def read_table(self, ref: TableRef) -> TableRead:
        secured, note = self._table_security(ref)
        role = self.role if secured else None
        columns = self._specs(ref)
        schema = pa.schema([pa.field(c.name, c.arrow_type) for c in columns])
        query = table_query(ref, columns, "%s")
        batches = self._batches(query, (self.tenant_id,), schema, role)
        return TableRead(ref, columns, schema, batches, secured, note)

    def _batches(
        self, query: str, params: Sequence[Any], schema: pa.Schema, role: str | None
    ) -> Iterator[pa.RecordBatch]:
        self._cursors += 1
        name = f"earshot_export_{self._cursors}"
        with self._as(role), self.conn.cursor(name=name) as cursor:
            cursor.execute(query, params)
            while rows := cursor.fetchmany(self.batch_rows):
                yield _rows_to_batch(rows, schema)

    def query_as_tenant(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run ``sql`` (``%s`` placeholders) as the tenant's role, with no filter added: what
        the role sees is what row-level security lets through. For checks and tests."""
        if self.role is None:
            raise ExportReadError(f"not reading as the tenant's role: {self.note}")
        with self._as(self.role):
            cursor = self.conn.execute(sql, params)
            names = [d.name for d in cursor.description]
            rows = cursor.fetchall()
        return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})

    def close(self) -> None:
        try:
            self.conn.rollback()
        finally:
            self.conn.close()


def _pg_column(name: str, data_type: str, precision: int | None, scale: int | None) -> ColumnSpec:
    ident = quote_ident(name)
    if data_type == "numeric":
        if precision is None:
            return ColumnSpec(name, data_type, f"{ident}::double precision", pa.float64())
        if precision <= 38:
            return ColumnSpec(name, data_type, ident, pa.decimal128(precision, scale or 0))
        return ColumnSpec(name, data_type, ident, pa.decimal256(min(precision, 76), scale or 0))
    if data_type in _PG_ARROW_TYPES:
        return ColumnSpec(name, data_type, ident, _PG_ARROW_TYPES[data_type])
    return ColumnSpec(name, data_type, f"{ident}::text", pa.string())


def _rows_to_batch(rows: list[tuple], schema: pa.Schema) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True))
    return pa.RecordBatch.from_arrays(
        [pa.array(list(values), type=f.type) for values, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


TenantReader = DuckDBTenantReader | PostgresTenantReader


@contextmanager
def open_tenant_reader(
    wh: Warehouse,
    tenant_id: str,
    *,
    as_tenant_role: bool | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[TenantReader]:
    """A reader of ``tenant_id``'s rows for the length of the block (one snapshot).

    ``as_tenant_role``: None reads as the tenant's role when PostgreSQL allows it and falls back
    to the filter and the row check otherwise (the reader's ``note`` says why); True requires
    the role (:class:`ExportReadError` otherwise); False never uses it.
    """
    reader: TenantReader
    if wh.engine == "duckdb":
        if as_tenant_role:
            raise ExportReadError(
                "DuckDB has no tenant roles: as_tenant_role=True needs PostgreSQL"
            )
        reader = DuckDBTenantReader(wh, tenant_id, batch_rows)
    elif wh.engine == "postgres":
        reader = PostgresTenantReader(wh, tenant_id, as_tenant_role, batch_rows)
    else:
        raise ExportReadError(f"no export reader for warehouse engine {wh.engine!r}")
    try:
        yield reader
    finally:
        reader.close()
