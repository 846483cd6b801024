"""Which warehouse tables a tenant's export holds, and which it leaves out (and why).

The list comes from the warehouse itself (``information_schema``), not from dbt's manifest: the
export can only read what was built, and a model added to the project shows up in the next
export without a change here. A table is exportable only when its rows say whose they are (a
``tenant_id`` column): anything else cannot be filtered to one tenant and is never exported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from warehouse.connection import Warehouse

MARTS_SCHEMA = "marts"
ML_SCHEMA = "ml"
EXPORT_SCHEMAS = (MARTS_SCHEMA, ML_SCHEMA)
MART_PREFIXES = ("fct_", "dim_", "rpt_")
TENANT_COLUMN = "tenant_id"
# Table names become file names and object keys: only plain identifiers do (dbt's always are).
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# Tables with a tenant_id that are the platform's bookkeeping rather than the tenant's data:
# the model registry holds artefact locations and training internals. The versions serving the
# tenant's predictions travel in the manifest's settings (the caller passes them) and in every
# prediction row's model_version.
INTERNAL_TABLES = {
    (ML_SCHEMA, "model_versions"): "the model registry (artefact locations, training details) "
    "is internal; each prediction row names its model_version",
}


@dataclass(frozen=True)
class TableRef:
    schema: str
    table: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def sql(self) -> str:
        """The relation quoted for SQL (names come from the catalogue, quoted all the same)."""
        return '"{}"."{}"'.format(self.schema.replace('"', '""'), self.table.replace('"', '""'))


@dataclass(frozen=True)
class SkippedTable:
    """A table (or a whole schema, ``table`` None) the export leaves out, with the reason."""

    schema: str
    table: str | None
    reason: str

    def to_dict(self) -> dict[str, str | None]:
        return {"schema": self.schema, "table": self.table, "reason": self.reason}


@dataclass(frozen=True)
class TableSelection:
    tables: list[TableRef]
    skipped: list[SkippedTable]


def exportable_tables(wh: Warehouse) -> TableSelection:
    """Every mart model (``marts.fct_*``, ``dim_*``, ``rpt_*``) and every ``ml`` table with a
    ``tenant_id`` column, in name order; everything else in those schemas is skipped with a
    reason. A schema that does not exist (``ml`` before the ML stage has run) is skipped as a
    whole."""
    placeholders = ", ".join("?" for _ in EXPORT_SCHEMAS)
    relations = wh.fetch(
        "select table_schema, table_name from information_schema.tables"
        f" where table_schema in ({placeholders}) order by 1, 2",
        list(EXPORT_SCHEMAS),
    )
    with_tenant = {
        (schema, table)
        for schema, table in wh.fetch(
            "select table_schema, table_name from information_schema.columns"
            f" where table_schema in ({placeholders}) and column_name = ?",
            [*EXPORT_SCHEMAS, TENANT_COLUMN],
        )
    }
    tables: list[TableRef] = []
    skipped: list[SkippedTable] = []
    present = {schema for schema, _ in relations}
    for schema in EXPORT_SCHEMAS:
        if schema not in present:
            skipped.append(SkippedTable(schema, None, _missing_schema_reason(schema)))
    for schema, table in relations:
        reason = _skip_reason(schema, table, (schema, table) in with_tenant)
        if reason:
            skipped.append(SkippedTable(schema, table, reason))
        else:
            tables.append(TableRef(schema, table))
    return TableSelection(tables, skipped)


def _missing_schema_reason(schema: str) -> str:
    if schema == ML_SCHEMA:
        return "no ml tables yet (the ML stage has not run for this warehouse)"
    return f"schema {schema} has no tables (the pipeline has not built it yet)"


def _skip_reason(schema: str, table: str, has_tenant_id: bool) -> str | None:
    if not _PLAIN_NAME.match(table):
        return "its name is not a plain identifier (letters, digits, '_'), unsafe as a file name"
    if "__dbt_" in table:
        return "a temporary relation of a dbt run in progress"
    if schema == MARTS_SCHEMA and not table.startswith(MART_PREFIXES):
        return "not a mart model (fct_, dim_ or rpt_)"
    if (schema, table) in INTERNAL_TABLES:
        return INTERNAL_TABLES[(schema, table)]
    if not has_tenant_id:
        return "no tenant_id column: its rows cannot be restricted to one tenant"
    return None
