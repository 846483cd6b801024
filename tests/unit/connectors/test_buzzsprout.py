"""Buzzsprout beyond the generic contract: raw download rows, paging, podcast selection."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from connectors.framework.errors import ApiChangedError, ConnectorError
from connectors.framework.settings import parse_settings
from connectors.framework.sync import FULL, INCREMENTAL, sync_connector
from connectors.hosting import buzzsprout
from connectors.hosting.buzzsprout import Buzzsprout, BuzzsproutSettings
from tests.fakes.buzzsprout import FakeBuzzsprout
from tests.fakes.catalog import make_catalog
from warehouse.landing import LandingZone

TENANT = "buzz_co"
FIRST = date(2026, 10, 1)
LAST = FIRST + timedelta(days=4)


@pytest.fixture
def fake():
    with FakeBuzzsprout(make_catalog(first_day=FIRST, days=5, numeric_ids=True)) as server:
        yield server


def connector(fake: FakeBuzzsprout, **settings) -> Buzzsprout:
    values = {
        "base_url": fake.base_url,
        "start_date": FIRST.isoformat(),
        "rate_limit": {"requests": 1000, "per_seconds": 1},
        **settings,
    }
    parsed = parse_settings(BuzzsproutSettings, values, "test.yaml", "buzzsprout")
    return Buzzsprout(TENANT, parsed, {"api_token": fake.token}, today=LAST + timedelta(days=1))


def events(zone: LandingZone) -> list[dict]:
    if not zone.files(TENANT, "buzzsprout", "host_download_events"):
        return []
    return zone.read(TENANT, "buzzsprout", "host_download_events").to_pylist()


def test_raw_rows_are_off_unless_asked_for(fake: FakeBuzzsprout, tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    report = sync_connector(connector(fake), zone, mode=FULL, streams=["download_events"])
    assert events(zone) == [] and "raw_rows is off" in report.format()
    assert not [s for s in fake.served if s.path.count("/") == 4]


def test_raw_rows_land_one_row_per_download_across_pages(
    fake: FakeBuzzsprout, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(buzzsprout, "RAW_PAGE_SIZE", 7)
    zone = LandingZone(tmp_path)
    sync_connector(connector(fake, raw_rows=True), zone, mode=FULL, streams=["download_events"])
    landed = events(zone)
    per_day = Counter((r["episode_id"], r["date"]) for r in landed)
    assert per_day == Counter(fake.catalog.expected_downloads(FIRST, LAST))
    assert any(s.query.get("page") == "2" for s in fake.served), "large days are paged"
    assert {r["media_type"] for r in landed} <= {"audio", "video"}
    assert any(r["device"] == "Unknown Device" for r in landed), "the host's words are kept"
    assert all(r["_record"] and "/downloads?" in r["_source_file"] for r in landed)

    # nothing new: the same days land as the same files
    files = sorted(zone.files(TENANT, "buzzsprout", "host_download_events"))
    sync_connector(
        connector(fake, raw_rows=True), zone, mode=INCREMENTAL, streams=["download_events"]
    )
    assert sorted(zone.files(TENANT, "buzzsprout", "host_download_events")) == files


def test_raw_rows_under_an_unknown_key_are_a_changed_api(fake: FakeBuzzsprout, tmp_path: Path):
    original = fake._raw_rows

    def renamed(show_id, episode_id, request):  # type: ignore[no-untyped-def]
        response = original(show_id, episode_id, request)
        response.body["items"] = response.body.pop("downloads")
        return response

    fake._raw_rows = renamed  # type: ignore[method-assign]
    with pytest.raises(ApiChangedError, match="no list of downloads"):
        sync_connector(
            connector(fake, raw_rows=True),
            LandingZone(tmp_path),
            mode=FULL,
            streams=["download_events"],
        )


def test_only_the_chosen_podcasts_are_synced(fake: FakeBuzzsprout, tmp_path: Path) -> None:
    chosen = fake.catalog.shows[1].show_id
    zone = LandingZone(tmp_path)
    sync_connector(connector(fake, podcast_ids=[int(chosen)]), zone, mode=FULL)
    shows = {r["show_id"] for r in zone.read(TENANT, "buzzsprout", "episodes").to_pylist()}
    assert shows == {chosen}
    with pytest.raises(ConnectorError, match=r"\['999'\] of podcast_ids are not visible"):
        sync_connector(connector(fake, podcast_ids=[999]), zone, mode=FULL)
