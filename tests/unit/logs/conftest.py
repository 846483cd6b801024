from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.landing import LandingZone


@pytest.fixture
def zone(tmp_path: Path) -> LandingZone:
    return LandingZone(tmp_path / "landing")
