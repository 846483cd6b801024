"""What the connector unit tests share: a landing zone, and reading back what landed in it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from warehouse.landing import LandingZone


@pytest.fixture
def zone(tmp_path: Path) -> LandingZone:
    return LandingZone(tmp_path / "landing")


def landed_rows(zone: LandingZone, tenant: str, platform: str, entity: str) -> list[dict[str, Any]]:
    """Every row landed for ``entity`` (none when nothing landed yet)."""
    if not zone.files(tenant, platform, entity):
        return []
    return zone.read(tenant, platform, entity).to_pylist()


def landed_downloads(zone: LandingZone, tenant: str, platform: str) -> dict[tuple[str, date], int]:
    """(episode id, day) -> downloads, the figure landed last for each."""
    rows = sorted(
        landed_rows(zone, tenant, platform, "host_downloads_daily"),
        key=lambda r: r["_extracted_at"],
    )
    return {(r["episode_id"], r["date"]): r["downloads"] for r in rows}
