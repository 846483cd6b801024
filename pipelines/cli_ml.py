"""`earshot ml ...`: train, gate and score a tenant's models; list the registry."""

from __future__ import annotations

import argparse
import json

from pipelines.cli_args import tenant_arg


def cmd_ml_run(args: argparse.Namespace) -> int:
    from pipelines.execution import run_tenant_ml

    outcome = run_tenant_ml(args.tenant, log_level="INFO" if args.verbose else "CRITICAL")
    print(outcome.format())
    _print_versions(args.tenant, None, latest_only=True)
    return 0 if outcome.success else 1


def cmd_ml_models(args: argparse.Namespace) -> int:
    found = _print_versions(args.tenant, args.model, latest_only=not args.all)
    if not found:
        print(f"no model versions for tenant {args.tenant}: run `earshot ml run --tenant ...`")
        return 1
    return 0


def _print_versions(tenant_id: str, model: str | None, latest_only: bool) -> int:
    from models_ml.artefacts import artefact_store
    from models_ml.registry import ModelRegistry
    from warehouse.connection import connect

    with connect(read_only=True) as wh:
        versions = ModelRegistry(wh, artefact_store(), read_only=True).versions(tenant_id, model)
    if latest_only:
        versions = list({v.model_name: v for v in versions}.values())
    for v in versions:
        state = "promoted" if v.promoted else "NOT promoted"
        print(
            f"{v.model_version:<22} {state:<13} trained {v.trained_at:%Y-%m-%d %H:%M}"
            f" on {v.data_start}..{v.data_end} ({v.training_rows} rows): {v.verdict}"
        )
        print(f"    metrics {json.dumps(v.metrics, sort_keys=True)}")
        print(f"    {v.baseline_name} baseline {json.dumps(v.baseline_metrics, sort_keys=True)}")
    return len(versions)


def register_ml_commands(sub: argparse._SubParsersAction) -> None:
    ml = sub.add_parser("ml", help="train, gate and score the ML models (docs/user/ml.md)")
    ml_sub = ml.add_subparsers(dest="ml_command", required=True)
    run = ml_sub.add_parser("run", help="train every model, promote those beating their baseline")
    run.add_argument("--tenant", required=True, type=tenant_arg)
    run.add_argument("--verbose", action="store_true", help="show Dagster's log")
    run.set_defaults(func=cmd_ml_run)
    models = ml_sub.add_parser("models", help="the registry: versions, metrics, promotion")
    models.add_argument("--tenant", required=True, type=tenant_arg)
    models.add_argument("--model", help="one model family (churn, roi, ...)")
    models.add_argument("--all", action="store_true", help="every version, not only the newest")
    models.set_defaults(func=cmd_ml_models)
