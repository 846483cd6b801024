"""`earshot warehouse migrate` and `earshot tenant grant-bi`: the PostgreSQL tenancy commands.

Kept out of cli.py so the tenancy piece owns its commands; cli.py adds them with
``register_cli(sub)`` on its top-level subparsers.
"""

from __future__ import annotations

import argparse
import sys

from pipelines.cli_args import tenant_arg


def _require_postgres() -> bool:
    from warehouse.settings import warehouse_target

    if warehouse_target() != "postgres":
        print(
            "error: roles and row-level security exist on PostgreSQL only; set "
            "EARSHOT_WAREHOUSE=postgres and EARSHOT_PG_* (docs/user/bi-access.md)",
            file=sys.stderr,
        )
        return False
    return True


def cmd_warehouse_migrate(args: argparse.Namespace) -> int:
    from warehouse.connection import PostgresSettings
    from warehouse.migrate import MigrationError, migrate

    if not _require_postgres():
        return 2
    settings = PostgresSettings.from_env()
    try:
        applied = migrate(settings)
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    where = f"{settings.host}:{settings.port}/{settings.database}"
    if applied:
        print(f"applied migrations {', '.join(applied)} to {where}")
    else:
        print(f"{where} is up to date")
    return 0


def cmd_tenant_grant_bi(args: argparse.Namespace) -> int:
    import getpass

    from warehouse.connection import PostgresSettings
    from warehouse.tenant_roles import BiRoleError, grant_bi

    if not _require_postgres():
        return 2
    # Typed at a prompt, never an argument: arguments end up in shell history and `ps`.
    password = getpass.getpass(f"password for bi_{args.tenant}: ") if args.ask_password else None
    try:
        grant = grant_bi(PostgresSettings.from_env(), args.tenant, password)
    except BiRoleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"role:     {grant.role}")
    print(f"host:     {grant.host}")
    print(f"port:     {grant.port}")
    print(f"database: {grant.database}")
    if grant.password_generated:
        print(f"password: {grant.password}")
        print(f"url:      {grant.connection_string}")
        print("\nThe password is shown once; store it in the BI tool's secret store now.")
    else:
        print("password: (the one you typed)")
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """Add the `warehouse` and `tenant` command groups to earshot's top-level subparsers.

    Returns the `tenant` group's subparsers, so tenant management (cli_tenants.py) adds its
    commands to the same group.
    """
    warehouse = subparsers.add_parser("warehouse", help="manage the PostgreSQL warehouse")
    warehouse_sub = warehouse.add_subparsers(dest="warehouse_command", required=True)
    migrate = warehouse_sub.add_parser(
        "migrate", help="apply pending roles/security migrations (warehouse/migrations)"
    )
    migrate.set_defaults(func=cmd_warehouse_migrate)

    tenant = subparsers.add_parser("tenant", help="manage tenants and their access")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", required=True)
    grant = tenant_sub.add_parser(
        "grant-bi", help="create or rotate a tenant's read-only BI login (docs/user/bi-access.md)"
    )
    grant.add_argument("--tenant", required=True, type=tenant_arg)
    grant.add_argument(
        "--ask-password",
        action="store_true",
        help="prompt for the password instead of generating one",
    )
    grant.set_defaults(func=cmd_tenant_grant_bi)
    return tenant_sub
