"""The Earshot code location: every stage's assets, checks, jobs and resources."""

from __future__ import annotations

import dagster as dg

from pipelines.assets.ingest import landed_files
from pipelines.assets.raw import raw_tables
from pipelines.assets.transform import earshot_dbt_models
from pipelines.checks.landing import landing_checks
from pipelines.resources import build_resources

# Everything for one tenant: land the inbox, load raw, build and test every dbt model.
tenant_pipeline = dg.define_asset_job(
    name="tenant_pipeline",
    selection=dg.AssetSelection.all(),
    description="Land, load and transform one tenant (partition = tenant id).",
)

defs = dg.Definitions(
    assets=[landed_files, raw_tables, earshot_dbt_models],
    asset_checks=landing_checks,
    jobs=[tenant_pipeline],
    resources=build_resources(),
)
