"""Salesforce: Leads and Opportunities changed each day, as leads.

API facts (docs/user/connectors/salesforce.md; Salesforce REST API) this connector relies on:

* the org's own host (``https://{MyDomain}.my.salesforce.com``, setting ``instance_url``) and
  ``/services/data/v{api_version}``; an access token as ``Authorization: Bearer``; an expired or
  wrong one is 401 ``[{"message": "Session expired or invalid", "errorCode":
  "INVALID_SESSION_ID"}]``. Access tokens expire (the org's session timeout) and the token
  answer says nothing of when: with ``auth: refresh_token`` a 401 fetches a new token from
  ``{login_url}/services/oauth2/token`` (``grant_type=refresh_token``, the connected app's
  client id and secret in the form) and the request is sent again once;
* what changed in a day: ``GET .../query?q=SELECT ... WHERE SystemModstamp >= 2026-10-01T00:00:00Z
  AND SystemModstamp < 2026-10-02T00:00:00Z ORDER BY SystemModstamp`` (datetime literals are
  unquoted); the answer ``{"totalSize", "done", "nextRecordsUrl", "records"}`` is followed by
  ``nextRecordsUrl`` until ``done``; ``Sforce-Query-Options: batchSize=`` asks for batches of 200
  to 2000 (Salesforce may answer smaller ones);
* records carry ``attributes`` and the selected fields; ids are 15/18-character text; times
  ``2013-05-20T20:49:32.000+0000``; ``Amount`` a number or null, ``IsWon`` a boolean;
  ``CurrencyIsoCode`` exists only in multi-currency orgs, so the currency is a setting unless
  ``currency_field`` names it; ``Opportunity.ContactId`` (API 46.0+) is the primary contact;
* limits: every answer says ``Sforce-Limit-Info: api-usage=n/max``. Past the org's rolling
  24-hour quota the API answers 403 ``REQUEST_LIMIT_EXCEEDED`` "TotalRequests Limit exceeded":
  not retryable, a :class:`QuotaExhaustedError`. The concurrent long-request limit is a 403
  ``REQUEST_LIMIT_EXCEEDED`` too ("ConcurrentPerOrgLongTxn"), which passes: it is retried like a
  429 or 503 (what Salesforce answers a burst of short requests is not documented; both are
  retried, ``Retry-After`` honoured).

No webhooks: Outbound Messages and Platform Events are not received.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urljoin

from dlt.sources.helpers.rest_client.auth import BearerTokenAuth as StaticBearer
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from pydantic import Field, field_validator, model_validator
from requests import Request, Response

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import (
    ApiChangedError,
    ConnectorError,
    CredentialsError,
    QuotaExhaustedError,
)
from connectors.framework.http import ApiClient, Pacing
from connectors.framework.oauth import BearerTokenAuth, Token, refresh_token_grant
from connectors.framework.records import (
    blank_text,
    field_error,
    get,
    iso_z,
    number,
    text,
    timestamp,
)
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StreamState

LEADS = Stream("leads", "leads", "Leads changed each day (lead_type lead)")
OPPORTUNITIES = Stream(
    "opportunities", "leads", "Opportunities changed each day (lead_type opportunity)"
)
REFRESH_ROLES = ("client_id", "client_secret", "refresh_token")
_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class SalesforceSettings(ConnectorSettings):
    # The org's own address, https://<MyDomain>.my.salesforce.com (base_url overrides it).
    instance_url: str | None = None
    api_version: str = Field(default="62.0", pattern=r"^\d{2,3}\.0$")
    # access_token: the stored token only; refresh_token: renew it with the connected app.
    auth: Literal["access_token", "refresh_token"] = "access_token"
    # Where tokens are renewed (https://test.salesforce.com for a sandbox, or the My Domain).
    login_url: str = "https://login.salesforce.com"
    # The objects to sync.
    objects: list[Literal["leads", "opportunities"]] = Field(
        default_factory=lambda: ["leads", "opportunities"]
    )
    # Records per query batch asked for (Sforce-Query-Options), 200 to 2000.
    batch_size: int = Field(default=2000, ge=200, le=2000)
    # The currency of every Opportunity Amount, unless currency_field names a field holding it
    # (CurrencyIsoCode, in a multi-currency org).
    currency: str = "USD"
    currency_field: str | None = None
    # The Opportunity field holding its primary contact (null: none is read).
    contact_field: str | None = "ContactId"
    # Lead fields holding the survey answer and UTM tags (custom fields, e.g. UTM_Source__c).
    survey_field: str | None = None
    utm_source_field: str | None = None
    utm_medium_field: str | None = None
    utm_campaign_field: str | None = None

    @field_validator("instance_url", "login_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https://")
        return value.rstrip("/") if value else value

    @field_validator(
        "currency_field",
        "contact_field",
        "survey_field",
        "utm_source_field",
        "utm_medium_field",
        "utm_campaign_field",
    )
    @classmethod
    def _api_name(cls, value: str | None) -> str | None:
        # Field names go into SOQL: only API names are accepted.
        if value is not None and not _FIELD.fullmatch(value):
            raise ValueError(f"not a Salesforce field API name: {value!r}")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> SalesforceSettings:
        if not self.instance_url and not self.base_url:
            raise ValueError("instance_url is required (https://<MyDomain>.my.salesforce.com)")
        return self


class Salesforce(Connector):
    platform = "salesforce"
    display_name = "Salesforce"
    settings_model = SalesforceSettings
    credentials = ("access_token",)
    streams = (LEADS, OPPORTUNITIES)
    # The daily quota, not a rate, is Salesforce's limit; stay gentle on a shared org.
    default_pacing = Pacing(10, 1.0)

    @classmethod
    def credential_roles(cls, settings: ConnectorSettings) -> tuple[str, ...]:
        # The connected app's credentials are needed only where the tenant renews tokens.
        if isinstance(settings, SalesforceSettings) and settings.auth == "refresh_token":
            return (*cls.credentials, *REFRESH_ROLES)
        return cls.credentials

    @property
    def options(self) -> SalesforceSettings:
        assert isinstance(self.settings, SalesforceSettings)
        return self.settings

    @property
    def base_url(self) -> str:
        return self.settings.base_url or self.options.instance_url or ""

    @property
    def api(self) -> str:
        return f"/services/data/v{self.options.api_version}"

    def build_client(self) -> ApiClient:
        auth: Any = StaticBearer(self.secrets["access_token"])
        if self.options.auth == "refresh_token":
            auth = BearerTokenAuth(self._token, is_expired=lambda r: r.status_code == 401)
            self._stored_token: str | None = self.secrets.get("access_token")
        return ApiClient(
            self.platform,
            self.base_url,
            auth=auth,
            headers={"Sforce-Query-Options": f"batchSize={self.options.batch_size}"},
            check=_check,
            retry_condition=_concurrent_limit,
            **self.client_options(),
        )

    def _token(self) -> Token:
        """The stored access token first; after that, one from the refresh token."""
        stored, self._stored_token = self._stored_token, None
        if stored:
            return Token(stored)
        return refresh_token_grant(
            self.client.rest.session,
            f"{self.options.login_url}/services/oauth2/token",
            self.secrets["client_id"],
            self.secrets["client_secret"],
            self.secrets["refresh_token"],
            source=self.platform,
            client_auth="body",
            hint="check the connected app's client id and secret and the refresh token "
            "(earshot connectors set-secret), and that the app may use refresh tokens",
        )

    def check(self) -> str:
        page = self.client.get(f"{self.api}/limits")
        body = page.records[0]
        left = get(body, "DailyApiRequests.Remaining", None) if isinstance(body, dict) else None
        most = get(body, "DailyApiRequests.Max", None) if isinstance(body, dict) else None
        if left is None or most is None:
            return "the org answers with this token"
        return f"{left} of {most} daily API requests left"

    # -- streams -------------------------------------------------------------------------------

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        if stream.name not in self.options.objects:
            return Plan([], state.cursor, (f"{stream.name} is not among the tenant's objects",))
        return self.day_plan(state, mode)

    def fields(self, stream: Stream) -> list[str]:
        o = self.options
        if stream.name == LEADS.name:
            chosen = ["Id", "Email", "CreatedDate", "SystemModstamp", "Status", "LeadSource"]
            extra = [o.survey_field, o.utm_source_field, o.utm_medium_field, o.utm_campaign_field]
        else:
            chosen = ["Id", "Amount", "StageName", "IsWon", "IsClosed", "CloseDate", "CreatedDate"]
            chosen.append("SystemModstamp")
            extra = [o.currency_field, o.contact_field]
        return list(dict.fromkeys([*chosen, *[f for f in extra if f]]))

    def soql(self, stream: Stream, day: date) -> str:
        start, end = self.day_window(day.isoformat())
        sobject = "Lead" if stream.name == LEADS.name else "Opportunity"
        return (
            f"SELECT {', '.join(self.fields(stream))} FROM {sobject} "
            f"WHERE SystemModstamp >= {iso_z(start)} "
            f"AND SystemModstamp < {iso_z(end)} ORDER BY SystemModstamp"
        )

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        pages = self.client.pages(
            f"{self.api}/query",
            params={"q": self.soql(stream, date.fromisoformat(slice_id))},
            paginator=_NextRecords(self.base_url),
            data_selector="records",
        )
        for page in pages:
            for position, record in enumerate(page.records):
                yield SourceRecord(record, page.url, position)

    # -- rows ----------------------------------------------------------------------------------

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        record = item.record
        if not isinstance(record, dict):
            raise field_error("record", f"expected an object, got {type(record).__name__}")
        native = text(record, "Id")
        row: dict[str, Any] = {
            "ts": timestamp(record, "CreatedDate"),
            "updated_at": timestamp(record, "SystemModstamp", None),
            "ip": None,
            "user_agent": None,
            "landing_url": None,
            "referrer": None,
        }
        o = self.options
        if stream.name == LEADS.name:
            yield {
                "lead_id": f"lead:{native}",
                "lead_type": "lead",
                **row,
                "email": text(record, "Email", None),
                "value": None,
                "currency": None,
                "status": text(record, "Status", None),
                "is_won": None,
                "closed_at": None,
                "contact_id": None,
                "utm_source": _field(record, o.utm_source_field),
                "utm_medium": _field(record, o.utm_medium_field),
                "utm_campaign": _field(record, o.utm_campaign_field),
                "survey_answer": _field(record, o.survey_field),
            }
            return
        won = get(record, "IsWon", None)
        if won is not None and not isinstance(won, bool):
            raise field_error("IsWon", f"expected true or false, got {won!r}")
        contact = _field(record, o.contact_field)
        yield {
            "lead_id": f"opportunity:{native}",
            "lead_type": "opportunity",
            **row,
            "email": None,
            "value": number(record, "Amount", None),
            "currency": _field(record, o.currency_field) if o.currency_field else o.currency,
            "status": text(record, "StageName", None),
            "is_won": bool(won),
            # CloseDate is a date (no time): a won opportunity converts at its start, UTC, so
            # no touch after the day began is credited with it.
            "closed_at": _close_day(record) if won else None,
            "contact_id": f"contact:{contact}" if contact else None,
            "utm_source": None,
            "utm_medium": None,
            "utm_campaign": None,
            "survey_answer": None,
        }


def _field(record: Any, name: str | None) -> str | None:
    if not name:
        return None
    return blank_text(record, name, strip=False)


class _NextRecords(BasePaginator):
    """``nextRecordsUrl`` (a path on the instance, the query locator in it) until ``done``."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._base = base_url.rstrip("/") + "/"
        self._next: str | None = None

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("done"), bool):
            raise ApiChangedError(
                "salesforce: a query answer without done (true/false); the API has changed"
            )
        following = body.get("nextRecordsUrl")
        if not body["done"] and not following:
            raise ApiChangedError("salesforce: a query answer not done without nextRecordsUrl")
        self._next = None if body["done"] else str(following)
        self._has_next_page = self._next is not None

    def update_request(self, request: Request) -> None:
        if self._next is not None:
            request.url = urljoin(self._base, self._next)
            # The locator in the path replaces the query.
            request.params = {}


def _errors_of(response: Response) -> tuple[str, str]:
    """The errorCode and message of Salesforce's ``[{"message", "errorCode"}]`` answer."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    first = body[0] if isinstance(body, list) and body else body
    if not isinstance(first, dict):
        return "", ""
    return str(first.get("errorCode") or ""), " ".join(str(first.get("message") or "").split())


def _concurrent_limit(response: Response | None, exception: BaseException | None) -> bool:
    """The concurrent long-request limit passes: retried, unlike the daily quota."""
    if response is None or response.status_code != 403:
        return False
    code, message = _errors_of(response)
    return code == "REQUEST_LIMIT_EXCEEDED" and "TotalRequests" not in message


def _check(response: Response, url: str) -> None:
    status = response.status_code
    if status < 400:
        return
    code, message = _errors_of(response)
    message = message[:240]
    if status == 401:
        raise CredentialsError(
            f"salesforce: the session was refused (401 {code}) at {url}: {message}; store a new "
            "access token (earshot connectors set-secret) or set auth: refresh_token"
        )
    if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
        if "TotalRequests" in message:
            raise QuotaExhaustedError(
                f"salesforce: the org's daily API request limit is spent ({message}) at {url}; "
                "the sync stopped at its last checkpoint and resumes once Salesforce's rolling "
                "24 hours free requests"
            )
        raise ConnectorError(
            f"salesforce: still over a concurrent request limit ({message}) at {url}; the sync "
            "stopped at its last checkpoint and resumes from there"
        )
    if status == 403:
        raise CredentialsError(
            f"salesforce: the user may not do this (403 {code}) at {url}: {message}; the "
            "integration user needs API Enabled and read access to Leads and Opportunities"
        )
    if status == 400:
        raise ConnectorError(
            f"salesforce: the query was refused (400 {code}) at {url}: {message}; check the "
            "*_field settings against the org's fields"
        )


def _close_day(record: Any) -> datetime | None:
    """A won opportunity's CloseDate ("2026-10-05") as the start of that day, UTC."""
    value = get(record, "CloseDate", None)
    if value in (None, ""):
        return None
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        raise field_error("CloseDate", f"expected a date (YYYY-MM-DD), got {value!r}") from None
    return datetime(day.year, day.month, day.day)
