"""The audit log `earshot_meta.audit_log`: who changed what about a tenant, and when.

Rows are never deleted with the tenant: an offboarding must itself stay on record.
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import UTC, datetime
from typing import Any

from warehouse.connection import Warehouse

META_SCHEMA = "earshot_meta"


_CREATE = (
    f"create schema if not exists {META_SCHEMA}",
    f"create table if not exists {META_SCHEMA}.audit_log ("
    ' "at" timestamp not null,'
    " actor text not null,"
    " action text not null,"
    " tenant_id text,"
    " details text not null"
    ")",
)


def ensure_audit_table(wh: Warehouse) -> None:
    """Create the schema and the audit table when missing (both engines)."""
    for statement in _CREATE:
        wh.execute(statement)


def current_actor() -> str:
    """The person or service behind a change: ``EARSHOT_ACTOR``, else the OS user."""
    actor = os.environ.get("EARSHOT_ACTOR")
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # A container user without a passwd entry still leaves a trace, just not a name.
        return f"uid:{os.getuid()}"


def record(wh: Warehouse, action: str, tenant_id: str | None, details: dict[str, Any]) -> None:
    """Append one audit row; ``details`` must be JSON-serialisable and hold no secrets."""
    ensure_audit_table(wh)
    wh.execute(_insert_sql("?"), _values(action, tenant_id, details))


def record_psycopg(conn: Any, action: str, tenant_id: str | None, details: dict[str, Any]) -> None:
    """:func:`record` on a raw psycopg connection, inside the caller's transaction.

    For the PostgreSQL administration code (migrations, BI roles), which works on psycopg
    directly so the audit row commits or rolls back with the change it describes.
    """
    for statement in _CREATE:
        conn.execute(statement)
    conn.execute(_insert_sql("%s"), _values(action, tenant_id, details))


def _insert_sql(placeholder: str) -> str:
    values = ", ".join([placeholder] * 5)
    return (
        f'insert into {META_SCHEMA}.audit_log ("at", actor, action, tenant_id, details)'
        f" values ({values})"
    )


def _values(action: str, tenant_id: str | None, details: dict[str, Any]) -> list[Any]:
    return [
        datetime.now(UTC).replace(tzinfo=None),
        current_actor(),
        action,
        tenant_id,
        json.dumps(details, sort_keys=True, default=str),
    ]


def entries(wh: Warehouse, tenant_id: str | None = None) -> list[dict[str, Any]]:
    """Audit rows, oldest first, optionally of one tenant only."""
    ensure_audit_table(wh)
    sql = f'select "at", actor, action, tenant_id, details from {META_SCHEMA}.audit_log'
    params: list[Any] = []
    if tenant_id is not None:
        sql += " where tenant_id = ?"
        params.append(tenant_id)
    rows = wh.fetch(sql + ' order by "at"', params or None)
    return [
        {"at": at, "actor": actor, "action": action, "tenant_id": t, "details": json.loads(d)}
        for at, actor, action, t, d in rows
    ]
