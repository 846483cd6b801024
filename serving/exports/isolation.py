"""The last check before a row leaves the warehouse: it must be the exporting tenant's.

Every query already filters on ``tenant_id`` (and on PostgreSQL runs under the tenant's role,
where row-level security filters too); this check does not trust either. It runs on every batch
before the batch is written anywhere, so a wrong filter or a broken policy stops the export with
an error instead of handing one tenant another's rows.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from serving.exports.tables import TENANT_COLUMN

# How many offending tenant ids an error names (enough to diagnose, short enough to read).
_NAMED_OFFENDERS = 3


class TenantIsolationError(RuntimeError):
    """Rows of another tenant (or of none) in a tenant's export: nothing is uploaded."""


def verify_tenant_rows(data: pa.Table | pa.RecordBatch, tenant_id: str, relation: str) -> int:
    """Raise :class:`TenantIsolationError` unless every row's ``tenant_id`` is ``tenant_id``;
    return the number of rows checked. ``relation`` (``schema.table``) names the source in the
    error."""
    if TENANT_COLUMN not in data.schema.names:
        raise TenantIsolationError(
            f"{relation}: the rows read for tenant {tenant_id!r} have no {TENANT_COLUMN} column; "
            "refusing to export rows whose owner cannot be checked"
        )
    column = data.column(TENANT_COLUMN)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    matches = pc.fill_null(pc.equal(column, pa.scalar(tenant_id, column.type)), False)
    wrong = len(data) - pc.sum(matches).as_py() if len(data) else 0
    if wrong:
        offenders = pc.unique(pc.filter(column, pc.invert(matches))).to_pylist()
        named = ", ".join(repr(v) for v in sorted(offenders, key=str)[:_NAMED_OFFENDERS])
        more = (
            f" and {len(offenders) - _NAMED_OFFENDERS} more"
            if len(offenders) > _NAMED_OFFENDERS
            else ""
        )
        raise TenantIsolationError(
            f"{relation}: {wrong} of {len(data)} rows read for tenant {tenant_id!r} belong to "
            f"{named}{more}; the export stopped before uploading anything"
        )
    return len(data)
