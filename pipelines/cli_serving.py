"""`earshot report --tenant T [--week W]`, `earshot export`, `earshot alerts ...`: the serving
stage on demand (docs/user/reports.md, exports.md, alerts.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.cli_args import tenant_arg


def _log_level(args: argparse.Namespace) -> str:
    return "INFO" if getattr(args, "verbose", False) else "CRITICAL"


def cmd_report_build(args: argparse.Namespace) -> int:
    if not args.tenant:
        print("error: earshot report needs --tenant (or a subcommand: campaigns)")
        return 2
    if args.no_send:
        return _render_only(args)
    from pipelines.execution import run_tenant_serving
    from pipelines.serving_automation import REPORT_JOB
    from serving.operations import reports_dir, resolve_week
    from serving.settings import load_serving_settings

    # The week is settled here, so the run and the paths printed after it name the same one.
    try:
        week = str(resolve_week(args.week, load_serving_settings(args.tenant).timezone))
    except ValueError as exc:  # a bad --week, a bad serving section (both name the problem)
        print(f"error: {exc}")
        return 2
    config = {"serving__weekly_report": {"config": {"week": week}}}
    outcome = run_tenant_serving(args.tenant, REPORT_JOB, config, _log_level(args))
    print(outcome.format())
    folder = reports_dir(args.tenant, week)
    for name in ("report.html", "report.pdf", "report.png"):
        if (folder / name).exists():
            print(f"  {folder / name}")
    return 0 if outcome.success else 1


def _render_only(args: argparse.Namespace) -> int:
    from serving.operations import build_report_files
    from warehouse.connection import connect

    with connect(read_only=True) as wh:
        week, files = build_report_files(
            wh, args.tenant, args.week, out_dir=Path(args.out) if args.out else None
        )
    print(f"report {week} of {args.tenant} ({files.page_count} pages, not sent):")
    for path in (files.html_path, files.pdf_path, files.png_path):
        print(f"  {path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pipelines.execution import run_tenant_serving
    from pipelines.serving_automation import EXPORT_JOB

    outcome = run_tenant_serving(args.tenant, EXPORT_JOB, None, _log_level(args))
    print(outcome.format())
    return 0 if outcome.success else 1


def cmd_alerts_run(args: argparse.Namespace) -> int:
    from pipelines.execution import run_tenant_serving
    from pipelines.serving_automation import ALERTS_JOB

    outcome = run_tenant_serving(args.tenant, ALERTS_JOB, None, _log_level(args))
    print(outcome.format())
    return 0 if outcome.success else 1


def cmd_alerts_deliveries(args: argparse.Namespace) -> int:
    from serving.outbox import TABLE, ensure_deliveries_table
    from warehouse.connection import connect

    with connect() as wh:
        ensure_deliveries_table(wh)
        where = " and status = 'failed'" if args.failed else ""
        rows = wh.fetch(
            "select last_attempt_at, channel, event, status, attempts, title,"
            f" coalesce(last_error, detail, '') from {TABLE} where tenant_id = ?{where}"
            " order by last_attempt_at desc limit ?",
            [args.tenant, args.limit],
        )
    if not rows:
        print(f"no {'failed ' if args.failed else ''}deliveries for tenant {args.tenant}")
        return 0
    for at, channel, event, status, attempts, title, detail in rows:
        print(f"{at:%Y-%m-%d %H:%M} {channel:<14} {event:<6} {status:<9} x{attempts} {title}")
        if detail:
            print(f"    {detail}")
    return 1 if args.failed else 0


def register_serving_commands(
    sub: argparse._SubParsersAction, report: argparse.ArgumentParser
) -> None:
    """`report` (the existing parser: its subcommands stay), `export` and `alerts`."""
    report.add_argument("--tenant", type=tenant_arg, help="build this tenant's weekly report")
    report.add_argument("--week", help="ISO week, e.g. 2026-W47 (default: last complete week)")
    report.add_argument(
        "--no-send", action="store_true", help="only render (HTML, PDF, PNG); send nothing"
    )
    report.add_argument("--out", help="with --no-send: the folder to write into")
    report.add_argument("--verbose", action="store_true", help="show Dagster's log")
    report.set_defaults(func=cmd_report_build)

    export = sub.add_parser("export", help="export a tenant's marts to its S3 prefix")
    export.add_argument("--tenant", required=True, type=tenant_arg)
    export.add_argument("--verbose", action="store_true", help="show Dagster's log")
    export.set_defaults(func=cmd_export)

    alerts = sub.add_parser("alerts", help="raise and send alerts; the delivery log")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", required=True)
    run = alerts_sub.add_parser("run", help="evaluate the tenant's alert rules and send")
    run.add_argument("--tenant", required=True, type=tenant_arg)
    run.add_argument("--verbose", action="store_true", help="show Dagster's log")
    run.set_defaults(func=cmd_alerts_run)
    log = alerts_sub.add_parser("deliveries", help="what was sent where, and what failed")
    log.add_argument("--tenant", required=True, type=tenant_arg)
    log.add_argument("--failed", action="store_true", help="only undelivered messages")
    log.add_argument("--limit", type=int, default=50)
    log.set_defaults(func=cmd_alerts_deliveries)
