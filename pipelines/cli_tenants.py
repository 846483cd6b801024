"""`earshot tenant create|list|show|update|usage|delete`: tenant management.

The commands join the `tenant` group that cli_tenancy.py creates (with `grant-bi`), through
``register_tenant_commands(tenant_subparsers)``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from pipelines.cli_args import tenant_arg


def _signal_list(value: str) -> str:
    """A comma-separated signal list as stored: blanks around the names dropped (the names
    themselves are validated with the other settings)."""
    return ",".join(name.strip() for name in value.split(","))


# CLI option -> Tenant field, for the settings create and update share.
_SETTING_OPTIONS: dict[str, tuple[str, type, str]] = {
    "--region": ("region", str, "where the tenant's data lives (e.g. eu, us)"),
    "--plan": ("plan", str, "the commercial plan"),
    "--lookback-days": ("lookback_days", int, "attribution lookback window, days (> 0)"),
    "--half-life-days": ("half_life_days", float, "time-decay half-life, days (> 0)"),
    "--position-first-weight": (
        "position_first_weight",
        float,
        "position-based credit of the first touch, in [0, 1]",
    ),
    "--position-last-weight": (
        "position_last_weight",
        float,
        "position-based credit of the last touch, in [0, 1]; first + last <= 1",
    ),
    "--download-window": (
        "download_window",
        str,
        "IAB counting window: calendar_day, rolling_24h_first or rolling_24h_last",
    ),
    "--path-transform": (
        "path_transform",
        str,
        "path transform before attribution: none, exposure, first, unique or remove_if_not_all",
    ),
    "--path-transform-target": (
        "path_transform_target",
        str,
        "the campaign id path transform remove_if_not_all removes from paths",
    ),
    "--signal-priority": (
        "signal_priority",
        _signal_list,
        "signals in priority order, comma-separated "
        "(default promo_code,vanity_url,utm,survey,podcast_impression); "
        "a signal left out is reported on its own but never counts in the combined view",
    ),
    "--max-download-requests-per-month": (
        "max_download_requests_per_month",
        int,
        "quota of download requests landed per month",
    ),
    "--max-landed-bytes": ("max_landed_bytes", int, "quota of bytes in the landing zone"),
}


def _connector_ref(value: str) -> tuple[str, str]:
    name, sep, ref = value.partition("=")
    if not sep or not name or not ref:
        raise argparse.ArgumentTypeError(
            f"connector reference {value!r}: use NAME=REFERENCE, e.g. megaphone=vault:megaphone"
        )
    return name, ref


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (options left out are not in the result)."""
    given = {
        field: getattr(args, field)
        for field, _, _ in _SETTING_OPTIONS.values()
        if getattr(args, field) is not None
    }
    if args.exclude_prior_customers is not None:
        given["exclude_prior_customers"] = args.exclude_prior_customers
    if args.name is not None:
        given["name"] = args.name
    if args.connector_ref:
        given["connector_config_refs"] = dict(args.connector_ref)
    return given


def _print_tenant(tenant: Any) -> None:
    for key, value in asdict(tenant).items():
        if key == "connector_config_refs":
            value = ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "-"
        print(f"{key + ':':34}{'-' if value is None else value}")


def cmd_tenant_create(args: argparse.Namespace) -> int:
    from pipelines.instance import instance, register_tenant
    from warehouse.connection import connect
    from warehouse.pseudonymisation import ensure_tenant_key
    from warehouse.tenants import Tenant, TenantError, create_tenant

    try:
        with connect() as wh:
            tenant = create_tenant(wh, Tenant(tenant_id=args.tenant, **_settings(args)))
    except TenantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    register_tenant(instance(), tenant.tenant_id)
    _print_tenant(tenant)
    print(ensure_tenant_key(tenant.tenant_id))
    print(f"\nCreated tenant {tenant.tenant_id}. Next: earshot ingest ... --tenant {args.tenant}")
    return 0


def cmd_tenant_list(args: argparse.Namespace) -> int:
    from warehouse.connection import connect
    from warehouse.tenants import list_tenants

    with connect() as wh:
        tenants = list_tenants(wh)
    if not tenants:
        print("no tenants yet: earshot tenant create --tenant ID --name NAME")
        return 0
    header = ("tenant_id", "name", "region", "plan", "lookback", "half-life", "first", "last")
    rows = [
        (
            t.tenant_id,
            t.name,
            t.region or "-",
            t.plan or "-",
            str(t.lookback_days),
            f"{t.half_life_days:g}",
            f"{t.position_first_weight:g}",
            f"{t.position_last_weight:g}",
        )
        for t in tenants
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_tenant_show(args: argparse.Namespace) -> int:
    from warehouse.connection import connect
    from warehouse.tenants import get_tenant

    with connect() as wh:
        tenant = get_tenant(wh, args.tenant)
    if tenant is None:
        print(f"error: tenant {args.tenant} does not exist", file=sys.stderr)
        return 1
    _print_tenant(tenant)
    return 0


def cmd_tenant_update(args: argparse.Namespace) -> int:
    from warehouse.connection import connect
    from warehouse.tenants import TenantError, update_tenant

    changes = _settings(args)
    if not changes:
        print("error: nothing to update: give at least one setting option", file=sys.stderr)
        return 2
    try:
        with connect() as wh:
            tenant = update_tenant(wh, args.tenant, **changes)
    except TenantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print_tenant(tenant)
    return 0


def cmd_tenant_usage(args: argparse.Namespace) -> int:
    import json

    from warehouse.landing import configured_zone
    from warehouse.quotas import (
        UNLIMITED,
        format_usage,
        landing_usage,
        read_limits,
        usage_breaches,
        usage_lines,
    )

    stored = read_limits(args.tenant)
    usage = landing_usage(configured_zone(), args.tenant)
    if stored is None and usage.files == 0:
        print(f"error: tenant {args.tenant} does not exist", file=sys.stderr)
        return 1
    # Data landed without `tenant create` has no row and so no quotas: its use is still shown.
    limits = stored or UNLIMITED
    breaches = usage_breaches(usage, limits)
    if args.json:
        lines = [
            {
                "quota": line.quota,
                "period": line.period,
                "used": line.used,
                "limit": line.limit,
                "percent": None if line.percent is None else round(line.percent, 2),
                "over": line.over,
            }
            for line in usage_lines(usage, limits)
        ]
        document = {
            "tenant_id": args.tenant,
            "files": usage.files,
            "quotas": lines,
            "over": bool(breaches),
        }
        print(json.dumps(document, indent=2))
    else:
        print(format_usage(usage, limits))
        if stored is None:
            print(f"\n{args.tenant} has no row in earshot_meta.tenants, so no quotas.")
    for breach in breaches:
        print(f"over quota: {breach}", file=sys.stderr)
    if breaches:
        print(
            "Imports that add to a quota the tenant is over are refused; raise the quota "
            f"with earshot tenant update --tenant {args.tenant} --max-landed-bytes N "
            "(or --max-download-requests-per-month N).",
            file=sys.stderr,
        )
    return 1 if breaches else 0


def cmd_tenant_delete(args: argparse.Namespace) -> int:
    from pipelines.instance import instance
    from pipelines.partitions import tenant_partitions
    from warehouse import audit
    from warehouse.connection import PostgresSettings, connect
    from warehouse.landing import configured_zone
    from warehouse.pseudonymisation import retire_tenant_key
    from warehouse.settings import warehouse_target
    from warehouse.tenant_roles import revoke_bi
    from warehouse.tenants import delete_tenant, get_tenant, purge_tenant_rows

    if not args.yes:
        print(
            f"error: this deletes every landed file and warehouse row of {args.tenant}; "
            "add --yes to confirm",
            file=sys.stderr,
        )
        return 2
    # BI logins go first, so nobody reads the tenant's data while it is being removed.
    bi_roles: list[str] = []
    if warehouse_target() == "postgres":
        bi_roles = revoke_bi(PostgresSettings.from_env(), args.tenant)
    landing = configured_zone()
    files, size = landing.size(args.tenant)
    landing.delete_tenant(args.tenant)
    key_status = retire_tenant_key(args.tenant)
    with connect() as wh:
        rows = purge_tenant_rows(wh, args.tenant)
        details = {
            "landing_files": files,
            "landing_bytes": size,
            "rows_removed": rows,
            "bi_roles_dropped": bi_roles,
            "pseudonymisation_key": key_status,
        }
        if get_tenant(wh, args.tenant) is not None:
            delete_tenant(wh, args.tenant, details)
            had_row = True
        else:
            # Data landed without `tenant create` (e.g. `earshot ingest`) is offboarded too.
            audit.record(wh, "tenant.delete", args.tenant, {"tenants_row": False, **details})
            had_row = False
    inst = instance()
    if inst.has_dynamic_partition(tenant_partitions.name, args.tenant):
        inst.delete_dynamic_partition(tenant_partitions.name, args.tenant)

    print(f"deleted tenant {args.tenant}")
    print(f"landing:      {files} files, {size} bytes")
    for table, count in rows.items():
        print(f"{table + ':':45} {count} rows")
    print(f"tenants row:  {'removed' if had_row else 'none'}")
    print(f"BI logins:    {', '.join(bi_roles) if bi_roles else 'none'} dropped")
    print(key_status)
    print(f"total rows:   {sum(rows.values())}")
    return 0


def _add_settings(parser: argparse.ArgumentParser, *, name_required: bool) -> None:
    parser.add_argument("--tenant", required=True, type=tenant_arg)
    parser.add_argument("--name", required=name_required, help="display name")
    for option, (field, kind, help_text) in _SETTING_OPTIONS.items():
        parser.add_argument(option, dest=field, type=kind, default=None, help=help_text)
    parser.add_argument(
        "--exclude-prior-customers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a conversion from a household that ordered before the campaign started takes no "
        "credit (default: off)",
    )
    parser.add_argument(
        "--connector-ref",
        action="append",
        type=_connector_ref,
        metavar="NAME=REFERENCE",
        help="where a connector's configuration lives (a secret name, never the secret)",
    )


def register_tenant_commands(tenant_subparsers: argparse._SubParsersAction) -> None:
    """Add create/list/show/update/delete to the `earshot tenant` group."""
    create = tenant_subparsers.add_parser("create", help="add a tenant with its settings")
    _add_settings(create, name_required=True)
    create.set_defaults(func=cmd_tenant_create)

    listing = tenant_subparsers.add_parser("list", help="list tenants")
    listing.set_defaults(func=cmd_tenant_list)

    show = tenant_subparsers.add_parser("show", help="print one tenant's settings")
    show.add_argument("--tenant", required=True, type=tenant_arg)
    show.set_defaults(func=cmd_tenant_show)

    update = tenant_subparsers.add_parser("update", help="change a tenant's settings")
    _add_settings(update, name_required=False)
    update.set_defaults(func=cmd_tenant_update)

    usage = tenant_subparsers.add_parser(
        "usage",
        help="a tenant's landed bytes and monthly download requests against its quotas; "
        "exits 1 when over one",
    )
    usage.add_argument("--tenant", required=True, type=tenant_arg)
    usage.add_argument("--json", action="store_true", help="print the usage as JSON")
    usage.set_defaults(func=cmd_tenant_usage)

    delete = tenant_subparsers.add_parser(
        "delete", help="offboard a tenant: delete its landed data, warehouse rows and settings"
    )
    delete.add_argument("--tenant", required=True, type=tenant_arg)
    delete.add_argument("--yes", action="store_true", help="confirm the deletion")
    delete.set_defaults(func=cmd_tenant_delete)
