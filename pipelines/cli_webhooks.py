"""`earshot webhooks ...`: run the webhook receiver, drain its inbox, see what waits."""

from __future__ import annotations

import argparse
import logging

from pipelines.cli_args import tenant_arg


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {value}")
    return number


def cmd_serve(args: argparse.Namespace) -> int:
    from connectors.webhooks.processor import drain
    from connectors.webhooks.receiver import ReceiverConfig, serve
    from warehouse.landing import configured_zone

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    zone = configured_zone()

    def drain_once() -> None:
        for report in drain(zone, max_attempts=args.max_attempts):
            logging.getLogger("earshot.webhooks").info("drained %s", report.format())

    def announce(line: str) -> None:
        print(line, flush=True)

    serve(
        ReceiverConfig(zone=zone, public_base_url=args.public_url),
        args.host,
        args.port,
        drain=None if args.no_drain else drain_once,
        drain_interval_s=args.drain_interval,
        announce=announce,
    )
    return 0


def cmd_drain(args: argparse.Namespace) -> int:
    from connectors.webhooks.inbox import Inbox
    from connectors.webhooks.processor import drain
    from warehouse.landing import configured_zone

    zone = configured_zone()
    if args.retry_failed:
        inbox = Inbox(zone)
        for tenant in [args.tenant] if args.tenant else inbox.tenants():
            for platform in [args.platform] if args.platform else inbox.platforms(tenant):
                moved = inbox.requeue_failed(tenant, platform)
                if moved:
                    print(f"{tenant} {platform}: {moved} failed deliveries back to pending")
    reports = drain(
        zone, tenant=args.tenant, platform=args.platform, max_attempts=args.max_attempts
    )
    if not reports:
        print("nothing pending")
    for report in reports:
        print(report.format())
    return 1 if any(r.retrying or r.failed for r in reports) else 0


def cmd_status(args: argparse.Namespace) -> int:
    from connectors.webhooks.inbox import Inbox
    from warehouse.landing import configured_zone

    inbox = Inbox(configured_zone())
    counts = inbox.counts(args.tenant)
    if not counts:
        print(f"tenant {args.tenant} has received no webhook deliveries")
        return 0
    for platform, states in counts.items():
        print(
            f"{platform}: {states['pending']} pending, {states['failed']} failed, "
            f"{states['done']} done"
        )
        for item in inbox.failed(args.tenant, platform)[:5]:
            errors = item.document.get("errors") or ["-"]
            print(
                f"    failed {item.document.get('topic')} received {item.received_at} after "
                f"{item.document.get('attempts')} attempts: {errors[-1]}"
            )
    return 0


def register_webhook_commands(sub: argparse._SubParsersAction) -> None:
    webhooks = sub.add_parser("webhooks", help="the webhook receiver (docs/user/webhooks.md)")
    group = webhooks.add_subparsers(dest="webhooks_command", required=True)

    serve = group.add_parser("serve", help="receive webhooks and land them")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787, help="0: a free port (printed)")
    serve.add_argument(
        "--public-url",
        help="the address senders call, e.g. https://hooks.example.com (HubSpot signs it; "
        "default $EARSHOT_WEBHOOKS_PUBLIC_URL, else the request's own URL)",
    )
    serve.add_argument("--drain-interval", type=_positive, default=5.0, help="seconds")
    serve.add_argument("--max-attempts", type=int, default=5, help="before a delivery fails")
    serve.add_argument("--no-drain", action="store_true", help="only store; drain elsewhere")
    serve.set_defaults(func=cmd_serve)

    drain = group.add_parser("drain", help="land the pending deliveries now")
    drain.add_argument("--tenant", type=tenant_arg, help="only this tenant")
    drain.add_argument("--platform", help="only this platform")
    drain.add_argument("--max-attempts", type=int, default=5, help="before a delivery fails")
    drain.add_argument(
        "--retry-failed", action="store_true", help="move failed deliveries back to pending first"
    )
    drain.set_defaults(func=cmd_drain)

    status = group.add_parser("status", help="pending, failed and done deliveries")
    status.add_argument("--tenant", required=True, type=tenant_arg)
    status.set_defaults(func=cmd_status)
