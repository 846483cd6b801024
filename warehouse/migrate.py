"""Versioned SQL migrations for the PostgreSQL warehouse (roles, security, grants).

Migrations are the numbered files in ``warehouse/migrations/`` (``0001_roles_and_security.sql``,
...), applied in order, each in its own transaction, and recorded with the SHA-256 of the file in
``earshot_meta.schema_migrations``. A file that changed after it was applied stops every later
run: an applied migration is history, and a change goes in a new file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from warehouse import audit
from warehouse.connection import PostgresSettings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant works; it keeps two `earshot warehouse migrate` from applying the same file twice.
MIGRATION_LOCK_KEY = 7_305_117_113


class MigrationError(RuntimeError):
    """A migration folder or history the runner will not apply on top of."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    checksum: str

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in ``directory``, by version; stray or duplicate names are an error."""
    found: dict[str, Migration] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        match = MIGRATION_FILE.fullmatch(path.name)
        if match is None:
            raise MigrationError(f"{path}: migration files are named NNNN_lower_case_name.sql")
        version, name = match.groups()
        if version in found:
            raise MigrationError(f"{path}: version {version} is also {found[version].path.name}")
        checksum = hashlib.sha256(path.read_bytes()).hexdigest()
        found[version] = Migration(version, name, path, checksum)
    return [found[v] for v in sorted(found)]


def migrate(settings: PostgresSettings, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations not yet applied; return their versions (empty when up to date)."""
    import psycopg

    migrations = discover(directory)
    applied_now: list[str] = []
    with psycopg.connect(**settings.conninfo(), autocommit=True) as conn:
        conn.execute("create schema if not exists earshot_meta")
        conn.execute(
            "create table if not exists earshot_meta.schema_migrations ("
            " version text primary key, name text not null, checksum text not null,"
            " applied_at timestamptz not null default now())"
        )
        conn.execute("revoke all on schema earshot_meta from public")
        with conn.transaction():
            # Session lock held across the loop: a second runner waits, then finds the work done.
            conn.execute("select pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            history = {
                version: (name, checksum)
                for version, name, checksum in conn.execute(
                    "select version, name, checksum from earshot_meta.schema_migrations"
                ).fetchall()
            }
            _check_history(history, migrations, directory)
            for migration in migrations:
                if migration.version in history:
                    continue
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(
                        "insert into earshot_meta.schema_migrations (version, name, checksum)"
                        " values (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                    audit.record_psycopg(
                        conn,
                        "warehouse.migrate",
                        None,
                        {
                            "version": migration.version,
                            "name": migration.name,
                            "checksum": migration.checksum,
                        },
                    )
                applied_now.append(migration.version)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    return applied_now


def _check_history(
    history: dict[str, tuple[str, str]], migrations: list[Migration], directory: Path
) -> None:
    by_version = {m.version: m for m in migrations}
    for version, (name, checksum) in sorted(history.items()):
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"migration {version}_{name} is applied to the warehouse but its file is missing "
                f"from {directory}; restore it"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"{migration.path}: changed after it was applied (recorded sha256 {checksum}, "
                f"file {migration.checksum}); put the change in a new migration"
            )
