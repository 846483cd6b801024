"""The arguments of `earshot validate`, turned into a validation run."""

from __future__ import annotations

import argparse
import sys


def run_from_args(args: argparse.Namespace) -> int:
    from attribution_validation.runner import run_validation
    from attribution_validation.worlds import select_scenarios

    try:
        scenarios = select_scenarios(args.scenario, args.worlds)
        if args.seed < 0:
            raise ValueError(f"--seed must be >= 0, got {args.seed}")
        if args.bootstrap < 1:
            raise ValueError(f"--bootstrap must be >= 1, got {args.bootstrap}")
        run_id = args.run_id or f"{args.preset}_seed{args.seed}"
        return run_validation(scenarios, args.preset, args.seed, args.bootstrap, run_id)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
