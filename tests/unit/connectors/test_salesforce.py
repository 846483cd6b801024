"""Salesforce beyond the generic contract: the SOQL asked, Opportunities, the refresh-token flow,
the daily quota and the concurrent limit, and settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from connectors.framework.connector import FULL
from connectors.framework.errors import ConnectorError, CredentialsError, QuotaExhaustedError
from connectors.framework.runtime import credentials_for
from connectors.framework.settings import RateLimit, parse_settings
from connectors.framework.sync import sync_connector
from connectors.marketing.salesforce import Salesforce, SalesforceSettings
from tests.fakes.crm import Crm, make_crm
from tests.fakes.salesforce import FakeSalesforce, salesforce_id
from tests.unit.connectors.conftest import landed_rows
from warehouse.landing import LandingZone
from warehouse.secrets import clear_cache, env_variable

FIRST = date(2026, 10, 1)
DAYS = 4
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "salesforce_co"
TOKEN = "00Dsf!unit-token"
APP = {"client_id": "3MVG9sf-client", "client_secret": "sf-secret-1"}
REFRESH = "5Aep861sf-refresh"


@pytest.fixture
def crm() -> Crm:
    return make_crm(FIRST, DAYS)


@pytest.fixture
def fake(crm: Crm) -> Iterator[FakeSalesforce]:
    with FakeSalesforce(crm, TOKEN, refresh_token=REFRESH) as server:
        yield server  # type: ignore[misc]


def connector(
    fake: FakeSalesforce, secrets: dict[str, str] | None = None, **settings: Any
) -> Salesforce:
    options = {
        "base_url": fake.base_url,
        "login_url": fake.base_url,
        "start_date": FIRST,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 2,
        **settings,
    }
    return Salesforce(
        TENANT,
        SalesforceSettings.model_validate(options),
        secrets if secrets is not None else {"access_token": TOKEN},
        today=LAST + timedelta(days=1),
    )


def leads(zone: LandingZone) -> dict[str, dict[str, Any]]:
    return {r["lead_id"]: r for r in landed_rows(zone, TENANT, "salesforce", "leads")}


def test_ids_are_18_characters_with_salesforce_checksum() -> None:
    lead = salesforce_id("00Q", "51")
    assert len(lead) == 18 and lead.startswith("00Q") and lead != salesforce_id("00Q", "52")
    assert salesforce_id("00Q", "51") == lead  # deterministic


def test_each_day_is_one_soql_query_with_unquoted_bounds_followed_to_done(
    crm: Crm, zone: LandingZone
) -> None:
    with FakeSalesforce(crm, TOKEN, batch_size=1) as server:
        sync_connector(connector(server), zone, mode=FULL, streams=["leads"])  # type: ignore[arg-type]
        queries = server.queries  # type: ignore[attr-defined]
        follow_ups = [s for s in server.requests_to("/query/01g")]
    assert len(queries) == DAYS
    assert queries[0] == (
        "SELECT Id, Email, CreatedDate, SystemModstamp, Status, LeadSource FROM Lead "
        "WHERE SystemModstamp >= 2026-10-01T00:00:00Z AND SystemModstamp < 2026-10-02T00:00:00Z "
        "ORDER BY SystemModstamp"
    )
    # Two Leads a day in batches of one: each day's locator is followed once.
    assert len(follow_ups) == DAYS and all(s.query == {} for s in follow_ups)
    rows = leads(zone)
    assert set(rows) == {f"lead:{salesforce_id('00Q', c.contact_id)}" for c in crm.contacts}
    contact = crm.contacts[0]
    row = rows[f"lead:{salesforce_id('00Q', contact.contact_id)}"]
    assert row["ts"] == contact.created_at.replace(tzinfo=None)  # "...000+0000" as naive UTC
    assert row["email"] == contact.email and row["status"] == "Open - Not Contacted"
    assert row["utm_source"] is None  # no UTM fields configured


def test_opportunities_land_with_amount_outcome_and_contact(
    fake: FakeSalesforce, crm: Crm, zone: LandingZone
) -> None:
    crm.deals[0].contact_id = None
    sync_connector(connector(fake), zone, mode=FULL, streams=["opportunities"])
    rows = leads(zone)
    assert set(rows) == {f"opportunity:{salesforce_id('006', d.deal_id)}" for d in crm.deals}
    for deal in crm.deals:
        row = rows[f"opportunity:{salesforce_id('006', deal.deal_id)}"]
        assert row["lead_type"] == "opportunity"
        assert row["value"] == pytest.approx(deal.amount)
        assert row["currency"] == "USD"
        assert row["is_won"] is deal.is_won
        # CloseDate is a day: a won opportunity closes at its start; an open one has no close
        won_day = datetime.combine(deal.updated_at.date(), datetime.min.time())
        assert row["closed_at"] == (won_day if deal.is_won else None)
        assert row["status"] == ("Closed Won" if deal.is_won else "Qualification")
        expected = f"contact:{salesforce_id('003', deal.contact_id)}" if deal.contact_id else None
        assert row["contact_id"] == expected


def test_currency_comes_from_a_field_only_in_a_multi_currency_org(
    crm: Crm, zone: LandingZone
) -> None:
    crm.deals[0].currency = "EUR"
    with FakeSalesforce(crm, TOKEN, multi_currency=True) as server:
        hubs = connector(server, currency_field="CurrencyIsoCode")  # type: ignore[arg-type]
        sync_connector(hubs, zone, mode=FULL, streams=["opportunities"])
    rows = leads(zone)
    assert rows[f"opportunity:{salesforce_id('006', crm.deals[0].deal_id)}"]["currency"] == "EUR"
    with (
        FakeSalesforce(crm, TOKEN) as single,
        pytest.raises(ConnectorError, match="INVALID_FIELD.*CurrencyIsoCode"),
    ):
        sync_connector(
            connector(single, currency_field="CurrencyIsoCode"),  # type: ignore[arg-type]
            LandingZone(zone.root.parent / "other"),
            mode=FULL,
            streams=["opportunities"],
        )


def test_an_expired_session_is_refreshed_once_and_the_sync_goes_on(
    fake: FakeSalesforce, crm: Crm, zone: LandingZone
) -> None:
    fake.expire_sessions()
    sync_connector(
        connector(
            fake, {"access_token": TOKEN, **APP, "refresh_token": REFRESH}, auth="refresh_token"
        ),
        zone,
        mode=FULL,
        streams=["leads"],
    )
    assert fake.issued == 1
    statuses = [s.status for s in fake.served]
    assert statuses[:3] == [401, 200, 200]  # refused, token, the same query again
    assert len(leads(zone)) == len(crm.contacts)


def test_a_refused_refresh_token_and_a_plain_expired_token_are_credential_errors(
    fake: FakeSalesforce,
) -> None:
    fake.expire_sessions()
    secrets = {"access_token": TOKEN, **APP, "refresh_token": "5Aep-revoked"}
    with pytest.raises(CredentialsError, match="invalid_grant") as refused:
        connector(fake, secrets, auth="refresh_token").check()
    assert "5Aep-revoked" not in str(refused.value) and APP["client_secret"] not in str(
        refused.value
    )
    with pytest.raises(CredentialsError, match="INVALID_SESSION_ID"):
        connector(fake).check()


def test_refresh_mode_reads_the_connected_app_secrets_and_names_a_missing_one(
    fake: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "env")
    monkeypatch.setenv(env_variable(TENANT, "salesforce_access_token"), TOKEN)
    monkeypatch.setenv(env_variable(TENANT, "salesforce_client_id"), APP["client_id"])
    monkeypatch.setenv(env_variable(TENANT, "salesforce_client_secret"), APP["client_secret"])
    clear_cache()
    settings = connector(fake, auth="refresh_token").options
    assert credentials_for(TENANT, Salesforce, connector(fake).options) == {"access_token": TOKEN}
    missing = env_variable(TENANT, "salesforce_refresh_token")
    with pytest.raises(CredentialsError, match=missing):
        credentials_for(TENANT, Salesforce, settings)
    monkeypatch.setenv(missing, REFRESH)
    clear_cache()
    fake.expire_sessions()
    secrets = credentials_for(TENANT, Salesforce, settings)
    assert "daily API requests left" in connector(fake, secrets, auth="refresh_token").check()
    clear_cache()


def test_the_daily_quota_stops_the_sync_and_the_concurrent_limit_is_retried(
    fake: FakeSalesforce, crm: Crm, zone: LandingZone
) -> None:
    fake.concurrent_limit_next(1)
    sync_connector(connector(fake), zone, mode=FULL, streams=["leads"])
    assert [s.status for s in fake.requests_to("/query")][:2] == [403, 200]
    assert len(leads(zone)) == len(crm.contacts)
    fake.daily_limit = fake.used
    with pytest.raises(QuotaExhaustedError, match="TotalRequests"):
        sync_connector(connector(fake), zone, mode=FULL, streams=["leads"])
    assert fake.served[-1].status == 403 and fake.served[-2].status != 403  # not retried


def test_check_reports_the_daily_requests_left(fake: FakeSalesforce) -> None:
    assert (
        connector(fake).check()
        == f"{fake.daily_limit - 1} of {fake.daily_limit} daily API requests left"
    )


def test_settings_need_an_instance_and_field_api_names() -> None:
    parse_settings(
        SalesforceSettings, {"instance_url": "https://acme.my.salesforce.com"}, "t", "sf"
    )
    with pytest.raises(Exception, match="instance_url"):
        parse_settings(SalesforceSettings, {}, "t.yaml", "salesforce")
    with pytest.raises(Exception, match="survey_field"):
        parse_settings(
            SalesforceSettings,
            {"instance_url": "https://acme.my.salesforce.com", "survey_field": "X FROM User"},
            "t.yaml",
            "salesforce",
        )
