"""Run the tenant pipeline through Dagster from Python (the CLI, the demo and the tests)."""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines.instance import instance, register_tenant
from warehouse.settings import paths, validate_tenant_id

JOB_NAME = "tenant_pipeline"
ML_JOB_NAME = "tenant_ml"
# The log file of a run is <prefix>-<tenant>-<time>.log.
LOG_PREFIXES = {JOB_NAME: "run", ML_JOB_NAME: "ml"}


@dataclass
class RunOutcome:
    tenant_id: str
    run_id: str
    success: bool
    materialized: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    # Checks of severity WARN that did not pass (the reconciliation with the host's figures):
    # reported, but they block nothing and do not fail the run.
    warned_checks: list[str] = field(default_factory=list)
    log_path: Path | None = None
    # What the log file holds: dbt's output for the pipeline, the models' for the ML job.
    log_label: str = "dbt output"

    def format(self) -> str:
        lines = [
            f"tenant {self.tenant_id}: run {self.run_id} "
            f"{'succeeded' if self.success else 'FAILED'}, "
            f"{len(self.materialized)} assets materialized"
        ]
        lines += [f"  failed step: {m}" for m in self.failed_steps]
        lines += [f"  failed check: {m}" for m in self.failed_checks]
        lines += [f"  warning (check of severity WARN): {m}" for m in self.warned_checks]
        if self.log_path is not None:
            lines.append(
                f"  {self.log_label}: {self.log_path}; every event: the Dagster UI (make ui)"
            )
        return "\n".join(lines)


def run_tenant(
    tenant_id: str, source_dir: Path | None = None, log_level: str = "CRITICAL"
) -> RunOutcome:
    """Materialize every asset for one tenant: land its inbox (or `source_dir`), load, build.

    The full event log is in the Dagster instance (`make ui`); the console shows `log_level`
    and above (by default nothing: the outcome lists what failed).
    """
    inst = instance()
    register_tenant(inst, tenant_id)
    with tenant_run_lock(tenant_id):
        return _run(inst, tenant_id, source_dir, log_level)


def run_tenant_ml(tenant_id: str, log_level: str = "CRITICAL") -> RunOutcome:
    """Train, gate and score every ML model for one tenant (the `tenant_ml` job) on the marts
    its last pipeline run built."""
    inst = instance()
    register_tenant(inst, tenant_id)
    with tenant_run_lock(tenant_id):
        return _run(inst, tenant_id, None, log_level, job_name=ML_JOB_NAME)


def run_tenant_serving(
    tenant_id: str, job_name: str, ops_config: dict | None = None, log_level: str = "CRITICAL"
) -> RunOutcome:
    """Run one of the tenant's serving jobs (tenant_report, tenant_export, tenant_alerts) on the
    warehouse its last pipeline run built; ``ops_config`` is the ops' run config."""
    inst = instance()
    register_tenant(inst, tenant_id)
    with tenant_run_lock(tenant_id):
        return _run(inst, tenant_id, None, log_level, job_name=job_name, ops_config=ops_config)


class TenantRunInProgress(RuntimeError):
    """Another process is running this tenant's pipeline."""


@contextmanager
def tenant_run_lock(tenant_id: str) -> Iterator[None]:
    """Hold the tenant's run lock for the block, or raise TenantRunInProgress at once.

    Runs started from the command line execute in-process and bypass Dagster's run queue (whose
    limit of one run per tenant is in dagster.yaml), so two of them for one tenant would race on
    its landing prefix and warehouse rows. An OS file lock is released when the holder exits,
    even if it crashes, so a dead run never blocks the next one.
    """
    path = paths().home / "state" / "locks" / f"{validate_tenant_id(tenant_id)}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise TenantRunInProgress(
                f"tenant {tenant_id} already has a run in progress ({holder}); wait for it to "
                "finish, then run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(
    inst: dg.DagsterInstance,
    tenant_id: str,
    source_dir: Path | None,
    log_level: str,
    job_name: str = JOB_NAME,
    ops_config: dict | None = None,
) -> RunOutcome:
    from pipelines.definitions import defs

    run_config: dict = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if source_dir is not None:
        run_config["ops"] = {"landed_files": {"config": {"source_dir": str(source_dir)}}}
    if ops_config:
        run_config["ops"] = {**run_config.get("ops", {}), **ops_config}
    job = defs.resolve_job_def(job_name)
    # dbt's own output goes to a file unless the caller asked for the log on the console.
    quiet = log_level not in ("DEBUG", "INFO")
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    log_path = (
        paths().home / "logs" / f"{LOG_PREFIXES.get(job_name, job_name)}-{tenant_id}-{stamp}.log"
    )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log, redirect_stdout(log if quiet else sys.stdout):
        result = job.execute_in_process(
            instance=inst, partition_key=tenant_id, run_config=run_config, raise_on_error=False
        )
    outcome = _outcome(tenant_id, result)
    outcome.log_path = log_path if quiet else None
    if job_name != JOB_NAME:
        outcome.log_label = "run output"
    return outcome


def _outcome(tenant_id: str, result: dg.ExecuteInProcessResult) -> RunOutcome:
    outcome = RunOutcome(tenant_id=tenant_id, run_id=result.run_id, success=result.success)
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            outcome.materialized.append(event.asset_key.to_user_string())
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE:
            err = event.step_failure_data.error
            if err and err.cls_name == "DagsterAssetCheckFailedError":
                continue  # the failed check itself is listed below, with its reason
            message = err.message.strip() if err else "unknown error"
            outcome.failed_steps.append(f"{event.step_key}: {message}")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            if not evaluation.passed:
                key = evaluation.asset_check_key
                desc = evaluation.description or ""
                line = f"{key.asset_key.to_user_string()} / {key.name}: {desc}".strip()
                if evaluation.severity == dg.AssetCheckSeverity.WARN:
                    outcome.warned_checks.append(line.rstrip(":"))
                else:
                    outcome.failed_checks.append(line)
    if outcome.failed_checks or outcome.failed_steps:
        outcome.success = False
    return outcome
