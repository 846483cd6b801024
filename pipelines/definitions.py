"""The Earshot code location: every stage's assets, checks, jobs and resources."""

from __future__ import annotations

import dagster as dg

from pipelines.assets.connectors import GROUP as CONNECTOR_GROUP
from pipelines.assets.connectors import connector_assets, sync_jobs
from pipelines.assets.ingest import landed_files
from pipelines.assets.ml import GROUP as ML_GROUP
from pipelines.assets.ml import ml_assets
from pipelines.assets.raw import raw_tables
from pipelines.assets.serving import ALERTS_KEY, EXPORT_KEY, REPORT_KEY, serving_assets
from pipelines.assets.serving import GROUP as SERVING_GROUP
from pipelines.assets.transform import earshot_dbt_models
from pipelines.checks.landing import landing_checks
from pipelines.connector_automation import connector_sensors
from pipelines.resources import build_resources
from pipelines.serving_automation import ALERTS_JOB, EXPORT_JOB, REPORT_JOB, serving_sensors
from pipelines.webhook_automation import webhook_arrivals

# Everything for one tenant: land the inbox, load raw, build and test every dbt model. The
# connectors sync on their own schedule (sync_<platform> jobs); raw loads what they landed. The
# models train in their own job: a retrain is heavier than a day's load and runs on its own
# cadence, and a candidate losing to its baseline must not fail the tenant's data run.
tenant_pipeline = dg.define_asset_job(
    name="tenant_pipeline",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.groups(CONNECTOR_GROUP)
    - dg.AssetSelection.groups(ML_GROUP)
    - dg.AssetSelection.groups(SERVING_GROUP),
    description="Land, load and transform one tenant (partition = tenant id).",
)
tenant_ml = dg.define_asset_job(
    name="tenant_ml",
    selection=dg.AssetSelection.groups(ML_GROUP),
    description="Train, gate and score every ML model for one tenant (partition = tenant id).",
)
# Serving: each on its own tenant's cron and time zone (serving_schedule), and on demand.
tenant_report = dg.define_asset_job(
    name=REPORT_JOB,
    selection=dg.AssetSelection.assets(REPORT_KEY),
    description="Build the tenant's weekly report and send it (partition = tenant id).",
)
tenant_export = dg.define_asset_job(
    name=EXPORT_JOB,
    selection=dg.AssetSelection.assets(EXPORT_KEY),
    description="Export the tenant's marts to its S3 prefix (partition = tenant id).",
)
tenant_alerts = dg.define_asset_job(
    name=ALERTS_JOB,
    selection=dg.AssetSelection.assets(ALERTS_KEY),
    description="Raise and send the tenant's alerts (partition = tenant id).",
)

defs = dg.Definitions(
    assets=[
        landed_files,
        *connector_assets,
        raw_tables,
        earshot_dbt_models,
        *ml_assets,
        *serving_assets,
    ],
    asset_checks=landing_checks,
    jobs=[
        tenant_pipeline,
        tenant_ml,
        tenant_report,
        tenant_export,
        tenant_alerts,
        *sync_jobs.values(),
    ],
    sensors=[*connector_sensors, webhook_arrivals, *serving_sensors],
    resources=build_resources(),
)
