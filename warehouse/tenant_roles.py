"""BI login roles: one read-only PostgreSQL role per tenant, which sees only that tenant's rows.

A BI role reads the ``marts`` schema and nothing else: ``raw`` still holds client addresses and
``staging``/``intermediate`` are the pipeline's working layers. Row-level security on every model
table (``dbt_project/macros/row_level_security.sql``) filters the rows to the tenants mapped to
the login in ``earshot_security.tenant_roles``, which this module maintains.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import quote

from warehouse import audit
from warehouse.connection import PostgresSettings
from warehouse.settings import validate_tenant_id

BI_SCHEMAS = ("marts",)
BI_ROLE_PREFIX = "bi_"
# A dashboard tool holds a small pool; more sessions than this is a leak or a misuse.
BI_CONNECTION_LIMIT = 10
# PostgreSQL's own default iteration count for SCRAM verifiers.
SCRAM_ITERATIONS = 4096
MAX_IDENTIFIER_LENGTH = 63


class BiRoleError(RuntimeError):
    """A BI role that cannot be created or updated as asked."""


@dataclass(frozen=True)
class BiGrant:
    """Where and how a tenant's BI tool connects. The password is shown once, never stored."""

    tenant_id: str
    role: str
    host: str
    port: int
    database: str
    password: str = field(repr=False)
    password_generated: bool = False

    @property
    def connection_string(self) -> str:
        return (
            f"postgresql://{quote(self.role, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(self.database, safe='')}"
        )


def bi_role_name(tenant_id: str) -> str:
    role = BI_ROLE_PREFIX + validate_tenant_id(tenant_id)
    if len(role) > MAX_IDENTIFIER_LENGTH:
        raise BiRoleError(
            f"tenant id {tenant_id!r} is too long for a BI role name ({role!r} is {len(role)} "
            f"characters, PostgreSQL keeps {MAX_IDENTIFIER_LENGTH})"
        )
    return role


def scram_sha256_verifier(password: str, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677).

    Sent instead of the password, so the clear text never reaches the server (nor its statement
    log). Restricted to printable ASCII, where SASLprep, which the server applies at login, is the
    identity.
    """
    if not password or not all(" " <= ch <= "~" for ch in password):
        raise BiRoleError("a BI role password must be non-empty printable ASCII")
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("ascii"), salt, SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def grant_bi(settings: PostgresSettings, tenant_id: str, password: str | None = None) -> BiGrant:
    """Create or update tenant ``tenant_id``'s BI login ``bi_<tenant_id>``; return how to connect.

    Needs the migrations applied (``earshot_security`` exists) and a role allowed to create roles
    (the warehouse owner). A password is generated when none is given; it is returned once and
    never logged. Re-running rotates the password and re-applies every grant.
    """
    import psycopg
    from psycopg import sql

    role = bi_role_name(tenant_id)
    generated = password is None
    secret = password if password is not None else secrets.token_urlsafe(24)
    verifier = scram_sha256_verifier(secret)
    ident = sql.Identifier(role)
    with psycopg.connect(**settings.conninfo(), autocommit=False) as conn:
        if conn.execute("select to_regnamespace('earshot_security')").fetchone()[0] is None:
            raise BiRoleError(
                f"database {settings.database!r} has no earshot_security schema: run "
                "`earshot warehouse migrate` first"
            )
        existing = conn.execute(
            "select rolsuper or rolcreaterole or rolcreatedb or rolreplication or rolbypassrls"
            " from pg_roles where rolname = %s",
            (role,),
        ).fetchone()
        if existing is not None and existing[0]:
            raise BiRoleError(
                f"role {role!r} exists with administrative attributes; it is not a BI role "
                "created by Earshot, refusing to reuse it"
            )
        mapped = conn.execute(
            "select tenant_id from earshot_security.tenant_roles where role_name = %s", (role,)
        ).fetchone()
        if mapped is not None and mapped[0] != tenant_id:
            raise BiRoleError(f"role {role!r} is mapped to tenant {mapped[0]!r}, not {tenant_id!r}")
        verb = "alter" if existing is not None else "create"
        conn.execute(
            sql.SQL(
                "{} role {} login noinherit nosuperuser nocreatedb nocreaterole noreplication "
                "nobypassrls connection limit {} password {}"
            ).format(sql.SQL(verb), ident, sql.Literal(BI_CONNECTION_LIMIT), sql.Literal(verifier))
        )
        conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(ident))
        conn.execute(
            sql.SQL("grant connect on database {} to {}").format(
                sql.Identifier(settings.database), ident
            )
        )
        for schema in BI_SCHEMAS:
            schema_ident = sql.Identifier(schema)
            conn.execute(sql.SQL("create schema if not exists {}").format(schema_ident))
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(schema_ident, ident))
            conn.execute(
                sql.SQL("grant select on all tables in schema {} to {}").format(schema_ident, ident)
            )
            # Tables the pipeline (this role) creates later, e.g. on a full refresh.
            conn.execute(
                sql.SQL(
                    "alter default privileges in schema {} grant select on tables to {}"
                ).format(schema_ident, ident)
            )
        conn.execute(
            "insert into earshot_security.tenant_roles (role_name, tenant_id) values (%s, %s)"
            " on conflict (role_name) do update set tenant_id = excluded.tenant_id",
            (role, tenant_id),
        )
        audit.record_psycopg(
            conn,
            "tenant.grant_bi" if verb == "create" else "tenant.rotate_bi",
            tenant_id,
            {"role": role, "schemas": list(BI_SCHEMAS), "password_generated": generated},
        )
        conn.commit()
    return BiGrant(
        tenant_id=tenant_id,
        role=role,
        host=settings.host,
        port=settings.port,
        database=settings.database,
        password=secret,
        password_generated=generated,
    )


def revoke_bi(settings: PostgresSettings, tenant_id: str) -> list[str]:
    """Drop every BI login of ``tenant_id`` (offboarding); return the roles dropped.

    ``drop owned by`` first removes the role's grants and default privileges in this database,
    which ``drop role`` requires. Sessions the role still has open end at their next statement
    (the role no longer exists); they could read only the tenant's own rows anyway.
    """
    import psycopg
    from psycopg import sql

    validate_tenant_id(tenant_id)
    with psycopg.connect(**settings.conninfo(), autocommit=False) as conn:
        if conn.execute("select to_regnamespace('earshot_security')").fetchone()[0] is None:
            return []
        roles = [
            row[0]
            for row in conn.execute(
                "select role_name from earshot_security.tenant_roles where tenant_id = %s"
                " order by role_name",
                (tenant_id,),
            ).fetchall()
        ]
        dropped = []
        for role in roles:
            ident = sql.Identifier(role)
            exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
            if exists is not None:
                conn.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity where usename = %s",
                    (role,),
                )
                conn.execute(sql.SQL("drop owned by {}").format(ident))
                conn.execute(sql.SQL("drop role {}").format(ident))
                dropped.append(role)
            conn.execute("delete from earshot_security.tenant_roles where role_name = %s", (role,))
        if roles:
            audit.record_psycopg(conn, "tenant.revoke_bi", tenant_id, {"roles": roles})
        conn.commit()
    return dropped
