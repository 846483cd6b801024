"""Tenant isolation on PostgreSQL: migrations, row-level security and per-tenant BI logins.

Runs on the session's PostgreSQL pipeline (two tenants): applies the migrations, re-runs
tenant_alpha so that dbt's post-hook puts row-level security on every model table, grants both
tenants a BI role, then works as tenant_alpha's BI login.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import BuiltPipeline
from tests.support import postgres_server
from warehouse.connection import PostgresSettings
from warehouse.migrate import MIGRATIONS_DIR, MigrationError, discover, migrate
from warehouse.settings import InvalidTenantId
from warehouse.tenant_roles import BiGrant, grant_bi, revoke_bi

MODEL_SCHEMAS = ("staging", "intermediate", "marts")


@dataclass(frozen=True)
class Secured:
    settings: PostgresSettings
    applied_first: list[str]
    applied_second: list[str]
    alpha: BiGrant
    beta: BiGrant


def _settings(pipeline: BuiltPipeline) -> PostgresSettings:
    env = pipeline.env
    return PostgresSettings(
        host=env["EARSHOT_PG_HOST"],
        port=int(env["EARSHOT_PG_PORT"]),
        user=env["EARSHOT_PG_USER"],
        password=env["EARSHOT_PG_PASSWORD"],
        database=env["EARSHOT_PG_DATABASE"],
    )


@pytest.fixture(scope="module")
def secured(postgres_pipeline: BuiltPipeline) -> Secured:
    settings = _settings(postgres_pipeline)
    first = migrate(settings)
    second = migrate(settings)
    # The post-hook runs with every model; a tenant run re-writes the same rows.
    postgres_pipeline.earshot("run", "--tenant", "tenant_alpha")
    alpha = grant_bi(settings, "tenant_alpha", None)
    beta = grant_bi(settings, "tenant_beta", "beta-Secret-1")
    return Secured(settings, first, second, alpha, beta)


@pytest.fixture
def owner(secured: Secured) -> Iterator[psycopg.Connection]:
    with psycopg.connect(**secured.settings.conninfo(), autocommit=True) as conn:
        yield conn


@pytest.fixture
def bi_alpha(secured: Secured) -> Iterator[psycopg.Connection]:
    with psycopg.connect(secured.alpha.connection_string, autocommit=True) as conn:
        yield conn


def _model_tables(conn: psycopg.Connection, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    return conn.execute(
        "select table_schema, table_name from information_schema.columns"
        " where column_name = 'tenant_id' and table_schema = any(%s)"
        " order by 1, 2",
        (list(schemas),),
    ).fetchall()


def _fails(conn: psycopg.Connection, statement: str) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(statement)
    return caught.value


def test_migrations_apply_once_and_are_recorded(secured: Secured, owner: psycopg.Connection):
    versions = [m.version for m in discover()]
    assert secured.applied_first == versions and "0001" in versions
    assert secured.applied_second == []
    assert migrate(secured.settings) == []
    recorded = owner.execute(
        "select version, checksum from earshot_meta.schema_migrations order by version"
    ).fetchall()
    assert recorded == [(m.version, m.checksum) for m in discover()]
    roles = owner.execute(
        "select rolname, rolcanlogin from pg_roles"
        " where rolname in ('platform_admin', 'pipeline_writer', 'analyst') order by 1"
    ).fetchall()
    assert roles == [("analyst", False), ("pipeline_writer", False), ("platform_admin", False)]


def test_a_changed_applied_migration_stops_the_run(secured: Secured, tmp_path: Path):
    changed = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, changed)
    first = sorted(changed.glob("0001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited after it was applied\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(secured.settings, changed)


def test_every_model_table_has_row_level_security(secured: Secured, owner: psycopg.Connection):
    tables = _model_tables(owner, MODEL_SCHEMAS)
    assert len(tables) >= 15
    views = 0
    for schema, table in tables:
        enabled, forced, kind, options = owner.execute(
            "select relrowsecurity, relforcerowsecurity, relkind, coalesce(reloptions, '{}')"
            " from pg_class where oid = to_regclass(%s)",
            (f'"{schema}"."{table}"',),
        ).fetchone()
        if kind == "v":
            # A view cannot carry policies: it runs as the querying role, so the policies of
            # the tables under it filter.
            assert "security_invoker=true" in options, f"{schema}.{table}"
            views += 1
            continue
        policies = {
            name
            for (name,) in owner.execute(
                "select policyname from pg_policies where schemaname = %s and tablename = %s",
                (schema, table),
            )
        }
        assert (enabled, forced) == (True, False), f"{schema}.{table}"
        assert policies == {"tenant_isolation", "earshot_platform"}, f"{schema}.{table}"
    # the request classification views
    assert views >= 2


def test_bi_role_sees_only_its_tenant(
    secured: Secured, owner: psycopg.Connection, bi_alpha: psycopg.Connection
):
    assert secured.alpha.role == "bi_tenant_alpha"
    assert bi_alpha.execute("select earshot_security.current_tenant_ids()").fetchone() == (
        ["tenant_alpha"],
    )
    readable = bi_alpha.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema not in ('pg_catalog', 'information_schema') order by 1, 2"
    ).fetchall()
    assert {schema for schema, _ in readable} == {"marts"}
    assert readable == _model_tables(owner, ("marts",))
    for schema, table in readable:
        relation = sql.Identifier(schema, table)
        count = sql.SQL(
            "select count(*) filter (where tenant_id = 'tenant_alpha'),"
            " count(*) filter (where tenant_id is distinct from 'tenant_alpha') from {}"
        ).format(relation)
        alpha_rows, other_rows = bi_alpha.execute(count).fetchone()
        all_alpha, all_beta = owner.execute(
            sql.SQL(
                "select count(*) filter (where tenant_id = 'tenant_alpha'),"
                " count(*) filter (where tenant_id = 'tenant_beta') from {}"
            ).format(relation)
        ).fetchone()
        assert alpha_rows >= 1 and alpha_rows == all_alpha, f"{schema}.{table}"
        assert all_beta >= 1, f"{schema}.{table} has no tenant_beta rows to hide"
        assert other_rows == 0, f"{schema}.{table}"


def test_bi_role_cannot_become_someone_else(bi_alpha: psycopg.Connection):
    _fails(bi_alpha, "set role bi_tenant_beta")
    _fails(bi_alpha, "set role postgres")
    _fails(bi_alpha, "set session authorization bi_tenant_beta")
    _fails(bi_alpha, "select set_config('role', 'bi_tenant_beta', false)")
    _fails(bi_alpha, "select set_config('session_authorization', 'bi_tenant_beta', false)")
    # Settings it may change change nothing: no policy reads a client-settable value.
    for name, value in [
        ("earshot.tenant_id", "tenant_beta"),
        ("app.tenant_id", "tenant_beta"),
        ("search_path", "pg_temp, public, marts"),
        ("row_security", "off"),
    ]:
        try:
            bi_alpha.execute("select set_config(%s, %s, false)", (name, value))
        except psycopg.Error:
            continue
        try:
            rows = bi_alpha.execute(
                "select distinct tenant_id from marts.fct_attribution_credits"
            ).fetchall()
        except psycopg.Error:
            # row_security = off makes a query that policies would filter fail instead.
            assert name == "row_security"
            continue
        assert rows == [("tenant_alpha",)], name
    assert bi_alpha.execute("select earshot_security.current_tenant_ids()").fetchone() == (
        ["tenant_alpha"],
    )


def test_bi_role_cannot_write_or_create(bi_alpha: psycopg.Connection):
    assert bi_alpha.execute("show default_transaction_read_only").fetchone() == ("on",)
    # Read-only is a default the client can switch off; the privileges must hold on their own.
    bi_alpha.execute("set default_transaction_read_only = off")
    for statement in [
        "insert into marts.dim_shows select * from marts.dim_shows",
        "update marts.dim_shows set tenant_id = 'tenant_beta'",
        "delete from marts.dim_shows",
        "truncate marts.dim_shows",
        "create table marts.bi_scratch (x int)",
        "insert into earshot_security.tenant_roles values ('bi_tenant_alpha', 'tenant_beta')",
        "update earshot_security.tenant_roles set tenant_id = 'tenant_beta'",
    ]:
        _fails(bi_alpha, statement)
    for schema in ["marts", "staging", "public", "earshot_security", "raw", "pg_temp"]:
        _fails(
            bi_alpha,
            f"create function {schema}.current_tenant_ids() returns text[]"
            " language sql as $$ select array['tenant_beta'] $$",
        )


def test_bi_role_cannot_read_the_mapping_raw_or_working_layers(
    bi_alpha: psycopg.Connection, owner: psycopg.Connection
):
    _fails(bi_alpha, "select * from earshot_security.tenant_roles")
    raw_tables = owner.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'"
    ).fetchall()
    assert raw_tables
    for (table,) in raw_tables:
        _fails(bi_alpha, f'select count(*) from raw."{table}"')
    _fails(bi_alpha, "select count(*) from staging.stg_files__orders")
    _fails(bi_alpha, "select count(*) from intermediate.int_conversions")


def test_analyst_reads_every_tenant(secured: Secured, owner: psycopg.Connection):
    owner.execute("drop role if exists earshot_test_analyst")
    owner.execute("create role earshot_test_analyst login in role analyst")
    try:
        with psycopg.connect(
            **{**secured.settings.conninfo(), "user": "earshot_test_analyst"}, autocommit=True
        ) as conn:
            tenants = conn.execute(
                "select distinct tenant_id from marts.fct_attribution_credits order by 1"
            ).fetchall()
            assert tenants == [("tenant_alpha",), ("tenant_beta",)]
            _fails(conn, "select * from earshot_security.tenant_roles")
            _fails(conn, "delete from marts.dim_shows")
    finally:
        owner.execute("drop role earshot_test_analyst")


def test_grant_bi_is_repeatable_and_guards_its_input(secured: Secured, owner: psycopg.Connection):
    assert secured.alpha.password_generated and len(secured.alpha.password) >= 24
    assert secured.alpha.password not in repr(secured.alpha)
    assert secured.beta.connection_string == (
        f"postgresql://bi_tenant_beta:beta-Secret-1@{secured.settings.host}:"
        f"{secured.settings.port}/{secured.settings.database}"
    )
    again = grant_bi(secured.settings, "tenant_beta", "beta-Secret-1")
    assert again.role == "bi_tenant_beta" and not again.password_generated
    attrs = owner.execute(
        "select rolcanlogin, rolinherit, rolcreatedb, rolcreaterole, rolconnlimit,"
        " rolpassword like 'SCRAM-SHA-256$%%' from pg_authid where rolname = 'bi_tenant_beta'"
    ).fetchone()
    assert attrs == (True, False, False, False, 10, True)
    mapping = owner.execute(
        "select role_name, tenant_id from earshot_security.tenant_roles"
        " where role_name in ('bi_tenant_alpha', 'bi_tenant_beta') order by 1"
    ).fetchall()
    assert mapping == [("bi_tenant_alpha", "tenant_alpha"), ("bi_tenant_beta", "tenant_beta")]
    with pytest.raises(InvalidTenantId):
        grant_bi(secured.settings, "Tenant; drop role postgres", "x")


def test_generated_password_logs_in_with_scram(tmp_path: Path):
    # The session server trusts every login; this one checks passwords, as production does.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data_dir = tmp_path / "scram" / "data"
    server = postgres_server.start(data_dir, port)
    try:
        (data_dir / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all postgres 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        reload = [str(postgres_server.PG_BIN / "pg_ctl"), "-D", str(data_dir), "reload"]
        subprocess.run(postgres_server._as_server_user(reload), check=True, capture_output=True)
        settings = postgres_server.fresh_database(server, "scram")
        migrate(settings)
        grant = grant_bi(settings, "tenant_gamma", None)
        with psycopg.connect(grant.connection_string) as conn:
            assert conn.execute("select earshot_security.current_tenant_ids()").fetchone() == (
                ["tenant_gamma"],
            )
        wrong = grant.connection_string.replace(grant.password, grant.password[::-1] + "x")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(wrong)
    finally:
        postgres_server.stop(data_dir)


def test_cli_commands(
    secured: Secured, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    import argparse

    from pipelines.cli_tenancy import register_cli

    parser = argparse.ArgumentParser(prog="earshot")
    register_cli(parser.add_subparsers(dest="command", required=True))
    for key in ("HOST", "PORT", "USER", "PASSWORD", "DATABASE"):
        monkeypatch.setenv(f"EARSHOT_PG_{key}", str(getattr(secured.settings, key.lower())))
    monkeypatch.setenv("EARSHOT_WAREHOUSE", "postgres")

    args = parser.parse_args(["warehouse", "migrate"])
    assert args.func(args) == 0
    assert "is up to date" in capsys.readouterr().out

    args = parser.parse_args(["tenant", "grant-bi", "--tenant", "tenant_cli"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "role:     bi_tenant_cli" in out
    url = next(line.split()[1] for line in out.splitlines() if line.startswith("url:"))
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_user").fetchone() == ("bi_tenant_cli",)
        # A tenant without rows yet sees an empty mart, not an error.
        assert conn.execute("select count(*) from marts.dim_shows").fetchone() == (0,)

    with pytest.raises(SystemExit):
        parser.parse_args(["tenant", "grant-bi", "--tenant", "Bad Tenant"])


def _audit(owner: psycopg.Connection, action: str) -> list[tuple[str | None, dict]]:
    import json

    rows = owner.execute(
        'select tenant_id, details from earshot_meta.audit_log where action = %s order by "at"',
        (action,),
    ).fetchall()
    return [(tenant, json.loads(details)) for tenant, details in rows]


def test_migrations_and_bi_grants_are_audited(secured: Secured, owner: psycopg.Connection):
    migrations = _audit(owner, "warehouse.migrate")
    # Applied once, so audited once, with the checksum that is verified on later runs.
    assert [d["version"] for _, d in migrations] == [m.version for m in discover()]
    assert all(tenant is None and len(d["checksum"]) == 64 for tenant, d in migrations)
    granted = {tenant for tenant, _ in _audit(owner, "tenant.grant_bi")}
    assert {"tenant_alpha", "tenant_beta"} <= granted
    # A grant to a tenant that has its login already sets a new password: a rotation.
    grant_bi(secured.settings, "tenant_beta", "beta-Secret-1")
    rotated = _audit(owner, "tenant.rotate_bi")
    assert ("tenant_beta", {"role": "bi_tenant_beta", "password_generated": False}) in [
        (t, {k: d[k] for k in ("role", "password_generated")}) for t, d in rotated
    ]
    log = owner.execute("select string_agg(details, ' ') from earshot_meta.audit_log").fetchone()
    assert secured.alpha.password not in log[0] and "beta-Secret-1" not in log[0]


def test_revoking_bi_drops_the_login_and_its_grants(secured: Secured, owner: psycopg.Connection):
    grant = grant_bi(secured.settings, "tenant_leaving", None)
    with psycopg.connect(grant.connection_string) as conn:
        assert conn.execute("select current_user").fetchone() == ("bi_tenant_leaving",)
    assert revoke_bi(secured.settings, "tenant_leaving") == ["bi_tenant_leaving"]
    role = owner.execute("select 1 from pg_roles where rolname = 'bi_tenant_leaving'")
    assert role.fetchall() == []
    assert (
        owner.execute(
            "select 1 from earshot_security.tenant_roles where tenant_id = 'tenant_leaving'"
        ).fetchall()
        == []
    )
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(grant.connection_string)
    assert [t for t, _ in _audit(owner, "tenant.revoke_bi")].count("tenant_leaving") == 1
    # Nothing left to drop: a second revoke is a no-op, and the other tenants keep their logins.
    assert revoke_bi(secured.settings, "tenant_leaving") == []
    with psycopg.connect(secured.alpha.connection_string) as conn:
        assert conn.execute("select current_user").fetchone() == ("bi_tenant_alpha",)
