"""Every hosting connector against its fake: the contract of docs/developer/connectors.md."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from connectors.framework.errors import ApiChangedError, CredentialsError
from connectors.framework.sync import FULL, INCREMENTAL, sync_connector
from tests.contract.cases import FIRST_DAY
from tests.contract.conftest import (
    LAST_DAY,
    TENANT,
    Setup,
    assert_check_reports_reachability_and_credentials,
    kill_sync_at,
)
from warehouse.landing import LandingZone
from warehouse.secrets import clear_cache, env_variable


def landed(setup: Setup, entity: str) -> list[dict]:
    files = setup.zone.files(TENANT, setup.case.platform, entity)
    if not files:
        return []
    return setup.zone.read(TENANT, setup.case.platform, entity).to_pylist()


def downloads(setup: Setup) -> dict[tuple[str, object], int]:
    """Landed downloads by (episode, day), the latest extraction of each."""
    rows = sorted(landed(setup, "host_downloads_daily"), key=lambda r: r["_extracted_at"])
    return {(row["episode_id"], row["date"]): row["downloads"] for row in rows}


def download_keys(setup: Setup) -> Counter:
    return Counter(
        (row["episode_id"], row["date"]) for row in landed(setup, "host_downloads_daily")
    )


def assert_catalogue_landed(setup: Setup) -> None:
    episodes = {row["episode_id"]: row for row in landed(setup, "episodes")}
    assert set(episodes) == {e.episode_id for e in setup.catalog.episodes}
    for episode in setup.catalog.episodes:
        row = episodes[episode.episode_id]
        assert row["show_id"] == episode.show_id
        assert row["title"] == episode.title
        assert row["published_at"] == episode.published_at
        assert row["duration_s"] == pytest.approx(episode.duration_s)
        assert row["_record"], "the source record is kept beside the canonical columns"


def assert_downloads_landed(setup: Setup, last=LAST_DAY) -> None:
    expected = {
        (episode, day): n
        for (episode, day), n in setup.catalog.expected_downloads(FIRST_DAY, last).items()
    }
    got = downloads(setup)
    assert got == expected
    # Landed once each: a re-fetched slice replaces its own file.
    assert max(download_keys(setup).values()) == 1


def test_full_sync_lands_exactly_what_the_platform_holds(setup: Setup) -> None:
    report = sync_connector(setup.connector(), setup.zone, mode=FULL)
    assert_catalogue_landed(setup)
    assert_downloads_landed(setup)
    by_stream = {s.stream: s for s in report.streams}
    assert by_stream["host_downloads_daily"].cursor == LAST_DAY.isoformat()
    assert report.requests > 0 and report.throttled == 0
    assert not setup.zone.quarantine_files(TENANT)


def test_incremental_sync_asks_only_for_new_days_and_takes_revisions(setup: Setup) -> None:
    sync_connector(setup.connector(), setup.zone, mode=FULL)
    before = len(setup.fake.requests_to(setup.case.downloads_path))
    # Two new days, and the host revises the last day it had reported.
    episode = setup.catalog.episodes[0].episode_id
    new_last = LAST_DAY + timedelta(days=2)
    setup.catalog.downloads[(episode, LAST_DAY + timedelta(days=1))] = 21
    setup.catalog.downloads[(episode, new_last)] = 8
    setup.catalog.downloads[(episode, LAST_DAY)] = 999

    report = sync_connector(setup.connector(until=new_last), setup.zone, mode=INCREMENTAL)

    asked = len(setup.fake.requests_to(setup.case.downloads_path)) - before
    assert 0 < asked < before, "an incremental sync asks for the recent days only"
    assert downloads(setup) == setup.catalog.expected_downloads(FIRST_DAY, new_last)
    stream = next(s for s in report.streams if s.stream == "host_downloads_daily")
    assert stream.cursor == new_last.isoformat()


def test_incremental_sync_of_nothing_new_lands_nothing_new(setup: Setup) -> None:
    sync_connector(setup.connector(), setup.zone, mode=FULL)
    files = sorted(setup.zone.entity_files(TENANT, "host_downloads_daily"))
    rows = len(landed(setup, "host_downloads_daily"))
    sync_connector(setup.connector(), setup.zone, mode=INCREMENTAL)
    assert sorted(setup.zone.entity_files(TENANT, "host_downloads_daily")) == files
    assert len(landed(setup, "host_downloads_daily")) == rows


def test_a_sync_killed_midway_resumes_without_loss_or_duplicates(setup: Setup) -> None:
    kill_sync_at(setup, setup.case.downloads_path, setup.case.kill_at, LAST_DAY)
    asked_before = len(setup.fake.requests_to(setup.case.downloads_path))
    landed_before = len(landed(setup, "host_downloads_daily"))
    assert landed_before > 0, "slices before the kill had landed"

    report = sync_connector(setup.connector(), setup.zone, mode=INCREMENTAL)

    stream = next(s for s in report.streams if s.stream == "host_downloads_daily")
    assert stream.resumed and stream.slices_skipped > 0
    assert_catalogue_landed(setup)
    assert_downloads_landed(setup)
    asked_after = len(setup.fake.requests_to(setup.case.downloads_path)) - asked_before
    # What a sync from scratch asks, measured in another landing zone.
    fresh = LandingZone(setup.home / "fresh_landing")
    sync_connector(setup.connector(), fresh, mode=FULL, streams=["host_downloads_daily"])
    from_scratch = len(setup.fake.requests_to(setup.case.downloads_path)) - (
        asked_before + asked_after
    )
    assert asked_after < from_scratch, "the slices landed before the kill were not asked again"


def test_throttling_and_server_errors_are_survived(setup: Setup) -> None:
    setup.case.throttle(setup.fake)
    setup.fake.fail_next(2, 503, setup.case.downloads_path, skip=1)
    setup.fake.malform_next(1, setup.case.downloads_path, skip=3)
    report = sync_connector(setup.connector(), setup.zone, mode=FULL)
    assert_catalogue_landed(setup)
    assert_downloads_landed(setup)
    statuses = Counter(s.status for s in setup.fake.served)
    assert statuses[503] == 2
    assert report.throttled > 0 and statuses[429] + statuses[400] + statuses[403] > 0
    assert report.server_errors == 2


def test_bad_credentials_are_a_clear_error_without_the_secret(setup: Setup, monkeypatch) -> None:
    role = next(iter(setup.case.secrets))
    wrong = "wrong-" + setup.case.secrets[role][::-1]
    monkeypatch.setenv(env_variable(TENANT, f"{setup.case.platform}_{role}"), wrong)
    clear_cache()
    with pytest.raises(CredentialsError) as failure:
        sync_connector(setup.connector(), setup.zone, mode=FULL)
    message = str(failure.value)
    assert setup.case.platform in message and wrong not in message
    assert not setup.zone.entity_files(TENANT, "episodes")


def test_a_missing_credential_names_where_it_was_looked_for(setup: Setup, monkeypatch) -> None:
    role = next(iter(setup.case.secrets))
    variable = env_variable(TENANT, f"{setup.case.platform}_{role}")
    monkeypatch.delenv(variable)
    with pytest.raises(CredentialsError, match=variable):
        setup.connector()


def test_a_changed_field_stops_the_sync_with_the_field_named(setup: Setup) -> None:
    field = setup.case.rename_episode_field(setup.fake)
    with pytest.raises(ApiChangedError, match=field):
        sync_connector(setup.connector(), setup.zone, mode=FULL, streams=["episodes"])
    assert not setup.zone.entity_files(TENANT, "episodes")


def test_connectors_check_reports_reachability_and_credentials(setup: Setup) -> None:
    assert_check_reports_reachability_and_credentials(setup)
