"""GA4 beyond the generic contract: the report asked, offset paging, values read by header name,
conversions vs keyEvents, quota and permission errors, tokens and the property id setting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from connectors.framework.connector import FULL, SourceRecord
from connectors.framework.errors import (
    ApiChangedError,
    ConnectorError,
    CredentialsError,
    RecordError,
    SettingsError,
)
from connectors.framework.settings import RateLimit, parse_settings
from connectors.framework.sync import sync_connector
from connectors.marketing.ga4 import TRAFFIC, Ga4, Ga4Settings
from tests.fakes.ga4 import FakeGa4, Ga4World, make_ga4_world, quota_refusal
from tests.fakes.server import WindowLimit
from tests.unit.connectors.conftest import landed_rows
from warehouse.landing import LandingZone

FIRST = date(2026, 10, 1)
DAYS = 6
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "ga_co"
PROPERTY = "312345678"
SECRETS = {
    "client_id": "ga-client-1.apps.googleusercontent.com",
    "client_secret": "ga-secret-1",
    "refresh_token": "1//ga-refresh-1",
}
KEY = (
    "platform",
    "property_id",
    "date",
    "session_source",
    "session_medium",
    "session_campaign",
    "landing_page",
)


@pytest.fixture
def world() -> Ga4World:
    return make_ga4_world(FIRST, DAYS, property_id=PROPERTY)


@pytest.fixture
def fake(world: Ga4World) -> Iterator[FakeGa4]:
    with FakeGa4(world) as server:
        yield server  # type: ignore[misc]


def connector(fake: FakeGa4, secrets: dict[str, str] | None = None, **settings: Any) -> Ga4:
    options = {
        "base_url": fake.base_url,
        "token_url": "{base_url}/token",
        "property_id": PROPERTY,
        "start_date": FIRST,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 2,
        **settings,
    }
    return Ga4(TENANT, Ga4Settings(**options), secrets or SECRETS, today=LAST + timedelta(days=1))


def landed(zone: LandingZone) -> dict[tuple[Any, ...], dict[str, Any]]:
    rows = sorted(
        landed_rows(zone, TENANT, "ga4", "web_traffic_daily"), key=lambda r: r["_extracted_at"]
    )
    return {tuple(r[c] for c in KEY): r for r in rows}


def assert_world_landed(zone: LandingZone, world: Ga4World) -> None:
    got = landed(zone)
    expected = world.expected()
    assert set(got) == set(expected)
    for key, columns in expected.items():
        for column, value in columns.items():
            if value is None:
                assert got[key][column] is None, (key, column)
            else:
                assert got[key][column] == pytest.approx(value), (key, column)


# -- the report asked --------------------------------------------------------------------------


def test_a_day_is_one_date_range_paged_by_offset_until_row_count(
    fake: FakeGa4, world: Ga4World
) -> None:
    ga = connector(fake, page_size=2)
    day = FIRST + timedelta(days=1)  # four rows
    records = list(ga.fetch(TRAFFIC, day.isoformat()))
    assert len(records) == len(world.on(day)) == 4
    assert len(fake.reports) == 2
    first, second = fake.reports
    assert first == {
        "dateRanges": [{"startDate": day.isoformat(), "endDate": day.isoformat()}],
        "dimensions": [
            {"name": "date"},
            {"name": "sessionSource"},
            {"name": "sessionMedium"},
            {"name": "sessionCampaignName"},
            {"name": "landingPage"},
        ],
        "metrics": [{"name": "sessions"}, {"name": "conversions"}, {"name": "totalRevenue"}],
        "offset": "0",
        "limit": "2",
    }
    assert (second["offset"], second["limit"]) == ("2", "2")
    assert fake.requests_to(f"/v1beta/properties/{PROPERTY}:runReport")[0].method == "POST"


def test_a_day_without_rows_is_one_request_and_lands_nothing(
    fake: FakeGa4, world: Ga4World
) -> None:
    quiet = FIRST + timedelta(days=4)
    assert not world.on(quiet)
    assert list(connector(fake, page_size=2).fetch(TRAFFIC, quiet.isoformat())) == []
    assert len(fake.reports) == 1


def test_a_full_sync_lands_every_row_with_gas_placeholders_kept(
    fake: FakeGa4, world: Ga4World, zone: LandingZone
) -> None:
    report = sync_connector(connector(fake, page_size=3), zone, mode=FULL)
    assert report.streams[0].rows_quarantined == 0
    assert_world_landed(zone, world)
    direct = [k for k in landed(zone) if k[3] == "(direct)"]
    assert direct and all(k[4] == "(none)" and k[6] == "(not set)" for k in direct)


def test_values_are_read_by_header_name(fake: FakeGa4, world: Ga4World, zone: LandingZone) -> None:
    fake.reverse_headers = True
    sync_connector(connector(fake), zone, mode=FULL)
    assert_world_landed(zone, world)


def test_conversions_answered_as_key_events_are_read(
    fake: FakeGa4, world: Ga4World, zone: LandingZone
) -> None:
    fake.header_renames = {"conversions": "keyEvents"}
    sync_connector(connector(fake), zone, mode=FULL)
    assert_world_landed(zone, world)


def test_the_conversions_metric_is_a_setting(
    fake: FakeGa4, world: Ga4World, zone: LandingZone
) -> None:
    fake.retired_metrics = {"conversions"}
    with pytest.raises(ConnectorError, match="conversions_metric") as failure:
        sync_connector(connector(fake), zone, mode=FULL)
    assert "INVALID_ARGUMENT" in str(failure.value)
    sync_connector(connector(fake, conversions_metric="keyEvents"), zone, mode=FULL)
    assert {m["name"] for m in fake.reports[-1]["metrics"]} == {
        "sessions",
        "keyEvents",
        "totalRevenue",
    }
    assert_world_landed(zone, world)


def test_a_missing_metric_column_is_a_changed_api(fake: FakeGa4, zone: LandingZone) -> None:
    fake.header_renames = {"totalRevenue": "purchaseRevenue"}
    with pytest.raises(ApiChangedError, match="totalRevenue"):
        sync_connector(connector(fake), zone, mode=FULL)


# -- rows --------------------------------------------------------------------------------------


def test_a_row_of_another_day_or_with_bad_values_is_a_record_error(fake: FakeGa4) -> None:
    ga = connector(fake)
    good = list(ga.fetch(TRAFFIC, FIRST.isoformat()))[0]
    assert list(ga.rows(TRAFFIC, good))[0]["date"] == FIRST
    columns = good.context["columns"]

    def changed(position: int, key: str, value: str) -> dict[str, Any]:
        row = {k: [dict(v) for v in vs] for k, vs in good.record.items()}
        row[key][position]["value"] = value
        return row

    date_at = columns.dimensions["date"]
    sessions_at = columns.metrics["sessions"]
    revenue_at = columns.metrics["totalRevenue"]
    for row, field in [
        (changed(date_at, "dimensionValues", "20261002"), "date"),
        (changed(date_at, "dimensionValues", "2026-13-01"), "date"),
        (changed(sessions_at, "metricValues", "-3"), "sessions"),
        (changed(sessions_at, "metricValues", "12.5"), "sessions"),
        (changed(revenue_at, "metricValues", "NaN"), "totalRevenue"),
        ({"dimensionValues": good.record["dimensionValues"]}, "metricValues"),
        ({**good.record, "metricValues": good.record["metricValues"][:2]}, "metricValues"),
    ]:
        with pytest.raises(RecordError, match=field):
            list(ga.rows(TRAFFIC, SourceRecord(row, good.url, 0, good.context)))


# -- errors and credentials --------------------------------------------------------------------


def test_an_exhausted_quota_is_retried(fake: FakeGa4, world: Ga4World, zone: LandingZone) -> None:
    fake.limit = WindowLimit(3, 1.0, response=quota_refusal)
    report = sync_connector(connector(fake), zone, mode=FULL)
    refused = [s for s in fake.served if s.status == 429]
    assert refused and report.throttled == len(refused)
    assert_world_landed(zone, world)


def test_another_property_is_permission_denied(fake: FakeGa4, zone: LandingZone) -> None:
    with pytest.raises(CredentialsError, match="PERMISSION_DENIED") as failure:
        sync_connector(connector(fake, property_id="999"), zone, mode=FULL)
    assert "property 999" in str(failure.value)


def test_a_revoked_refresh_token_is_a_credentials_error_without_it(fake: FakeGa4) -> None:
    wrong = {**SECRETS, "refresh_token": "1//revoked-token"}
    with pytest.raises(CredentialsError, match="invalid_grant") as failure:
        connector(fake, secrets=wrong).check()
    assert "revoked-token" not in str(failure.value)


def test_an_expired_access_token_is_renewed_once(fake: FakeGa4) -> None:
    ga = connector(fake)
    ga.check()
    fake.expire_tokens()
    assert ga.check().startswith(f"property {PROPERTY} readable")
    assert len(fake.requests_to("/token")) == 2


def test_check_reports_the_last_days_rows(fake: FakeGa4, world: Ga4World) -> None:
    assert connector(fake).check() == (
        f"property {PROPERTY} readable ({len(world.on(LAST))} report row(s) on {LAST})"
    )
    assert fake.reports[-1]["limit"] == "1"


def test_ga4_pushes_no_webhooks(fake: FakeGa4) -> None:
    ga = connector(fake)
    assert ga.webhook_topics == ()
    with pytest.raises(ConnectorError, match="no webhooks"):
        ga.webhook_records("anything", {})


# -- settings ----------------------------------------------------------------------------------


def test_the_property_id_is_read_as_ga4_writes_it() -> None:
    parsed = parse_settings(Ga4Settings, {"property_id": "properties/312345678"}, "t.yaml", "ga4")
    assert parsed.property_id == "312345678"  # type: ignore[attr-defined]
    number = parse_settings(Ga4Settings, {"property_id": 312345678}, "t.yaml", "ga4")
    assert number.property_id == "312345678"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"property_id": "G-ABC123"}, "property_id"),
        ({}, "property_id"),
        ({"property_id": "1", "conversions_metric": "purchases"}, "conversions_metric"),
        ({"property_id": "1", "token_url": "oauth2.googleapis.com"}, "token_url"),
    ],
)
def test_bad_settings_name_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(SettingsError, match=f"connectors.ga4.{field}"):
        parse_settings(Ga4Settings, raw, "t.yaml", "ga4")
