"""Marketo beyond the generic contract: lead activities, errors inside HTTP 200, tokens, paging
with empty pages, and how an activity becomes a row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.framework.connector import FULL, INCREMENTAL, SourceRecord
from connectors.framework.errors import (
    ConnectorError,
    CredentialsError,
    QuotaExhaustedError,
    RecordError,
)
from connectors.framework.settings import RateLimit
from connectors.framework.state import StreamState
from connectors.framework.sync import sync_connector
from connectors.marketing.marketo import (
    LEAD_ACTIVITIES,
    WEB_VISITS,
    Marketo,
    MarketoSettings,
)
from tests.fakes.marketo import (
    FORM_FILL,
    NEW_LEAD,
    VISIT,
    Activity,
    FakeMarketo,
    MarketoWorld,
    make_marketo_world,
)
from tests.unit.connectors.conftest import landed_rows
from warehouse.landing import LandingZone

FIRST = date(2026, 10, 1)
DAYS = 4
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "mkto_co"
SECRETS = {"client_id": "mkto-client-1", "client_secret": "mkto-secret-1"}


@pytest.fixture
def world() -> MarketoWorld:
    return make_marketo_world(FIRST, DAYS)


@pytest.fixture
def fake(world: MarketoWorld) -> Iterator[FakeMarketo]:
    with FakeMarketo(world, **SECRETS) as server:
        yield server  # type: ignore[misc]


def connector(fake: FakeMarketo, secrets: dict[str, str] | None = None, **settings: Any) -> Marketo:
    options = {
        "base_url": fake.base_url,
        "start_date": FIRST,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 2,
        "batch_size": 3,
        **settings,
    }
    return Marketo(
        TENANT, MarketoSettings(**options), secrets or SECRETS, today=LAST + timedelta(days=1)
    )


def offline(**settings: Any) -> Marketo:
    """A connector that never calls out (record mapping, planning)."""
    options = {"base_url": "http://127.0.0.1:9", "start_date": FIRST, **settings}
    return Marketo(TENANT, MarketoSettings(**options), SECRETS, today=LAST + timedelta(days=1))


def landed(zone: LandingZone, entity: str) -> list[dict[str, Any]]:
    return landed_rows(zone, TENANT, "marketo", entity)


def test_lead_activities_land_new_leads_and_each_form_fill(
    fake: FakeMarketo, world: MarketoWorld, tmp_path: Path
) -> None:
    zone = LandingZone(tmp_path / "landing")
    report = sync_connector(connector(fake), zone, mode=FULL, streams=["lead_activities"])

    rows = {r["lead_id"]: r for r in landed(zone, "leads")}
    new_leads = world.of_type(NEW_LEAD)
    fills = world.of_type(FORM_FILL)
    assert len(rows) == len(new_leads) + len(fills) == 2 * DAYS
    for lead in new_leads:
        row = rows[f"lead:{lead.lead_id}"]
        assert row["lead_type"] == "lead" and row["status"] == "Web form fillout"
        assert row["ts"] == row["updated_at"] == lead.at.replace(tzinfo=None)
        assert row["contact_id"] is None and row["email"] is None and row["is_won"] is None
    for fill in fills:
        row = rows[f"form_fill:{fill.activity_id}"]
        assert row["lead_type"] == "form_fill"
        # A form fill is its own conversion, tied to its lead; it never moves the lead's time.
        assert row["contact_id"] == f"lead:{fill.lead_id}"
        assert row["ts"] == fill.at.replace(tzinfo=None)
        assert row["ts"] > rows[f"lead:{fill.lead_id}"]["ts"]
        assert (row["ip"], row["user_agent"]) == (fill.ip, fill.user_agent)
        assert row["landing_url"] == fill.url() and row["referrer"] == fill.referrer
        assert (row["utm_source"], row["utm_medium"], row["utm_campaign"]) == (
            fill.utm_source,
            fill.utm_medium,
            fill.utm_campaign,
        )
        assert row["value"] is None and row["email"] is None
    assert report.streams[0].rows_quarantined == 0
    # Asked for its own types only: no visit and no email activity came back.
    asked = {s.query.get("activityTypeIds") for s in fake.requests_to("/activities.json")}
    assert asked == {"2,12"}


def test_a_lead_created_one_day_and_filling_a_form_later_keeps_its_creation_time(
    fake: FakeMarketo, world: MarketoWorld, tmp_path: Path
) -> None:
    zone = LandingZone(tmp_path / "landing")
    sync_connector(connector(fake), zone, mode=FULL, streams=["lead_activities"])
    lead = world.of_type(NEW_LEAD)[0]
    later = LAST + timedelta(days=1)
    activity_id, _ = world.next_ids()
    world.add(
        Activity(
            activity_id,
            lead.lead_id,
            FORM_FILL,
            datetime(later.year, later.month, later.day, 9, tzinfo=UTC),
            page="www.brand.example/webinar",
            ip="192.0.2.4",
            user_agent="UA",
            name="Webinar",
        )
    )
    source = connector(fake)
    source.today = later + timedelta(days=1)
    report = sync_connector(source, zone, mode=INCREMENTAL, streams=["lead_activities"])

    assert report.streams[0].rows_landed == 1
    rows = landed(zone, "leads")
    created = [r for r in rows if r["lead_id"] == f"lead:{lead.lead_id}"]
    assert len(created) == 1 and created[0]["ts"] == lead.at.replace(tzinfo=None)
    (fill,) = [r for r in rows if r["lead_id"] == f"form_fill:{activity_id}"]
    assert fill["contact_id"] == f"lead:{lead.lead_id}"


def test_a_slice_stops_at_the_first_activity_of_the_next_day(
    fake: FakeMarketo, world: MarketoWorld
) -> None:
    source = connector(fake, batch_size=300)
    items = list(source.fetch(WEB_VISITS, FIRST.isoformat()))

    day_visits = [a for a in world.of_type(VISIT) if a.at.date() == FIRST]
    assert [i.record["id"] for i in items] == [a.activity_id for a in day_visits]
    (asked,) = fake.requests_to("/pagingtoken.json")
    assert asked.query["sinceDatetime"] == "2026-10-01T00:00:00Z"
    # One page of 300 covered the whole log: the walk did not go on.
    assert len(fake.requests_to("/activities.json")) == 1


@pytest.mark.parametrize("empty_result_key", [False, True])
def test_empty_pages_with_more_results_are_paged_through(
    fake: FakeMarketo, world: MarketoWorld, empty_result_key: bool
) -> None:
    fake.empty_result_key = empty_result_key
    # One activity a call: every email activity and every visit makes an empty page.
    source = connector(fake, batch_size=1)
    items = list(source.fetch(LEAD_ACTIVITIES, FIRST.isoformat()))

    day = [a for a in world.of_type(NEW_LEAD, FORM_FILL) if a.at.date() == FIRST]
    assert [i.record["id"] for i in items] == [a.activity_id for a in day]
    pages = fake.requests_to("/activities.json")
    assert len(pages) > len(day) + 1, "empty pages were asked through"


def test_the_token_travels_in_the_header_and_never_lands(fake: FakeMarketo, tmp_path: Path) -> None:
    zone = LandingZone(tmp_path / "landing")
    sync_connector(connector(fake), zone, mode=FULL, streams=["web_visits"])
    assert fake.auth_via and set(fake.auth_via) == {"header"}
    token_asks = fake.requests_to("/identity/oauth/token")
    assert len(token_asks) == 1 and token_asks[0].query["grant_type"] == "client_credentials"
    sources = {r["_source_file"] for r in landed(zone, "site_events")}
    assert sources and not any("token=" in s or "secret" in s for s in sources)


def test_an_expired_token_602_is_fetched_again_and_the_sync_goes_on(
    fake: FakeMarketo, tmp_path: Path
) -> None:
    zone = LandingZone(tmp_path / "landing")
    source = connector(fake)
    sync_connector(source, zone, mode=FULL, streams=["web_visits"])
    fake.expire_tokens()  # an hour later, to the server

    sync_connector(source, zone, mode=FULL, streams=["lead_activities"])

    assert fake.error_codes == ["602"]
    assert fake.tokens_issued == 2
    assert len(landed(zone, "leads")) == 2 * DAYS


def test_a_token_about_to_expire_is_renewed_before_it_is_used(
    fake: FakeMarketo, tmp_path: Path
) -> None:
    # Every answer says the token has no time left, while the server still honours it.
    fake.expires_in_cap = 0
    zone = LandingZone(tmp_path / "landing")
    sync_connector(connector(fake), zone, mode=FULL, streams=["web_visits"])

    rest_calls = [s for s in fake.served if s.path.startswith("/rest/")]
    assert len(fake.requests_to("/identity/oauth/token")) == len(rest_calls)
    assert fake.error_codes == [], "no call went out with a token the server refused"


def test_a_refused_token_is_fetched_again_once_then_a_credentials_error(
    fake: FakeMarketo, tmp_path: Path
) -> None:
    fake.refuse_tokens = True
    with pytest.raises(CredentialsError, match="601") as failure:
        sync_connector(connector(fake), LandingZone(tmp_path / "l"), mode=FULL)
    # Asked once more; the identity service handed back the same (still live) token, so the
    # call is not sent again with it: the refusal stands.
    assert len(fake.requests_to("/identity/oauth/token")) == 2
    assert fake.error_codes == ["601"]
    assert SECRETS["client_secret"] not in str(failure.value)


def test_bad_client_credentials_are_refused_by_the_identity_service(
    fake: FakeMarketo, tmp_path: Path
) -> None:
    wrong = {**SECRETS, "client_secret": "not-the-secret"}
    with pytest.raises(CredentialsError, match="401 invalid_client") as failure:
        sync_connector(connector(fake, wrong), LandingZone(tmp_path / "l"), mode=FULL)
    message = str(failure.value)
    assert "not-the-secret" not in message and "marketo_client_secret" in message
    assert not fake.requests_to("/rest/")


def test_an_unreachable_identity_service_does_not_leak_the_secret(fake: FakeMarketo) -> None:
    source = connector(fake, identity_url="http://127.0.0.1:9/identity", max_attempts=1)
    with pytest.raises(ConnectorError, match="could not be reached") as failure:
        source.check()
    assert SECRETS["client_secret"] not in str(failure.value)


@pytest.mark.parametrize("code", ["606", "615"])
def test_throttling_inside_http_200_is_retried_and_counted(
    fake: FakeMarketo, tmp_path: Path, code: str
) -> None:
    fake.inject(code, "Max rate limit '100' exceeded with in '20' secs", 2, "/activities.json")
    zone = LandingZone(tmp_path / "landing")
    report = sync_connector(connector(fake), zone, mode=FULL, streams=["web_visits"])

    assert fake.error_codes == [code, code]
    assert report.throttled == 2 and report.server_errors == 0
    assert len(landed(zone, "site_events")) == 3 * DAYS


def test_throttling_that_outlasts_the_retries_stops_the_sync_clearly(
    fake: FakeMarketo, tmp_path: Path
) -> None:
    fake.inject("606", "Max rate limit '100' exceeded with in '20' secs", 10, "/activities.json")
    with pytest.raises(ConnectorError, match="still throttled \\(606 Max rate limit"):
        sync_connector(
            connector(fake, max_attempts=2), LandingZone(tmp_path / "l"), streams=["web_visits"]
        )
    assert fake.error_codes == ["606", "606"]


@pytest.mark.parametrize(
    ("code", "message", "error"),
    [
        ("607", "Daily quota reached", QuotaExhaustedError),
        ("1029", "Export daily quota exceeded", QuotaExhaustedError),
        ("1003", "Invalid value for activityTypeIds", ConnectorError),
        ("603", "Access denied", CredentialsError),
    ],
)
def test_other_errors_inside_http_200_are_clear_and_not_retried(
    fake: FakeMarketo, tmp_path: Path, code: str, message: str, error: type[Exception]
) -> None:
    fake.inject(code, message, 5, "/activities.json")
    with pytest.raises(error, match=f"{code} {message}"):
        sync_connector(connector(fake), LandingZone(tmp_path / "l"), streams=["web_visits"])
    assert fake.error_codes == [code]


def test_check_lists_activity_types(fake: FakeMarketo) -> None:
    assert connector(fake).check() == "5 activity types visible"


def test_a_visit_becomes_a_site_event() -> None:
    source = offline()
    record = {
        "id": 102988,
        "marketoGUID": "102988",
        "leadId": 7,
        "activityDate": "2026-10-02T13:45:12+0000",
        "activityTypeId": 1,
        "primaryAttributeValueId": 71,
        "primaryAttributeValue": "www.brand.example/listen",
        "attributes": [
            {"name": "Client IP Address", "value": "203.0.113.9"},
            {"name": "Query Parameters", "value": "?utm_source=podcast&utm_campaign=fall%20ad"},
            {"name": "Referrer URL", "value": ""},
            {"name": "User Agent", "value": "Mozilla/5.0"},
        ],
    }
    (row,) = source.rows(WEB_VISITS, SourceRecord(record, "u", 0))
    assert row == {
        "event_id": "marketo:102988",
        "ts": datetime(2026, 10, 2, 13, 45, 12),
        "ip": "203.0.113.9",
        "user_agent": "Mozilla/5.0",
        "event_type": "visit",
        "url": "www.brand.example/listen?utm_source=podcast&utm_campaign=fall%20ad",
        "referrer": None,
        "order_id": None,
        "utm_source": "podcast",
        "utm_medium": None,
        "utm_campaign": "fall ad",
    }
    # Without a GUID the id keys it; without attributes the visit still lands.
    bare = {k: v for k, v in record.items() if k not in ("marketoGUID", "attributes")}
    (row,) = source.rows(WEB_VISITS, SourceRecord(bare, "u", 0))
    assert row["event_id"] == "marketo:102988" and row["url"] == "www.brand.example/listen"
    assert row["ip"] is None and row["utm_source"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"activityDate": "yesterday"}, "activityDate"),
        ({"activityTypeId": 2}, "activityTypeId"),
        ({"attributes": "Client IP Address=1.2.3.4"}, "attributes"),
        ({"attributes": [{"value": "x"}]}, "attributes"),
        ({"id": None, "marketoGUID": None}, "id"),
    ],
)
def test_a_bad_activity_is_a_record_error_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    record = {
        "id": 1,
        "marketoGUID": "1",
        "leadId": 7,
        "activityDate": "2026-10-02T13:45:12Z",
        "activityTypeId": 1,
        "primaryAttributeValue": "www.brand.example/",
        "attributes": [],
        **change,
    }
    with pytest.raises(RecordError, match=field):
        list(offline().rows(WEB_VISITS, SourceRecord(record, "u", 0)))


def test_settings_need_a_munchkin_id_and_know_only_landed_types() -> None:
    settings = MarketoSettings(munchkin_id="123-ABC-456")
    source = Marketo(TENANT, settings, SECRETS)
    assert source.base_url == "https://123-ABC-456.mktorest.com"
    assert source.identity_url == "https://123-ABC-456.mktorest.com/identity"
    assert settings.activity_type_ids == [1, 2, 12] and settings.batch_size == 300
    with pytest.raises(ValidationError, match="munchkin_id is required"):
        MarketoSettings()
    with pytest.raises(ValidationError, match="not a Munchkin id"):
        MarketoSettings(munchkin_id="evil.example/x")
    with pytest.raises(ValidationError, match=r"\[6\] are not landed"):
        MarketoSettings(munchkin_id="123-ABC-456", activity_type_ids=[1, 6])
    with pytest.raises(ValidationError):
        MarketoSettings(munchkin_id="123-ABC-456", batch_size=301)


def test_a_stream_whose_types_are_all_left_out_plans_nothing() -> None:
    source = offline(activity_type_ids=[1])
    plan = source.plan(LEAD_ACTIVITIES, StreamState(TENANT, "marketo", "lead_activities"), FULL)
    assert plan.slices == [] and "Fill Out Form" in plan.notes[0]
