"""`earshot connectors ...`: check a tenant's connectors, sync them, see where they stand."""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta

from pipelines.cli_args import tenant_arg


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {value!r}") from None


def _platforms(tenant_id: str, wanted: str | None) -> list[str] | None:
    """The tenant's enabled connectors (or the one asked for); None after printing an error."""
    from connectors.framework.errors import SettingsError
    from connectors.framework.settings import load_tenant_connectors, tenant_file

    try:
        settings = load_tenant_connectors(tenant_id)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    if not settings:
        print(
            f"error: tenant {tenant_id} has no connectors: {tenant_file(tenant_id)} does not "
            "exist or lists none (docs/user/connectors.md)",
            file=sys.stderr,
        )
        return None
    if wanted is not None:
        if wanted not in settings:
            print(
                f"error: tenant {tenant_id} has no {wanted} connector in {tenant_file(tenant_id)}"
                f" (configured: {', '.join(sorted(settings))})",
                file=sys.stderr,
            )
            return None
        return [wanted]
    return [p for p, s in sorted(settings.items()) if s.enabled]


def cmd_check(args: argparse.Namespace) -> int:
    """Settings valid, credentials present, and one authenticated request answered."""
    from connectors.framework.errors import ConnectorError, SettingsError
    from connectors.framework.runtime import build_connector

    platforms = _platforms(args.tenant, args.platform)
    if platforms is None:
        return 2
    failed = 0
    for platform in platforms:
        try:
            connector = build_connector(args.tenant, platform)
            # A check answers quickly: two attempts, short waits, not a sync's patience.
            connector.settings = connector.settings.model_copy(
                update={"max_attempts": 2, "max_retry_delay_s": 2.0}
            )
            seen = connector.check()
        except (ConnectorError, SettingsError) as exc:
            failed += 1
            print(f"FAIL  {platform}: {exc}")
            continue
        except OSError as exc:  # refused connection, DNS: the source is unreachable
            failed += 1
            print(f"FAIL  {platform}: cannot reach {connector.base_url} ({type(exc).__name__})")
            continue
        print(f"ok    {platform}: {seen} ({connector.base_url})")
    return 1 if failed else 0


def cmd_sync(args: argparse.Namespace) -> int:
    from connectors.framework.errors import ConnectorError, SettingsError
    from connectors.framework.runtime import build_connector
    from connectors.framework.sync import FULL, INCREMENTAL, sync_connector
    from pipelines.cli_landing import quota_checked_zone
    from pipelines.instance import instance, register_tenant

    platforms = _platforms(args.tenant, args.platform)
    if platforms is None:
        return 2
    zone = quota_checked_zone(args.tenant)
    if zone is None:
        return 2
    today = args.until + timedelta(days=1) if args.until else None
    status = 0
    for platform in platforms:
        try:
            connector = build_connector(args.tenant, platform, today=today)
            report = sync_connector(
                connector,
                zone,
                streams=[args.stream] if args.stream else None,
                mode=FULL if args.full else INCREMENTAL,
                restart=args.restart,
            )
        except (ConnectorError, SettingsError, KeyError) as exc:
            print(f"error: {platform}: {exc}", file=sys.stderr)
            status = 1
            continue
        print(report.format())
    if status == 0:
        register_tenant(instance(), args.tenant)
    return status


def cmd_status(args: argparse.Namespace) -> int:
    from connectors.framework.state import StateStore
    from connectors.registry import CONNECTORS
    from warehouse.landing import configured_zone

    platforms = _platforms(args.tenant, None)
    if platforms is None:
        return 2
    store = StateStore(configured_zone())
    for platform in platforms:
        for stream in CONNECTORS[platform].streams:
            state = store.load(args.tenant, platform, stream.name)
            running = ""
            if state.run is not None:
                running = (
                    f", interrupted run {state.run.run_id}: {len(state.run.done)} of "
                    f"{len(state.run.slices)} slices landed (the next sync resumes it)"
                )
            print(
                f"{platform}/{stream.name}: cursor {state.cursor or '-'}, last success "
                f"{state.last_success_at or 'never'}{running}"
            )
    return 0


def cmd_set_secret(args: argparse.Namespace) -> int:
    """Store a credential read from standard input (never from the command line)."""
    from warehouse.secrets import InvalidSecret, SecretStoreError, put_tenant_secret

    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        print("error: no value on standard input", file=sys.stderr)
        return 2
    try:
        where = put_tenant_secret(args.tenant, args.name, value.encode(), credential=True)
    except (InvalidSecret, SecretStoreError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"stored {args.name} of tenant {args.tenant} in {where}")
    return 0


def register_connector_commands(sub: argparse._SubParsersAction) -> None:
    connectors = sub.add_parser(
        "connectors", help="hosting-platform connectors (docs/user/connectors.md)"
    )
    group = connectors.add_subparsers(dest="connectors_command", required=True)

    check = group.add_parser("check", help="test a tenant's connector settings and credentials")
    check.add_argument("--tenant", required=True, type=tenant_arg)
    check.add_argument("--platform", help="only this connector")
    check.set_defaults(func=cmd_check)

    sync = group.add_parser("sync", help="land what a tenant's connectors have new")
    sync.add_argument("--tenant", required=True, type=tenant_arg)
    sync.add_argument("--platform", help="only this connector")
    sync.add_argument("--stream", help="only this stream (episodes, host_downloads_daily, ...)")
    sync.add_argument("--full", action="store_true", help="from the start date, not the cursor")
    sync.add_argument(
        "--restart", action="store_true", help="start over instead of resuming an interrupted run"
    )
    sync.add_argument("--until", type=_day, help="last day to ask for (default yesterday)")
    sync.set_defaults(func=cmd_sync)

    status = group.add_parser("status", help="cursor, last success and interrupted runs")
    status.add_argument("--tenant", required=True, type=tenant_arg)
    status.set_defaults(func=cmd_status)

    secret = group.add_parser(
        "set-secret", help="store a connector credential read from standard input"
    )
    secret.add_argument("--tenant", required=True, type=tenant_arg)
    secret.add_argument("--name", required=True, help="secret name, e.g. buzzsprout_api_token")
    secret.set_defaults(func=cmd_set_secret)
