"""Where Earshot keeps its state, read from the environment.

Everything a local run writes (landing zone, DuckDB warehouse, Dagster home, inbox) lives under one
folder, ``$EARSHOT_HOME`` (default ``./.earshot``), so a user can delete one folder to start over.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

TENANT_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


class InvalidTenantId(ValueError):
    """A tenant id that could not safely be used in a path, schema or role name."""


def validate_name(value: str, what: str, error: type[ValueError] = ValueError) -> str:
    """``value`` when it is 2-63 lower-case letters, digits and underscores, starting with a
    letter (safe in paths, SQL identifiers, role names); ``error`` naming ``what`` otherwise."""
    if not isinstance(value, str) or not TENANT_ID_PATTERN.fullmatch(value):
        raise error(
            f"invalid {what} {value!r}: use 2-63 characters, lower-case letters, digits and "
            "underscores, starting with a letter"
        )
    return value


def validate_tenant_id(tenant_id: str) -> str:
    """Return the tenant id when it is safe to use in paths, SQL identifiers and role names."""
    return validate_name(tenant_id, "tenant id", InvalidTenantId)


@dataclass(frozen=True)
class EarshotPaths:
    home: Path

    @property
    def landing(self) -> Path:
        return Path(os.environ.get("EARSHOT_LANDING_DIR", self.home / "landing"))

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def duckdb_path(self) -> Path:
        return Path(os.environ.get("EARSHOT_DUCKDB_PATH", self.home / "warehouse.duckdb"))

    @property
    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME", self.home / "dagster"))

    def tenant_inbox(self, tenant_id: str) -> Path:
        return self.inbox / validate_tenant_id(tenant_id)


def earshot_home() -> Path:
    return Path(os.environ.get("EARSHOT_HOME", ".earshot")).resolve()


def paths() -> EarshotPaths:
    return EarshotPaths(home=earshot_home())


def deployment() -> str:
    """``local`` (default) or ``production``, from ``EARSHOT_DEPLOYMENT``; anything else is
    refused, so a typo never silently means a local deployment."""
    name = os.environ.get("EARSHOT_DEPLOYMENT", "local")
    if name not in ("local", "production"):
        raise ValueError(f"EARSHOT_DEPLOYMENT must be 'local' or 'production', not {name!r}")
    return name


def warehouse_target() -> str:
    """The warehouse engine: ``duckdb`` (embedded default) or ``postgres`` (production).

    ``EARSHOT_DEPLOYMENT=production`` means PostgreSQL whatever ``EARSHOT_WAREHOUSE`` says, so the
    command line and the pipeline cannot disagree about where the data is.
    """
    if deployment() == "production":
        return "postgres"
    target = os.environ.get("EARSHOT_WAREHOUSE", "duckdb").lower()
    if target not in ("duckdb", "postgres"):
        raise ValueError(f"EARSHOT_WAREHOUSE must be 'duckdb' or 'postgres', not {target!r}")
    return target
