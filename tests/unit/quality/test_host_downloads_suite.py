"""The landing suite of host-reported daily downloads, run on landed batches."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.quality import validate_landed_batches
from tests.unit.quality.batches import land
from warehouse.landing import LandingZone

ENTITY = "host_downloads_daily"


@pytest.fixture
def zone(tmp_path: Path) -> LandingZone:
    return LandingZone(tmp_path / "landing")


def _rows(downloads: list[int | None], episode: list[str | None] | None = None) -> dict:
    n = len(downloads)
    return {
        "platform": ["buzzsprout"] * n,
        "show_id": ["s1"] * n,
        "episode_id": episode or [f"e{i}" for i in range(n)],
        "date": pa.array([date(2026, 3, 1 + i) for i in range(n)], pa.date32()),
        "downloads": pa.array(downloads, pa.int64()),
        "reported_at": pa.array([datetime(2026, 3, 2 + i, 6) for i in range(n)]),
    }


def test_a_good_host_report_passes(zone: LandingZone) -> None:
    outcome = validate_landed_batches(ENTITY, land(zone, ENTITY, _rows([120, 0, 95, 7])))
    assert outcome.success, outcome.message
    assert outcome.rows == 4


def test_negative_downloads_and_missing_keys_fail(zone: LandingZone) -> None:
    rows = _rows([120, -3, 95, None], episode=["e1", None, "e3", "e4"])
    outcome = validate_landed_batches(ENTITY, land(zone, ENTITY, rows))
    assert not outcome.success
    failed = sorted((f.expectation_type, f.column) for f in outcome.failures)
    assert failed == [
        ("expect_column_values_to_be_between", "downloads"),
        ("expect_column_values_to_not_be_null", "downloads"),
        ("expect_column_values_to_not_be_null", "episode_id"),
    ]
