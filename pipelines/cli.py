"""`earshot`: the command line of the platform."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipelines.cli_args import tenant_arg


def cmd_ingest_files(args: argparse.Namespace) -> int:
    from connectors.files import import_directory
    from pipelines.cli_landing import finish_import, quota_checked_zone
    from pipelines.instance import instance, register_tenant

    directory = Path(args.directory)
    if not directory.is_dir():
        print(f"error: {directory} is not a folder", file=sys.stderr)
        return 2
    zone = quota_checked_zone(args.tenant)
    if zone is None:
        return 2
    report = import_directory(args.tenant, directory, zone)
    register_tenant(instance(), args.tenant)
    return finish_import(args.tenant, report, zone, "rows")


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.execution import run_tenant

    outcome = run_tenant(
        args.tenant,
        Path(args.source_dir) if args.source_dir else None,
        log_level="INFO" if args.verbose else "CRITICAL",
    )
    print(outcome.format())
    return 0 if outcome.success else 1


def cmd_report_campaigns(args: argparse.Namespace) -> int:
    from pipelines.campaign_table import campaign_rows, format_campaign_table
    from warehouse.connection import connect

    with connect(read_only=True) as wh:
        rows = campaign_rows(wh, args.tenant)
    if not rows:
        hint = f"earshot run --tenant {args.tenant}"
        print(f"no campaign results for tenant {args.tenant}: run `{hint}`")
        return 1
    print(format_campaign_table(rows))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.demo import run_demo

    return run_demo([tenant_arg(t) for t in args.tenants.split(",")], preset=args.preset)


def cmd_validate(args: argparse.Namespace) -> int:
    from attribution_validation.cli import run_from_args

    return run_from_args(args)


def cmd_ui(args: argparse.Namespace) -> int:
    from pipelines.instance import dagster_home

    dagster_home()
    root = Path(__file__).resolve().parent.parent
    dagster = Path(sys.executable).parent / "dagster"
    os.execv(
        str(dagster),
        [
            str(dagster),
            "dev",
            "-w",
            str(root / "workspace.yaml"),
            "-h",
            args.host,
            "-p",
            str(args.port),
        ],
    )
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="earshot",
        description="Warehouse-native measurement and attribution for podcast advertising.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="land data from a source")
    ingest_sub = ingest.add_subparsers(dest="source", required=True)
    files = ingest_sub.add_parser(
        "files", help="land CSV or Parquet export files (docs/user/file-import.md)"
    )
    files.add_argument("--tenant", required=True, type=tenant_arg)
    files.add_argument("directory", help="folder holding <entity>.csv|.parquet files")
    files.set_defaults(func=cmd_ingest_files)
    from pipelines.cli_logs import register_log_commands

    register_log_commands(ingest_sub)

    run = sub.add_parser("run", help="materialize every stage for one tenant through Dagster")
    run.add_argument("--tenant", required=True, type=tenant_arg)
    run.add_argument("--source-dir", help="land files from here instead of the tenant's inbox")
    run.add_argument("--verbose", action="store_true", help="show Dagster's and dbt's log")
    run.set_defaults(func=cmd_run)

    report = sub.add_parser(
        "report", help="a tenant's weekly report (--tenant, --week); or print campaign results"
    )
    report_sub = report.add_subparsers(dest="report", required=False)
    campaigns = report_sub.add_parser("campaigns", help="per-campaign table, six models")
    campaigns.add_argument("--tenant", required=True, type=tenant_arg)
    campaigns.set_defaults(func=cmd_report_campaigns)

    demo = sub.add_parser("demo", help="simulate tenants and run the whole pipeline")
    demo.add_argument("--tenants", default="acme_audio,globex_goods")
    demo.add_argument("--preset", default="demo", choices=["tiny", "demo"])
    demo.set_defaults(func=cmd_demo)

    validate = sub.add_parser(
        "validate", help="judge every attribution model on simulated worlds with known truth"
    )
    validate.add_argument("--worlds", type=int, help="the first N scenarios (default 3)")
    validate.add_argument("--scenario", action="append", help="a scenario by name (repeatable)")
    validate.add_argument("--preset", default="demo", choices=["tiny", "demo"])
    validate.add_argument("--seed", type=int, default=0)
    validate.add_argument("--bootstrap", type=int, default=1000, help="household resamples")
    validate.add_argument("--run-id", help="rows to replace (default <preset>_seed<seed>)")
    validate.set_defaults(func=cmd_validate)

    ui = sub.add_parser("ui", help="start the Dagster UI on this project")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)

    from pipelines.cli_connectors import register_connector_commands
    from pipelines.cli_ml import register_ml_commands
    from pipelines.cli_serving import register_serving_commands
    from pipelines.cli_subjects import register_subject_commands
    from pipelines.cli_tenancy import register_cli
    from pipelines.cli_tenants import register_tenant_commands
    from pipelines.cli_webhooks import register_webhook_commands

    register_tenant_commands(register_cli(sub))
    register_subject_commands(sub)
    register_connector_commands(sub)
    register_webhook_commands(sub)
    register_ml_commands(sub)
    register_serving_commands(sub, report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
