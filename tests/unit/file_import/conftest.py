from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.landing import LandingZone


@pytest.fixture
def zone(tmp_path: Path) -> LandingZone:
    return LandingZone(tmp_path / "landing")


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    return folder
