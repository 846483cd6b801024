"""HubSpot beyond the generic contract: the search body, deals and their contacts, windows cut
under the 10,000-result cap, HubSpot's error shapes and the webhook hook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from connectors.framework.connector import FULL
from connectors.framework.errors import CredentialsError, QuotaExhaustedError, RecordError
from connectors.framework.settings import RateLimit
from connectors.framework.sync import sync_connector
from connectors.marketing.hubspot import CONTACTS, DEALS, HubSpot, HubSpotSettings
from tests.fakes.crm import Crm, CrmContact, make_crm
from tests.fakes.hubspot import FakeHubSpot, epoch_ms
from tests.unit.connectors.conftest import landed_rows
from warehouse.landing import LandingZone

FIRST = date(2026, 10, 1)
DAYS = 4
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "hubspot_co"
TOKEN = "pat-na1-unit"


@pytest.fixture
def crm() -> Crm:
    return make_crm(FIRST, DAYS)


@pytest.fixture
def fake(crm: Crm) -> Iterator[FakeHubSpot]:
    with FakeHubSpot(crm, TOKEN, survey_property="heard_about_us") as server:
        yield server  # type: ignore[misc]


def connector(fake: FakeHubSpot, token: str = TOKEN, **settings: Any) -> HubSpot:
    options = {
        "base_url": fake.base_url,
        "start_date": FIRST,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 2,
        "survey_property": "heard_about_us",
        **settings,
    }
    return HubSpot(
        TENANT,
        HubSpotSettings.model_validate(options),
        {"access_token": token},
        today=LAST + timedelta(days=1),
    )


def leads(zone: LandingZone) -> dict[str, dict[str, Any]]:
    return {r["lead_id"]: r for r in landed_rows(zone, TENANT, "hubspot", "leads")}


def test_search_asks_each_day_by_last_modified_in_epoch_ms_and_pages_with_after(
    fake: FakeHubSpot, crm: Crm, zone: LandingZone
) -> None:
    sync_connector(connector(fake, page_size=1), zone, mode=FULL, streams=["contacts"])
    first_day = [s for s in fake.searches if "after" not in s][0]
    start = datetime(2026, 10, 1, tzinfo=UTC)
    assert first_day["filterGroups"] == [
        {
            "filters": [
                {
                    "propertyName": "lastmodifieddate",
                    "operator": "GTE",
                    "value": str(epoch_ms(start)),
                },
                {
                    "propertyName": "lastmodifieddate",
                    "operator": "LT",
                    "value": str(epoch_ms(start + timedelta(days=1))),
                },
            ]
        }
    ]
    assert first_day["sorts"] == [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
    assert first_day["limit"] == 1
    assert {"email", "createdate", "hs_analytics_first_url", "heard_about_us"} <= set(
        first_day["properties"]
    )
    # Two contacts a day, one a page: each day is asked twice, the second time after "1".
    assert [s.get("after") for s in fake.searches] == [None, "1"] * DAYS
    rows = leads(zone)
    assert set(rows) == {f"contact:{c.contact_id}" for c in crm.contacts}
    podcast = next(c for c in crm.contacts if c.utm_source)
    row = rows[f"contact:{podcast.contact_id}"]
    assert (row["utm_source"], row["utm_medium"], row["utm_campaign"]) == (
        "podcast",
        "audio",
        "cmp_1",
    )
    assert row["ts"] == podcast.created_at.replace(tzinfo=None)
    assert row["ip"] is None and row["user_agent"] is None and row["contact_id"] is None


def test_deals_land_with_amount_stage_outcome_and_first_contact(
    fake: FakeHubSpot, crm: Crm, zone: LandingZone
) -> None:
    crm.deals[0].contact_id = None  # a deal nobody is associated with
    sync_connector(connector(fake), zone, mode=FULL, streams=["deals"])
    rows = leads(zone)
    assert set(rows) == {f"deal:{d.deal_id}" for d in crm.deals}
    for deal in crm.deals:
        row = rows[f"deal:{deal.deal_id}"]
        assert row["lead_type"] == "deal"
        assert row["value"] == pytest.approx(deal.amount)
        assert row["currency"] == "USD"
        assert row["status"] == deal.stage
        assert row["is_won"] is deal.is_won
        # won: the close date (the fake closes it when it is won); open: no close time
        won_at = deal.updated_at.replace(tzinfo=None) if deal.is_won else None
        assert row["closed_at"] == won_at
        assert row["contact_id"] == (f"contact:{deal.contact_id}" if deal.contact_id else None)
        assert row["ts"] == deal.created_at.replace(tzinfo=None)
        assert row["updated_at"] == deal.updated_at.replace(tzinfo=None)
    # One association batch per page of deals, never one request per deal.
    batches = fake.requests_to("/crm/v4/associations/deals/contacts/batch/read")
    days_with_deals = {d.updated_at.date() for d in crm.deals}
    assert len(batches) == len(days_with_deals)
    assert {s.status for s in batches} == {200, 207}


def test_a_day_past_the_search_cap_is_cut_into_hours(crm: Crm, zone: LandingZone) -> None:
    day = datetime(2026, 10, 2, tzinfo=UTC)
    crowd = [
        CrmContact(str(700 + i), day + timedelta(hours=i), day + timedelta(hours=i), f"c{i}@x.io")
        for i in range(5)
    ]
    crm.contacts.extend(crowd)
    with FakeHubSpot(crm, TOKEN, search_cap=4) as server:
        hubspot = connector(server)  # type: ignore[arg-type]
        hubspot.search_cap = 4
        sync_connector(hubspot, zone, mode=FULL, streams=["contacts"])
        windows = {
            (
                int(s["filterGroups"][0]["filters"][1]["value"])
                - int(s["filterGroups"][0]["filters"][0]["value"])
            )
            for s in server.searches  # type: ignore[attr-defined]
        }
    assert windows == {86_400_000, 3_600_000}
    assert set(leads(zone)) == {f"contact:{c.contact_id}" for c in crm.contacts}


def test_utm_properties_and_emptied_values(fake: FakeHubSpot, crm: Crm) -> None:
    contact = crm.contacts[0]
    hubspot = connector(fake, utm_source_property="heard_about_us")
    record = {
        "id": contact.contact_id,
        "properties": {
            "createdate": "2026-10-01T12:00:00.000Z",
            "lastmodifieddate": "2026-10-01T13:00:00.000Z",
            "email": "",
            "hs_analytics_first_url": "https://brand.example/?utm_source=a&utm_medium=b",
            "heard_about_us": "podcast",
        },
    }
    from connectors.framework.connector import SourceRecord

    [row] = hubspot.rows(CONTACTS, SourceRecord(record, "u", 0))
    assert row["utm_source"] == "podcast"  # the configured property wins over the URL
    assert row["utm_medium"] == "b"
    assert row["email"] is None
    assert row["ts"] == datetime(2026, 10, 1, 12, 0)


def test_refused_token_and_daily_limit_are_clear_errors(fake: FakeHubSpot) -> None:
    with pytest.raises(CredentialsError, match="INVALID_AUTHENTICATION") as refused:
        connector(fake, token="pat-wrong").check()
    assert "pat-wrong" not in str(refused.value)
    fake.daily_limit = 0
    with pytest.raises(QuotaExhaustedError, match="daily"):
        connector(fake, max_attempts=1).check()


# -- webhooks ----------------------------------------------------------------------------------


def event(topic: str, object_id: Any, **extra: Any) -> dict[str, Any]:
    return {
        "eventId": 100,
        "subscriptionId": 25,
        "portalId": 33,
        "occurredAt": 1790870400000,
        "subscriptionType": topic,
        "attemptNumber": 0,
        "objectId": object_id,
        **extra,
    }


def test_a_contact_event_fetches_the_contact_and_maps_it_like_the_sync(
    fake: FakeHubSpot, crm: Crm, zone: LandingZone
) -> None:
    sync_connector(connector(fake), zone, mode=FULL, streams=["contacts"])
    contact = crm.contacts[3]
    hubspot = connector(fake)
    stream, records = hubspot.webhook_records(
        "contact.propertyChange",
        event("contact.propertyChange", int(contact.contact_id), propertyName="email"),
    )
    assert stream is CONTACTS and len(records) == 1
    assert fake.requests_to(f"/crm/v3/objects/contacts/{contact.contact_id}")
    [row] = hubspot.rows(stream, records[0])
    synced = leads(zone)[f"contact:{contact.contact_id}"]
    assert row == {k: v for k, v in synced.items() if not k.startswith("_")}


def test_a_deal_event_fetches_the_deal_with_its_contacts(
    fake: FakeHubSpot, crm: Crm, zone: LandingZone
) -> None:
    sync_connector(connector(fake), zone, mode=FULL, streams=["deals"])
    deal = crm.deals[1]
    hubspot = connector(fake)
    stream, [item] = hubspot.webhook_records("deal.creation", event("deal.creation", deal.deal_id))
    assert stream is DEALS
    [row] = hubspot.rows(stream, item)
    synced = leads(zone)[f"deal:{deal.deal_id}"]
    assert row == {k: v for k, v in synced.items() if not k.startswith("_")}
    assert row["contact_id"] == f"contact:{deal.contact_id}"


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("contact.creation", event("contact.creation", None), "no objectId"),
        ("contact.creation", event("contact.creation", 999999), "no longer exists"),
        ("deal.creation", ["not", "an", "event"], "not a JSON object"),
    ],
)
def test_webhook_deliveries_it_cannot_map_say_why(
    fake: FakeHubSpot, topic: str, payload: Any, reason: str
) -> None:
    with pytest.raises(RecordError, match=reason):
        connector(fake).webhook_records(topic, payload)
