"""`earshot ingest logs`: land CDN and host download logs (docs/user/log-import.md).

Registered by ``register_log_commands(ingest_subparsers)`` with the subparsers of
``earshot ingest`` (pipelines/cli.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.cli_args import tenant_arg

# connectors.logs.FORMATS by name, written out so that every `earshot` command does not import
# DuckDB to build its parser (tests/unit/logs/test_cli.py keeps the two equal).
FORMAT_NAMES = ("combined", "combined_range", "cloudfront", "s3", "jsonl")


def cmd_ingest_logs(args: argparse.Namespace) -> int:
    from connectors.logs import EpisodeRuleError, import_logs
    from pipelines.cli_landing import finish_import, quota_checked_zone
    from pipelines.instance import instance, register_tenant

    files = [Path(f) for f in args.files]
    not_files = [str(f) for f in files if not f.is_file()]
    if not_files:
        print(f"error: not a file: {', '.join(not_files)}; nothing was landed", file=sys.stderr)
        return 2
    zone = quota_checked_zone(args.tenant)
    if zone is None:
        return 2
    try:
        report = import_logs(
            args.tenant,
            files,
            zone,
            args.format,
            episode_pattern=args.episode_pattern,
            episode_map=Path(args.episode_map) if args.episode_map else None,
        )
    except EpisodeRuleError as exc:
        print(f"error: {exc}; nothing was landed", file=sys.stderr)
        return 2
    register_tenant(instance(), args.tenant)
    return finish_import(args.tenant, report, zone, "lines")


def register_log_commands(ingest_subparsers: argparse._SubParsersAction) -> None:
    """Add ``logs`` to the subcommands of ``earshot ingest``."""
    logs = ingest_subparsers.add_parser(
        "logs",
        help="land CDN and host download logs (docs/user/log-import.md)",
        description=(
            "Land download logs as download_requests: nginx/Apache combined logs, CloudFront "
            "standard logs, S3 server access logs or a JSON-lines impression export. Plain or "
            "gzip files. Malformed lines are quarantined with their line number; lines that "
            "are not downloads are skipped and counted."
        ),
    )
    logs.add_argument("--tenant", required=True, type=tenant_arg)
    logs.add_argument(
        "--format",
        required=True,
        choices=FORMAT_NAMES,
        help="combined_range: combined with a trailing quoted Range field ($http_range)",
    )
    logs.add_argument(
        "--episode-pattern",
        metavar="REGEX",
        help="regular expression with one group (the episode id), searched in the URL path; "
        "lines whose path does not match are skipped (default: the last path segment "
        "without extension)",
    )
    logs.add_argument(
        "--episode-map",
        metavar="CSV",
        help="CSV file with the columns url_path,episode_id; paths not in it are quarantined",
    )
    logs.add_argument("files", nargs="+", metavar="FILE", help="log files (.gz is fine)")
    logs.set_defaults(func=cmd_ingest_logs)
