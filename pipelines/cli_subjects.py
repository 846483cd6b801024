"""`earshot subject show|erase`: data-subject access and erasure by IP address.

Registered by ``register_subject_commands(subparsers)`` with earshot's top-level subparsers
(pipelines/cli.py). See docs/user/data-subjects.md. The address given is matched by network
(an IPv4 address, or the IPv6 /64 it belongs to) and is never printed back, logged or audited:
output and audit log carry the network's pseudonym (``network_key``) only.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from pipelines.cli_args import tenant_arg

if TYPE_CHECKING:
    from warehouse.data_subjects import RewrittenFile


def _run(args: argparse.Namespace, erase: bool) -> int:
    from warehouse.connection import connect
    from warehouse.data_subjects import MalformedAddress, erase_subject, subject_report
    from warehouse.landing import configured_zone
    from warehouse.secrets import InvalidSecret, SecretNotFound, SecretStoreError

    try:
        zone = configured_zone(tenant_scope=args.tenant)
        with connect() as wh:
            if erase:
                report = erase_subject(wh, zone, args.tenant, args.ip, args.reason)
            else:
                report = subject_report(wh, zone, args.tenant, args.ip)
    except MalformedAddress as exc:
        print(f"error: --ip: {exc}", file=sys.stderr)
        return 2
    except (SecretNotFound, InvalidSecret, SecretStoreError) as exc:
        # These messages name where the key was looked for, never its value.
        print(
            f"error: the pseudonymisation key of tenant {args.tenant} is needed to find the "
            f"address's rows: {exc}",
            file=sys.stderr,
        )
        return 1
    if erase:
        _carry_validation(args.tenant, report.rewritten)
    print(report.format())
    return 0


def _carry_validation(tenant_id: str, files: list[RewrittenFile]) -> None:
    """Keep the landing checks' verdict on files the erasure rewrote.

    The checks' ledger fingerprints a validated file by its size, so a rewritten file would be
    validated again, alone, and fail the suites' batch-level expectations (freshness, volume)
    that held for the file's original rows. The rows left are a subset of rows that passed, so a
    file that was validated before stays validated; a file not yet validated stays pending.
    """
    from pipelines.checks.landing import _read_ledger, _write_ledger, ledger_path_for

    by_ledger: dict[tuple[str, str], list[RewrittenFile]] = {}
    for file in files:
        # Places of landed rows are landing/<source>/<entity>; quarantine files have no suite.
        parts = file.place.split("/")
        if len(parts) == 3 and not parts[1].startswith("_"):
            by_ledger.setdefault((parts[1], parts[2]), []).append(file)
    for (source, entity), rewritten in by_ledger.items():
        path = ledger_path_for(tenant_id, source, entity)
        ledger = _read_ledger(path)
        changed = False
        for file in rewritten:
            if ledger.get(file.key) != str(file.old_size):
                continue
            if file.new_size is None:
                del ledger[file.key]
            else:
                ledger[file.key] = str(file.new_size)
            changed = True
        if changed:
            _write_ledger(path, ledger)


def cmd_subject_show(args: argparse.Namespace) -> int:
    return _run(args, erase=False)


def cmd_subject_erase(args: argparse.Namespace) -> int:
    if not args.yes:
        print(
            f"error: this deletes, from tenant {args.tenant}'s landed files and warehouse, every "
            "row of the address's household (the IPv4 address, or every address of its IPv6 "
            "/64); add --yes to confirm (earshot subject show lists them first)",
            file=sys.stderr,
        )
        return 2
    return _run(args, erase=True)


def register_subject_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add the `subject` command group (show, erase) to earshot's top-level subparsers."""
    subject = subparsers.add_parser(
        "subject",
        help="data-subject requests by IP address: what is held, erasure "
        "(docs/user/data-subjects.md)",
    )
    subject_sub = subject.add_subparsers(dest="subject_command", required=True)
    ip_help = (
        "the client address (IPv4 or IPv6, any notation); matched by network: an IPv6 address "
        "stands for its whole /64"
    )

    show = subject_sub.add_parser(
        "show", help="count the rows held about an address's household, per place (audited)"
    )
    show.add_argument("--tenant", required=True, type=tenant_arg)
    show.add_argument("--ip", required=True, help=ip_help)
    show.set_defaults(func=cmd_subject_show)

    erase = subject_sub.add_parser(
        "erase",
        help="delete every row of an address's household from the landing zone and the "
        "warehouse (audited)",
    )
    erase.add_argument("--tenant", required=True, type=tenant_arg)
    erase.add_argument("--ip", required=True, help=ip_help)
    erase.add_argument("--yes", action="store_true", help="confirm the erasure")
    erase.add_argument(
        "--reason",
        help="why (e.g. the request's reference), kept in the audit log; no personal data",
    )
    erase.set_defaults(func=cmd_subject_erase)
