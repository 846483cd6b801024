"""Command line: ``python -m connectors.simulator --tenant T --out DIR --preset demo``."""

from __future__ import annotations

import argparse
import resource
import sys
from datetime import date
from pathlib import Path

from connectors.simulator.config import WorldConfig, demo, for_requests, tiny
from connectors.simulator.export import FORMATS
from connectors.simulator.simulation import simulate


def _config(args: argparse.Namespace) -> WorldConfig:
    dates = {}
    if args.start:
        dates["start_date"] = date.fromisoformat(args.start)
    if args.end:
        dates["end_date"] = date.fromisoformat(args.end)
    if args.preset == "tiny":
        return tiny(seed=args.seed, tenant_id=args.tenant, **dates)
    if args.preset == "demo":
        return demo(seed=args.seed, tenant_id=args.tenant, **dates)
    if args.requests is None:
        raise SystemExit("--preset requests needs --requests N")
    return for_requests(args.requests, seed=args.seed, tenant_id=args.tenant, **dates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.simulator",
        description="Write a simulated tenant's export files and ground truth.",
    )
    parser.add_argument("--tenant", required=True, help="tenant id (also seeds the world)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--preset", choices=["tiny", "demo", "requests"], default="demo")
    parser.add_argument("--requests", type=int, help="download requests for --preset requests")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=FORMATS, default="parquet", dest="file_format")
    parser.add_argument("--start", help="first day of the period, YYYY-MM-DD")
    parser.add_argument("--end", help="last day of the period, YYYY-MM-DD")
    args = parser.parse_args(argv)
    try:
        config = _config(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = simulate(config, args.out, args.file_format)
    print(summary.describe())
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
