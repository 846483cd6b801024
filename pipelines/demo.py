"""`make demo`: simulate tenants, run the whole pipeline through Dagster, print the results."""

from __future__ import annotations

import shutil
import time

from pipelines.execution import run_tenant, run_tenant_ml
from warehouse.connection import Warehouse
from warehouse.settings import paths, warehouse_target

# What a tenant run says when a model's columns no longer match its table
# (macros/materializations/tenant_partition.sql).
SHAPE_CHANGED = "Rebuild every tenant with `dbt build --full-refresh"


def run_demo(tenants: list[str], preset: str = "demo") -> int:
    from pipelines.demo_serving import demo_sandbox

    # Reports, exports and alerts go to local stand-ins of Slack, Discord, SMTP, a webhook and
    # S3 for the demo's duration (pipelines/demo_serving.py).
    with demo_sandbox() as sandbox:
        return _run_demo(tenants, preset, sandbox)


def _run_demo(tenants: list[str], preset: str, sandbox) -> int:
    from connectors.simulator import WorldConfig, simulate
    from pipelines.campaign_table import campaign_rows, format_campaign_table
    from pipelines.demo_serving import configure_tenant, sandbox_folder, serve_tenant, serving_lines
    from warehouse.connection import connect

    home = paths()
    print(
        f"Earshot demo: {len(tenants)} simulated tenants, warehouse {warehouse_target()}, "
        f"state in {home.home}\n"
    )
    failed = reshaped = False
    for i, tenant in enumerate(tenants):
        inbox = home.tenant_inbox(tenant)
        if inbox.exists():
            shutil.rmtree(inbox)
        config = getattr(WorldConfig, preset)(tenant_id=tenant, seed=1000 + i)
        start = time.perf_counter()
        summary = simulate(config, inbox)
        counts = ", ".join(
            f"{summary.rows(entity):,} {entity}" for entity in ("download_requests", "orders")
        )
        seconds = time.perf_counter() - start
        print(f"[{tenant}] simulated export files ({counts}) in {seconds:.1f}s")
        start = time.perf_counter()
        outcome = run_tenant(tenant)
        print(f"[{tenant}] pipeline in {time.perf_counter() - start:.1f}s")
        report = outcome.format()
        print(report)
        failed = failed or not outcome.success
        reshaped = reshaped or (not outcome.success and SHAPE_CHANGED in report)
        if outcome.success:
            start = time.perf_counter()
            learnt = run_tenant_ml(tenant)
            print(f"[{tenant}] ML models in {time.perf_counter() - start:.1f}s")
            print(learnt.format())
            failed = failed or not learnt.success
            start = time.perf_counter()
            configure_tenant(sandbox, tenant, i)
            served = serve_tenant(tenant)
            print(f"[{tenant}] report, export and alerts in {time.perf_counter() - start:.1f}s")
            for run in served.runs:
                if not run.success:
                    print(run.format())
            failed = failed or not served.success

    for tenant in tenants:
        with connect(read_only=True) as wh:
            rows = campaign_rows(wh, tenant)
            models = model_lines(wh, tenant)
        print(
            f"\n== {tenant}: campaigns (observed household matches; conversions are "
            "fractional credits) =="
        )
        print(format_campaign_table(rows) if rows else "(no results)")
        print(f"\n== {tenant}: ML models (ml.model_versions; predictions in the ml schema) ==")
        print("\n".join(models) if models else "(no models trained)")
        print(f"\n== {tenant}: report, export and alerts (docs/user/alerts.md) ==")
        print("\n".join(serving_lines(sandbox, tenant)))

    print(
        f"\nWarehouse: {home.duckdb_path if warehouse_target() == 'duckdb' else 'PostgreSQL'}"
        "\n  open it read-only with any DuckDB client and start from marts.fct_campaign_performance"
        "\n  or marts.rpt_attribution_model_comparison (docs/user/marts.md); the models'"
        " predictions are in the ml schema (docs/user/ml.md)"
        f"\nLanding zone: {home.landing}"
        f"\nReports: {home.home / 'reports'}; what Slack, Discord, the webhook and SMTP"
        f" received: {sandbox_folder()}"
        "\nDagster UI: make ui  (then open http://127.0.0.1:3000)"
    )
    if reshaped:
        # The demo's state outlived an upgrade that changed a model's columns; a tenant run never
        # re-shapes a table every tenant shares (docs/user/operating.md, "What stops a run").
        print(
            f"\nThe warehouse in {home.home} was built by an older version of Earshot (a model's "
            "columns changed). For the demo, start afresh: `make clean`, then `make demo`."
        )
    return 1 if failed else 0


def model_lines(wh: Warehouse, tenant_id: str) -> list[str]:
    """The newest version of each of the tenant's models: promoted or not, and why."""
    from models_ml.artefacts import artefact_store
    from models_ml.registry import ModelRegistry

    versions = ModelRegistry(wh, artefact_store(), read_only=True).versions(tenant_id)
    newest = {v.model_name: v for v in versions}
    return [
        f"  {v.model_version:<18} {'promoted' if v.promoted else 'NOT promoted':<13} {v.verdict}"
        for v in newest.values()
    ]
