"""`earshot validate`: simulate the scenario worlds, run the pipeline on each, judge every model.

The worlds go through the same path as `earshot demo` (simulate into the tenant's inbox, then
the Dagster tenant job), on the configured warehouse; the figures go to
validation.attribution_validations and a summary to the console.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime

import pandas as pd

from attribution_validation.worlds import Scenario


def world_params(scenario: Scenario, preset: str, seed: int) -> str:
    """The knobs that make the scenario's world, as JSON (stored on every row)."""
    config = scenario.config(preset, seed)
    keep = (
        "households", "shows", "campaigns", "effect_scale", "incremental_purchase_rate",
        "effect_spread", "response_lag_scale", "start_date", "end_date",
    )  # fmt: skip
    values = {k: v for k, v in asdict(config).items() if k in keep}
    return json.dumps({"preset": preset, **values}, default=str, sort_keys=True)


def validate_world(
    scenario: Scenario, preset: str, seed: int, samples: int, run_id: str
) -> pd.DataFrame | None:
    """Simulate, run and judge one world; its rows as written, or None when its run failed."""
    from attribution_validation import evaluate, store
    from attribution_validation.credits import read_credits
    from attribution_validation.truth import read_truth
    from connectors.simulator import simulate
    from pipelines.execution import run_tenant
    from warehouse.connection import connect
    from warehouse.settings import paths

    tenant = scenario.tenant_id
    inbox = paths().tenant_inbox(tenant)
    if inbox.exists():
        shutil.rmtree(inbox)
    started = time.perf_counter()
    summary = simulate(scenario.config(preset, seed), inbox)
    print(
        f"[{scenario.name}] simulated {summary.rows('download_requests'):,} requests, "
        f"{summary.rows('orders'):,} orders in {time.perf_counter() - started:.1f}s"
    )
    started = time.perf_counter()
    outcome = run_tenant(tenant)
    print(f"[{scenario.name}] pipeline in {time.perf_counter() - started:.1f}s")
    if not outcome.success:
        print(outcome.format(), file=sys.stderr)
        return None
    truth = read_truth(inbox)
    with connect(read_only=True) as wh:
        credits = read_credits(wh, tenant)
    started = time.perf_counter()
    rows = evaluate.evaluate_world(truth, credits, samples, seed)
    with connect() as wh:
        written = store.write_world(
            wh,
            rows,
            run_id=run_id,
            scenario=scenario.name,
            tenant_id=tenant,
            world_params=world_params(scenario, preset, seed),
            seed=seed,
            bootstrap_samples=samples,
            computed_at=datetime.now(UTC),
        )
    print(
        f"[{scenario.name}] {written:,} rows in validation.attribution_validations "
        f"(run {run_id}) in {time.perf_counter() - started:.1f}s"
    )
    return rows


def format_verdicts(scenario: str, rows: pd.DataFrame, truth_total: float) -> str:
    """The observed-scope ranking of one world, one line per model."""
    verdicts = rows[(rows["scope"] == "observed") & (rows["metric"] == "verdict")]
    acc = rows[(rows["scope"] == "observed") & rows["dimension"].isna()]
    acc = acc.pivot_table(index="model", columns="metric", values="value", aggfunc="first")
    lines = [
        f"== {scenario}: {truth_total:,.0f} true incremental orders; observed credits ==",
        f"{'rank':>4}  {'model':<16} {'WAPE':>7} {'95% CI':>17} {'MAE':>8} {'net':>7}  verdict",
    ]
    for r in verdicts.sort_values(["rank", "model"]).itertuples(index=False):
        lines.append(
            f"{int(r.rank):>4}  {r.model:<16} {r.value:>7.3f} [{r.lower:>6.3f}, {r.upper:>6.3f}] "
            f"{acc.loc[r.model, 'mae_conversions']:>8.2f} "
            f"{acc.loc[r.model, 'net_error_conversions']:>+7.2f}  {r.verdict}"
        )
    return "\n".join(lines)


def run_validation(
    scenarios: list[Scenario], preset: str, seed: int, samples: int, run_id: str
) -> int:
    from warehouse.settings import paths, validate_name, warehouse_target

    validate_name(run_id, "validation run id")
    print(
        f"Earshot validate: {len(scenarios)} worlds ({preset} preset, seed {seed}), "
        f"{samples} bootstrap resamples, warehouse {warehouse_target()}, state in {paths().home}"
    )
    failed: list[str] = []
    for scenario in scenarios:
        rows = validate_world(scenario, preset, seed, samples, run_id)
        if rows is None:
            failed.append(scenario.name)
            continue
        truth_total = (
            rows[(rows["scope"] == "observed") & (rows["metric"] == "campaign_error_conversions")]
            .drop_duplicates("group_value")["truth"]
            .sum()
        )
        print(format_verdicts(scenario.name, rows, truth_total) + "\n")
    if failed:
        print(f"the pipeline failed for {', '.join(failed)}: no verdict", file=sys.stderr)
        return 1
    print(
        f"query: select * from validation.attribution_validations where run_id = '{run_id}' "
        "and metric = 'verdict' (docs/user/choosing-a-model.md)"
    )
    return 0
