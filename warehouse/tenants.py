"""The tenants table `earshot_meta.tenants`: who the platform serves and their settings.

One row per tenant: name, region, plan, the attribution settings its dbt runs use, its quotas
(enforced when landing: warehouse/quotas.py), and references to its connector configuration
(secret names, never the secrets). Every change is written to the audit log (warehouse/audit.py)
in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from warehouse import audit
from warehouse.connection import Warehouse, table_exists
from warehouse.settings import validate_tenant_id

META_SCHEMA = audit.META_SCHEMA
TABLE = f"{META_SCHEMA}.tenants"

# dbt_project.yml's defaults: a tenant created without settings attributes as before.
DEFAULT_LOOKBACK_DAYS = 30
DEFAULT_HALF_LIFE_DAYS = 7.0
DEFAULT_POSITION_FIRST_WEIGHT = 0.4
DEFAULT_POSITION_LAST_WEIGHT = 0.4
# IAB download counting windows (docs/user/counting.md); dbt_project.yml's default is the first.
DOWNLOAD_WINDOWS = ("calendar_day", "rolling_24h_first", "rolling_24h_last")
DEFAULT_DOWNLOAD_WINDOW = DOWNLOAD_WINDOWS[0]
# Conversions of households that ordered before the campaign started count as new by default
# (docs/user/attribution.md, "Prior customers").
DEFAULT_EXCLUDE_PRIOR_CUSTOMERS = False
# Path transforms applied to a conversion path before the models credit it
# (docs/user/attribution.md, "Path transforms"); none keeps every touch.
PATH_TRANSFORMS = ("none", "exposure", "first", "unique", "remove_if_not_all")
DEFAULT_PATH_TRANSFORM = PATH_TRANSFORMS[0]
# Signals a touch or conversion can come from, highest priority first when one conversion is
# matched by several; dbt reads the var in this comma-separated form.
SIGNAL_NAMES = ("promo_code", "vanity_url", "utm", "survey", "podcast_impression")
DEFAULT_SIGNAL_PRIORITY = ",".join(SIGNAL_NAMES)

# Settings a caller may change with update_tenant (identity and timestamps are not).
UPDATABLE = (
    "name",
    "region",
    "plan",
    "lookback_days",
    "half_life_days",
    "position_first_weight",
    "position_last_weight",
    "download_window",
    "exclude_prior_customers",
    "path_transform",
    "path_transform_target",
    "signal_priority",
    "max_download_requests_per_month",
    "max_landed_bytes",
    "connector_config_refs",
)


class TenantError(ValueError):
    """A tenant operation that cannot be done: unknown or duplicate tenant, invalid setting."""


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    region: str | None = None
    plan: str | None = None
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    position_first_weight: float = DEFAULT_POSITION_FIRST_WEIGHT
    position_last_weight: float = DEFAULT_POSITION_LAST_WEIGHT
    download_window: str = DEFAULT_DOWNLOAD_WINDOW
    exclude_prior_customers: bool = DEFAULT_EXCLUDE_PRIOR_CUSTOMERS
    path_transform: str = DEFAULT_PATH_TRANSFORM
    # The campaign id remove_if_not_all removes from paths (only that transform uses it).
    path_transform_target: str | None = None
    signal_priority: str = DEFAULT_SIGNAL_PRIORITY
    max_download_requests_per_month: int | None = None
    max_landed_bytes: int | None = None
    connector_config_refs: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def dbt_vars(self) -> dict[str, object]:
        """The attribution and counting settings as the dbt vars of dbt_project.yml name them."""
        return {
            "lookback_days": self.lookback_days,
            "time_decay_half_life_days": self.half_life_days,
            "position_first_weight": self.position_first_weight,
            "position_last_weight": self.position_last_weight,
            "download_window": self.download_window,
            "exclude_prior_customers": self.exclude_prior_customers,
            "path_transform": self.path_transform,
            "path_transform_target": self.path_transform_target,
            "signal_priority": self.signal_priority,
        }


_COLUMNS = [f.name for f in fields(Tenant)]


def ensure_tenants_table(wh: Warehouse) -> None:
    """Create `earshot_meta.tenants` (and the audit log) when missing, on either engine."""
    audit.ensure_audit_table(wh)
    wh.execute(
        f"create table if not exists {TABLE} ("
        " tenant_id text primary key,"
        " name text not null,"
        " region text,"
        " plan text,"
        " lookback_days integer not null,"
        " half_life_days double precision not null,"
        " position_first_weight double precision not null,"
        " position_last_weight double precision not null,"
        f" download_window text not null default '{DEFAULT_DOWNLOAD_WINDOW}',"
        " exclude_prior_customers boolean not null"
        f" default {_sql_literal(DEFAULT_EXCLUDE_PRIOR_CUSTOMERS)},"
        f" path_transform text not null default {_sql_literal(DEFAULT_PATH_TRANSFORM)},"
        " path_transform_target text,"
        f" signal_priority text not null default {_sql_literal(DEFAULT_SIGNAL_PRIORITY)},"
        " max_download_requests_per_month bigint,"
        " max_landed_bytes bigint,"
        " connector_config_refs text not null,"
        " created_at timestamp not null,"
        " updated_at timestamp not null"
        ")"
    )
    # Tables created before a setting existed get its column, holding the default (which is what
    # those tenants' runs used).
    # (Without `not null`: DuckDB cannot add a NOT NULL column with IF NOT EXISTS; every write
    # goes through validate_settings, which refuses an empty value.)
    for column, (sql_type, default) in _ADDED_COLUMNS.items():
        wh.execute(
            f"alter table {TABLE} add column if not exists {column} {sql_type}"
            f" default {_sql_literal(default)}"
        )


# Settings added after the table's first release: their SQL type and the value older tenants'
# runs used.
_ADDED_COLUMNS: dict[str, tuple[str, str | bool | None]] = {
    "download_window": ("text", DEFAULT_DOWNLOAD_WINDOW),
    "exclude_prior_customers": ("boolean", DEFAULT_EXCLUDE_PRIOR_CUSTOMERS),
    "path_transform": ("text", DEFAULT_PATH_TRANSFORM),
    "path_transform_target": ("text", None),
    "signal_priority": ("text", DEFAULT_SIGNAL_PRIORITY),
}


def _sql_literal(value: str | bool | None) -> str:
    """A constant default as SQL (the values are ours, never user input)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + value.replace("'", "''") + "'"


def validate_settings(tenant: Tenant) -> Tenant:
    """Return ``tenant`` when every setting is usable; raise TenantError naming the bad one."""
    tid = validate_tenant_id(tenant.tenant_id)
    problems: list[str] = []
    if not isinstance(tenant.name, str) or not tenant.name.strip():
        problems.append("name must not be empty")
    if not _is_number(tenant.lookback_days) or tenant.lookback_days <= 0:
        problems.append(f"lookback_days must be > 0, not {tenant.lookback_days!r}")
    elif int(tenant.lookback_days) != tenant.lookback_days:
        problems.append(f"lookback_days must be whole days, not {tenant.lookback_days!r}")
    if not _is_number(tenant.half_life_days) or tenant.half_life_days <= 0:
        problems.append(f"half_life_days must be > 0, not {tenant.half_life_days!r}")
    weights_ok = True
    for name in ("position_first_weight", "position_last_weight"):
        value = getattr(tenant, name)
        if not _is_number(value) or not 0 <= value <= 1:
            problems.append(f"{name} must be in [0, 1], not {value!r}")
            weights_ok = False
    if weights_ok and tenant.position_first_weight + tenant.position_last_weight > 1:
        problems.append(
            "position_first_weight + position_last_weight must be <= 1, not "
            f"{tenant.position_first_weight} + {tenant.position_last_weight}"
        )
    if tenant.download_window not in DOWNLOAD_WINDOWS:
        problems.append(
            f"download_window must be one of {', '.join(DOWNLOAD_WINDOWS)}, "
            f"not {tenant.download_window!r}"
        )
    if not isinstance(tenant.exclude_prior_customers, bool):
        problems.append(
            f"exclude_prior_customers must be true or false, not {tenant.exclude_prior_customers!r}"
        )
    if tenant.path_transform not in PATH_TRANSFORMS:
        problems.append(
            f"path_transform must be one of {', '.join(PATH_TRANSFORMS)}, "
            f"not {tenant.path_transform!r}"
        )
    target = tenant.path_transform_target
    if target is not None and (not isinstance(target, str) or not target.strip()):
        problems.append(f"path_transform_target must be a campaign id or unset, not {target!r}")
    elif tenant.path_transform == "remove_if_not_all" and target is None:
        problems.append(
            "path_transform_target must name the campaign id that path_transform "
            "remove_if_not_all removes"
        )
    problems.extend(_signal_priority_problems(tenant.signal_priority))
    for name in ("max_download_requests_per_month", "max_landed_bytes"):
        value = getattr(tenant, name)
        if value is not None and (not isinstance(value, int) or value < 0):
            problems.append(f"{name} must be a whole number >= 0 or unset, not {value!r}")
    refs = tenant.connector_config_refs
    if not isinstance(refs, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in refs.items()
    ):
        problems.append("connector_config_refs must map names to reference strings")
    if problems:
        raise TenantError(f"tenant {tid}: " + "; ".join(problems))
    return tenant


def _signal_priority_problems(value: object) -> list[str]:
    """Why ``value`` is not a usable signal_priority (empty when it is)."""
    if not isinstance(value, str) or not value.strip():
        return [
            "signal_priority must be a comma-separated list of signals "
            f"({', '.join(SIGNAL_NAMES)}), not {value!r}"
        ]
    # Names are taken exactly (no blanks around them): dbt splits the var on commas as stored.
    names = value.split(",")
    problems = []
    unknown = [name for name in names if name not in SIGNAL_NAMES]
    if unknown:
        problems.append(
            f"signal_priority names unknown signals {', '.join(repr(n) for n in unknown)}; "
            f"known: {', '.join(SIGNAL_NAMES)}"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems.append(f"signal_priority repeats {', '.join(repeated)}")
    return problems


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def create_tenant(wh: Warehouse, tenant: Tenant) -> Tenant:
    """Insert a new tenant; raise TenantError when it already exists or a setting is invalid."""
    validate_settings(tenant)
    with wh.transaction():
        ensure_tenants_table(wh)
        if _row(wh, tenant.tenant_id) is not None:
            raise TenantError(f"tenant {tenant.tenant_id} already exists in {TABLE}")
        now = _now()
        created = Tenant(**{**asdict(tenant), "created_at": now, "updated_at": now})
        values = _to_row(created)
        placeholders = ", ".join("?" for _ in _COLUMNS)
        wh.execute(
            f"insert into {TABLE} ({', '.join(_COLUMNS)}) values ({placeholders})",
            [values[c] for c in _COLUMNS],
        )
        audit.record(wh, "tenant.create", created.tenant_id, _audit_view(created))
    return created


def get_tenant(wh: Warehouse, tenant_id: str) -> Tenant | None:
    """The tenant, or None when it is not in the table (or the table does not exist yet)."""
    validate_tenant_id(tenant_id)
    if not tenants_table_exists(wh):
        return None
    return _row(wh, tenant_id)


def require_tenant(wh: Warehouse, tenant_id: str) -> Tenant:
    """The tenant; raise TenantError when it is unknown."""
    tenant = get_tenant(wh, tenant_id)
    if tenant is None:
        raise TenantError(f"tenant {tenant_id} does not exist in {TABLE}")
    return tenant


def list_tenants(wh: Warehouse) -> list[Tenant]:
    """Every tenant, ordered by id."""
    if not tenants_table_exists(wh):
        return []
    rows = wh.fetch(f"select {_select_list(wh)} from {TABLE} order by tenant_id")
    return [_from_row(r) for r in rows]


def update_tenant(wh: Warehouse, tenant_id: str, **changes: Any) -> Tenant:
    """Change some of a tenant's settings (names in UPDATABLE); returns the updated tenant."""
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise TenantError(f"tenant {tenant_id}: cannot update {', '.join(unknown)}")
    with wh.transaction():
        ensure_tenants_table(wh)  # adds columns of settings newer than the table
        before = require_tenant(wh, tenant_id)
        after = Tenant(**{**asdict(before), **changes, "updated_at": _now()})
        validate_settings(after)
        changed = {
            k: {"from": getattr(before, k), "to": getattr(after, k)}
            for k in changes
            if getattr(before, k) != getattr(after, k)
        }
        if not changed:
            return before
        values = _to_row(after)
        assignments = ", ".join(f"{c} = ?" for c in [*changed, "updated_at"])
        wh.execute(
            f"update {TABLE} set {assignments} where tenant_id = ?",
            [*(values[c] for c in [*changed, "updated_at"]), tenant_id],
        )
        audit.record(wh, "tenant.update", tenant_id, {"changed": changed})
    return after


def delete_tenant(wh: Warehouse, tenant_id: str, details: dict[str, Any] | None = None) -> Tenant:
    """Remove the tenant's row (its data goes with purge_tenant_rows, landing with the CLI)."""
    with wh.transaction():
        tenant = require_tenant(wh, tenant_id)
        wh.execute(f"delete from {TABLE} where tenant_id = ?", [tenant_id])
        audit.record(wh, "tenant.delete", tenant_id, {**_audit_view(tenant), **(details or {})})
    return tenant


# The layers that hold tenant rows; earshot_meta (tenants, audit, migrations) is not one.
DATA_SCHEMAS = ("raw", "staging", "intermediate", "marts")


def tenant_tables(wh: Warehouse) -> list[tuple[str, str, str]]:
    """(schema, table, tenant column) of every base table in DATA_SCHEMAS keyed by tenant."""
    placeholders = ", ".join("?" for _ in DATA_SCHEMAS)
    rows = wh.fetch(
        "select c.table_schema, c.table_name, c.column_name"
        " from information_schema.columns c"
        " join information_schema.tables t"
        "   on t.table_schema = c.table_schema and t.table_name = c.table_name"
        f" where c.table_schema in ({placeholders})"
        " and c.column_name in ('tenant_id', '_tenant_id')"
        " and t.table_type = 'BASE TABLE'"
        " order by c.table_schema, c.table_name, c.column_name",
        list(DATA_SCHEMAS),
    )
    seen: dict[tuple[str, str], str] = {}
    for schema, table, column in rows:
        # A table with both columns: `_tenant_id` sorts first and is the landed key.
        seen.setdefault((schema, table), column)
    return [(s, t, c) for (s, t), c in seen.items()]


def purge_tenant_rows(wh: Warehouse, tenant_id: str) -> dict[str, int]:
    """Delete the tenant's rows from every table of DATA_SCHEMAS; rows removed per table."""
    validate_tenant_id(tenant_id)
    removed: dict[str, int] = {}
    with wh.transaction():
        for schema, table, column in tenant_tables(wh):
            name = f'"{schema}"."{table}"'
            count = wh.fetch(f'select count(*) from {name} where "{column}" = ?', [tenant_id])
            wh.execute(f'delete from {name} where "{column}" = ?', [tenant_id])
            removed[f"{schema}.{table}"] = int(count[0][0])
    return removed


def tenants_table_exists(wh: Warehouse) -> bool:
    return table_exists(wh, META_SCHEMA, "tenants")


def _row(wh: Warehouse, tenant_id: str) -> Tenant | None:
    rows = wh.fetch(f"select {_select_list(wh)} from {TABLE} where tenant_id = ?", [tenant_id])
    return _from_row(rows[0]) if rows else None


def _select_list(wh: Warehouse) -> str:
    """The table's columns in Tenant order; a column added by a later release and not yet in
    this table (read-only readers cannot add it) reads as its default."""
    present = {
        row[0]
        for row in wh.fetch(
            "select column_name from information_schema.columns"
            " where table_schema = ? and table_name = ?",
            [META_SCHEMA, "tenants"],
        )
    }
    return ", ".join(
        c
        if c in present or c not in _ADDED_COLUMNS
        else f"{_sql_literal(_ADDED_COLUMNS[c][1])} as {c}"
        for c in _COLUMNS
    )


def _to_row(tenant: Tenant) -> dict[str, Any]:
    values = asdict(tenant)
    values["connector_config_refs"] = json.dumps(tenant.connector_config_refs, sort_keys=True)
    values["lookback_days"] = int(tenant.lookback_days)
    values["half_life_days"] = float(tenant.half_life_days)
    values["position_first_weight"] = float(tenant.position_first_weight)
    values["position_last_weight"] = float(tenant.position_last_weight)
    return values


def _from_row(row: tuple) -> Tenant:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["connector_config_refs"] = json.loads(values["connector_config_refs"])
    return Tenant(**values)


def _audit_view(tenant: Tenant) -> dict[str, Any]:
    view = asdict(tenant)
    for stamp in ("created_at", "updated_at"):
        view.pop(stamp)
    return view


def _now() -> datetime:
    # Stored naive in UTC: DuckDB and PostgreSQL `timestamp` columns agree on it.
    return datetime.now(UTC).replace(tzinfo=None)
