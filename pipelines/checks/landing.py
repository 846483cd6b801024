"""Blocking checks on landed batches: each entity's Great Expectations suite.

Only batches not yet validated are read (a ledger per tenant and entity remembers which passed),
so a check costs in proportion to what arrived, not to everything ever landed. A batch that fails
stays failing until it is replaced or removed, and every run until then stops before `raw`.
"""

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from connectors.registry import CONNECTORS
from pipelines.assets.connectors import connector_key
from pipelines.assets.ingest import SOURCE, landing_key
from pipelines.partitions import tenant_partitions
from pipelines.resources import LandingResource
from warehouse.entities import ENTITIES
from warehouse.settings import paths

CHECK_NAME = "expectation_suite"


def _ledger_path(tenant_id: str, owner: str, entity: str) -> Path:
    return paths().home / "state" / "validated" / tenant_id / owner / f"{entity}.json"


def ledger_path_for(tenant_id: str, source: str, entity: str) -> Path:
    """The ledger that remembers the verdicts on ``source``'s landed ``entity`` batches: the
    connector's own for an API connector, the file-import asset's for every other source."""
    return _ledger_path(tenant_id, source if source in CONNECTORS else SOURCE, entity)


def _read_ledger(path: Path) -> dict[str, str]:
    return json.loads(path.read_text()) if path.exists() else {}


def _write_ledger(path: Path, ledger: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(ledger, indent=1, sort_keys=True))
    tmp.replace(path)


def _make_check(
    entity: str, asset: dg.AssetKey, owner: str, owns: Callable[[str], bool]
) -> dg.AssetChecksDefinition:
    """The suite of ``entity`` on the landed batches of the sources ``owns`` accepts.

    ``owner`` names the asset's ledger: the file-import asset checks every source that is not
    an API connector (file exports, each log format); each connector asset its own platform.
    """

    @dg.asset_check(
        asset=asset,
        name=CHECK_NAME,
        blocking=True,
        partitions_def=tenant_partitions,
        description=(
            f"Great Expectations suite `{entity}` (pipelines/quality/suites) on every landed "
            "batch not yet validated: schema, nulls, ranges, freshness, volume."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, landing: LandingResource):
        from pipelines.quality import validate_landed_batches

        tenant_id = context.partition_key
        zone = landing.zone(tenant_scope=tenant_id)
        storage = zone.storage
        # A batch's key is its content hash; the size tells a batch re-landed with new lineage
        # columns (a later extraction time) from the one validated before. Raw loads every
        # source of the entity, so every source is checked by the asset that lands it.
        sizes: dict[str, int] = {}
        for source, landed_entity in zone.entities(tenant_id):
            if landed_entity == entity and owns(source):
                sizes.update(storage.sizes(f"{tenant_id}/{source}/{entity}"))
        files = [key for key in sorted(sizes) if key.endswith(".parquet")]
        fingerprints = {key: str(sizes[key]) for key in files}
        ledger_file = _ledger_path(tenant_id, owner, entity)
        ledger = _read_ledger(ledger_file)
        pending = [key for key in files if ledger.get(key) != fingerprints[key]]
        if not pending:
            return dg.AssetCheckResult(
                passed=True, metadata={"batches_checked": 0, "batches_total": len(files)}
            )
        with storage.local_paths(pending) as local_files:
            outcome = validate_landed_batches(entity, local_files)
        meta = {
            "batches_checked": len(pending),
            "batches_total": len(files),
            "table": f"landing {tenant_id}/*/{entity}",
        }
        if outcome.success:
            ledger.update({key: fingerprints[key] for key in pending})
            # Forget batches that no longer exist (replaced by a re-landing).
            ledger = {k: v for k, v in ledger.items() if k in fingerprints}
            _write_ledger(ledger_file, ledger)
            return dg.AssetCheckResult(passed=True, metadata=meta)
        context.log.error(outcome.message)
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=outcome.message[:2000],
            metadata={**meta, "failures": dg.MetadataValue.md(f"```\n{outcome.message}\n```")},
        )

    return _check


# Partitioned asset checks are a preview feature of Dagster; they are what makes a tenant's run
# check that tenant's batches, so use them and keep the warning out of every command's output.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)
    landing_checks = [
        _make_check(entity, landing_key(entity), SOURCE, lambda source: source not in CONNECTORS)
        for entity in ENTITIES
    ] + [
        _make_check(
            stream.entity,
            connector_key(cls.platform, stream.name),
            cls.platform,
            lambda source, platform=cls.platform: source == platform,
        )
        for cls in CONNECTORS.values()
        for stream in cls.streams
    ]
