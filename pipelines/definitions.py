"""The Earshot code location: every stage's assets, checks, jobs and resources."""

from __future__ import annotations

import dagster as dg

from pipelines.assets.connectors import GROUP as CONNECTOR_GROUP
from pipelines.assets.connectors import connector_assets, sync_jobs
from pipelines.assets.ingest import landed_files
from pipelines.assets.ml import GROUP as ML_GROUP
from pipelines.assets.ml import ml_assets
from pipelines.assets.raw import raw_tables
from pipelines.assets.transform import earshot_dbt_models
from pipelines.checks.landing import landing_checks
from pipelines.connector_automation import connector_sensors
from pipelines.resources import build_resources
from pipelines.webhook_automation import webhook_arrivals

# Everything for one tenant: land the inbox, load raw, build and test every dbt model. The
# connectors sync on their own schedule (sync_<platform> jobs); raw loads what they landed. The
# models train in their own job: a retrain is heavier than a day's load and runs on its own
# cadence, and a candidate losing to its baseline must not fail the tenant's data run.
tenant_pipeline = dg.define_asset_job(
    name="tenant_pipeline",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.groups(CONNECTOR_GROUP)
    - dg.AssetSelection.groups(ML_GROUP),
    description="Land, load and transform one tenant (partition = tenant id).",
)
tenant_ml = dg.define_asset_job(
    name="tenant_ml",
    selection=dg.AssetSelection.groups(ML_GROUP),
    description="Train, gate and score every ML model for one tenant (partition = tenant id).",
)

defs = dg.Definitions(
    assets=[landed_files, *connector_assets, raw_tables, earshot_dbt_models, *ml_assets],
    asset_checks=landing_checks,
    jobs=[tenant_pipeline, tenant_ml, *sync_jobs.values()],
    sensors=[*connector_sensors, webhook_arrivals],
    resources=build_resources(),
)
