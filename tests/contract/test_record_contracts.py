"""Every store, CRM and analytics connector against its fake: the contract of
docs/developer/connectors.md, for APIs of changing records (record_cases.py)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from connectors.framework.errors import ApiChangedError, CredentialsError
from connectors.framework.sync import FULL, INCREMENTAL, sync_connector
from tests.contract.conftest import RECORD_LAST_DAY as LAST_DAY
from tests.contract.conftest import (
    TENANT,
    RecordSetup,
    assert_check_reports_reachability_and_credentials,
    kill_sync_at,
)
from tests.contract.record_cases import key_of
from warehouse.landing import LandingZone
from warehouse.secrets import clear_cache, env_variable


def landed(setup: RecordSetup) -> list[dict[str, Any]]:
    """The rows the stream under test landed (a platform's other streams may land the same
    entity: HubSpot's contacts and deals are both leads)."""
    zone, platform, entity = setup.zone, setup.case.platform, setup.case.entity
    if not zone.files(TENANT, platform, entity):
        return []
    rows = zone.read(TENANT, platform, entity).to_pylist()
    return [r for r in rows if r["_cursor"].startswith(f"{setup.case.stream}:")]


def latest(setup: RecordSetup) -> dict[str, dict[str, Any]]:
    """The latest landed row of each key (what staging keeps)."""
    rows = sorted(landed(setup), key=lambda r: (r["_extracted_at"], r["_batch_id"]))
    return {key_of(setup.case, row): row for row in rows}


def assert_world_landed(setup: RecordSetup) -> None:
    expected = setup.case.expected(setup.world)
    got = latest(setup)
    assert set(got) == set(expected)
    for key, columns in expected.items():
        row = got[key]
        for column, value in columns.items():
            if isinstance(value, float):
                assert row[column] == pytest.approx(value), (key, column)
            else:
                assert row[column] == value, (key, column)
        assert row["_record"], "the source record is kept beside the canonical columns"


def stream_report(report, setup: RecordSetup):
    return next(s for s in report.streams if s.stream == setup.case.stream)


def test_full_sync_lands_exactly_what_the_platform_holds(record_setup: RecordSetup) -> None:
    report = sync_connector(
        record_setup.connector(), record_setup.zone, mode=FULL, streams=[record_setup.case.stream]
    )
    assert_world_landed(record_setup)
    assert stream_report(report, record_setup).cursor == LAST_DAY.isoformat()
    assert report.requests > 0 and report.throttled == 0
    assert not record_setup.zone.quarantine_files(TENANT)
    # Landed once each.
    assert max(Counter(key_of(record_setup.case, r) for r in landed(record_setup)).values()) == 1


def test_incremental_sync_asks_for_recent_windows_and_lands_only_changes(
    record_setup: RecordSetup,
) -> None:
    setup, stream = record_setup, record_setup.case.stream
    sync_connector(setup.connector(), setup.zone, mode=FULL, streams=[stream])
    before = len(setup.fake.requests_to(setup.case.list_path))
    new_last = LAST_DAY + timedelta(days=2)
    changed = setup.case.change(setup.world, LAST_DAY + timedelta(days=1))

    report = sync_connector(
        setup.connector(until=new_last), setup.zone, mode=INCREMENTAL, streams=[stream]
    )

    asked = len(setup.fake.requests_to(setup.case.list_path)) - before
    assert 0 < asked < before, "an incremental sync asks for the recent windows only"
    assert_world_landed(setup)
    result = stream_report(report, setup)
    assert result.cursor == new_last.isoformat()
    assert result.rows_landed == changed, "only the changed records land again"


def test_incremental_sync_of_nothing_new_lands_nothing_new(record_setup: RecordSetup) -> None:
    setup, stream = record_setup, record_setup.case.stream
    sync_connector(setup.connector(), setup.zone, mode=FULL, streams=[stream])
    files = sorted(setup.zone.entity_files(TENANT, setup.case.entity))
    rows = len(landed(setup))
    sync_connector(setup.connector(), setup.zone, mode=INCREMENTAL, streams=[stream])
    assert sorted(setup.zone.entity_files(TENANT, setup.case.entity)) == files
    assert len(landed(setup)) == rows


def test_a_sync_killed_midway_resumes_without_loss_or_duplicates(
    record_setup: RecordSetup,
) -> None:
    setup = record_setup
    kill_sync_at(setup, setup.case.list_path, setup.case.kill_at, LAST_DAY)
    asked_before = len(setup.fake.requests_to(setup.case.list_path))
    assert landed(setup), "slices before the kill had landed"

    # The stream under test resumes (the killed sync held it); a platform's other streams may
    # read the same endpoint, so they are left out of the request count.
    report = sync_connector(
        setup.connector(), setup.zone, mode=INCREMENTAL, streams=[setup.case.stream]
    )

    result = stream_report(report, setup)
    assert result.resumed and result.slices_skipped > 0
    assert_world_landed(setup)
    assert max(Counter(key_of(setup.case, r) for r in landed(setup)).values()) == 1
    asked_after = len(setup.fake.requests_to(setup.case.list_path)) - asked_before
    fresh = LandingZone(setup.home / "fresh_landing")
    sync_connector(setup.connector(), fresh, mode=FULL, streams=[setup.case.stream])
    from_scratch = len(setup.fake.requests_to(setup.case.list_path)) - (asked_before + asked_after)
    assert asked_after < from_scratch, "the slices landed before the kill were not asked again"


def test_throttling_and_server_errors_are_survived(record_setup: RecordSetup) -> None:
    setup = record_setup
    setup.case.throttle(setup.fake)
    setup.fake.fail_next(2, 503, setup.case.list_path, skip=1)
    setup.fake.malform_next(1, setup.case.list_path, skip=3)
    report = sync_connector(setup.connector(), setup.zone, mode=FULL, streams=[setup.case.stream])
    assert_world_landed(setup)
    statuses = Counter(s.status for s in setup.fake.served)
    assert statuses[503] == 2
    assert report.throttled > 0
    assert report.server_errors == 2


def test_bad_credentials_are_a_clear_error_without_the_secret(
    record_setup: RecordSetup, monkeypatch
) -> None:
    setup = record_setup
    role = next(iter(setup.case.secrets))
    wrong = "wrong-" + setup.case.secrets[role][::-1]
    monkeypatch.setenv(env_variable(TENANT, f"{setup.case.platform}_{role}"), wrong)
    clear_cache()
    with pytest.raises(CredentialsError) as failure:
        sync_connector(setup.connector(), setup.zone, mode=FULL)
    message = str(failure.value)
    assert setup.case.platform in message and wrong not in message
    assert not setup.zone.entity_files(TENANT, setup.case.entity)


def test_a_missing_credential_names_where_it_was_looked_for(
    record_setup: RecordSetup, monkeypatch
) -> None:
    role = next(iter(record_setup.case.secrets))
    variable = env_variable(TENANT, f"{record_setup.case.platform}_{role}")
    monkeypatch.delenv(variable)
    with pytest.raises(CredentialsError, match=variable):
        record_setup.connector()


def test_a_changed_field_stops_the_sync_with_the_field_named(record_setup: RecordSetup) -> None:
    setup = record_setup
    field = setup.case.rename_field(setup.fake)
    with pytest.raises(ApiChangedError, match=field):
        sync_connector(setup.connector(), setup.zone, mode=FULL, streams=[setup.case.stream])
    assert not setup.zone.entity_files(TENANT, setup.case.entity)


def test_connectors_check_reports_reachability_and_credentials(record_setup: RecordSetup) -> None:
    assert_check_reports_reachability_and_credentials(record_setup)
