"""A run for one tenant cannot write another's landing prefix or rows, nor overlap its own runs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.execution import TenantRunInProgress, tenant_run_lock
from warehouse.entities import ENTITIES
from warehouse.landing import LandingZone, TenantScopeError


def _campaigns() -> pa.Table:
    schema = ENTITIES["campaigns"].schema
    row = {f.name: None for f in schema}
    row.update({"campaign_id": "c1", "name": "Spring"})
    return pa.Table.from_pylist([row], schema=schema)


def test_a_zone_bound_to_a_tenant_refuses_other_prefixes(tmp_path: Path):
    zone = LandingZone(tmp_path, tenant_scope="tenant_alpha")
    zone.write_batch("tenant_alpha", "files", "campaigns", _campaigns(), cursor="c")
    with pytest.raises(TenantScopeError, match="bound to tenant tenant_alpha"):
        zone.write_batch("tenant_beta", "files", "campaigns", _campaigns(), cursor="c")
    with pytest.raises(TenantScopeError):
        zone.delete_tenant("tenant_beta")
    # Nothing was written under the other tenant.
    assert not (tmp_path / "tenant_beta").exists()
    assert len(zone.files("tenant_alpha", "files", "campaigns")) == 1


def test_one_run_per_tenant_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EARSHOT_HOME", str(tmp_path))
    with tenant_run_lock("tenant_alpha"):
        busy = pytest.raises(TenantRunInProgress, match="tenant_alpha already has a run")
        with busy, tenant_run_lock("tenant_alpha"):
            pass
        # Another tenant runs alongside.
        with tenant_run_lock("tenant_beta"):
            pass
    # Released when the holder ends.
    with tenant_run_lock("tenant_alpha"):
        pass


def test_the_run_queue_allows_one_run_per_tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EARSHOT_HOME", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    from pipelines.instance import instance

    inst = instance()
    limits = inst.get_concurrency_config().run_queue_config.tag_concurrency_limits
    per_tenant = {"applyLimitPerUniqueValue": True}
    assert {"key": "dagster/partition", "value": per_tenant, "limit": 1} in limits
