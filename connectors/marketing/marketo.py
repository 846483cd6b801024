"""Marketo: tracked web page visits, form fills and new leads, from the lead activity log.

API facts (Marketo REST API documentation; docs/user/connectors/marketo.md) this connector
relies on:

* base ``https://{munchkin_id}.mktorest.com``, every path under ``/rest/v1``; the identity
  service at ``{base}/identity`` unless the instance shows another Identity URL;
* token: ``GET {identity}/oauth/token?grant_type=client_credentials&client_id=&client_secret=``
  -> ``{"access_token", "token_type": "bearer", "expires_in", "scope"}``; ``expires_in`` is the
  token's *remaining* life (3599 s when new; asked again early, the same token comes back with
  fewer seconds); a bad client id or secret is HTTP 401. The token travels as
  ``Authorization: Bearer`` (the ``access_token`` query parameter is being retired);
* errors are HTTP 200 with ``{"requestId", "success": false, "errors": [{"code": "606",
  "message": ...}]}``, the code a quoted number: 600 empty token, 601 invalid token, 602 expired
  token (fetch a new one and ask again), 603 access denied (the API user's role), 604 timed out,
  606 rate limit (100 calls per 20 s), 607 daily quota (50,000 calls), 608 temporarily
  unavailable, 611 system error, 615 concurrency limit (10 at once), 713 transient error,
  1029 export daily quota / too many jobs; anything else (1003 invalid value, 7xx) is a request
  the API will not answer;
* activities: ``GET /rest/v1/activities/pagingtoken.json?sinceDatetime=<ISO-8601>`` ->
  ``{"nextPageToken"}``, then ``GET /rest/v1/activities.json?nextPageToken=&activityTypeIds=1,2
  &batchSize=`` (at most 300) -> ``{"nextPageToken", "moreResult", "result": [...]}``. Each call
  goes through up to ``batchSize`` activities of *all* types from the token and returns those of
  the asked types, so a page may be empty (``result`` is then left out) while ``moreResult`` is
  true; activities come in time order; the token has no end date;
* an activity: ``id`` and ``leadId`` (numbers), ``marketoGUID`` (text), ``activityDate`` (UTC,
  ``2026-10-01T13:45:12Z``), ``activityTypeId``, ``primaryAttributeValueId``,
  ``primaryAttributeValue`` and ``attributes: [{"name", "value"}]``. Visit Webpage (1): the page
  is the primary attribute value (host and path, often without a scheme); "Client IP Address",
  "User Agent", "Query Parameters" (without the ``?``), "Referrer URL", "Webpage URL". Fill Out
  Form (2): the form is the primary attribute value; the same address, browser, query, referrer
  and "Webpage URL" attributes. New Lead (12): "Source Type", "Form Name", "Lead Source";
* activities never change once written: a day's activities are final, and no activity carries
  the lead's email (that is the Leads API, which this connector does not read).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import requests
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from pydantic import Field, field_validator, model_validator
from requests import Request, Response

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import (
    ApiChangedError,
    ConnectorError,
    CredentialsError,
    QuotaExhaustedError,
    RecordError,
)
from connectors.framework.http import USER_AGENT, ApiClient, Pacing, redact_url
from connectors.framework.oauth import BearerTokenAuth, Token
from connectors.framework.records import (
    field_error,
    integer,
    iso_z,
    parse_timestamp,
    text,
    timestamp,
    utm_tags,
)
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StreamState

VISIT, FORM_FILL, NEW_LEAD = 1, 2, 12
TYPE_NAMES = {VISIT: "Visit Webpage", FORM_FILL: "Fill Out Form", NEW_LEAD: "New Lead"}

WEB_VISITS = Stream(
    "web_visits",
    "site_events",
    "each tracked web page visit (Visit Webpage): address, browser, page, query and referrer",
)
LEAD_ACTIVITIES = Stream(
    "lead_activities",
    "leads",
    "each new lead (New Lead) and each form fill (Fill Out Form), with its page and UTM tags",
)
STREAM_TYPES = {WEB_VISITS.name: (VISIT,), LEAD_ACTIVITIES.name: (FORM_FILL, NEW_LEAD)}

TOKEN_REFUSED = frozenset({"601", "602"})
THROTTLED = frozenset({"606", "615"})
# Marketo's own list of errors worth asking again (timeouts, unavailable, system errors).
TRANSIENT = frozenset({"604", "608", "611", "713"})
QUOTA = frozenset({"607", "1029"})
DENIED = frozenset({"600", "603"})
_FAILED = re.compile(rb'"success"\s*:\s*false')
_MUNCHKIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


class MarketoSettings(ConnectorSettings):
    # The instance's Munchkin account id (Admin > Munchkin), e.g. 123-ABC-456.
    munchkin_id: str | None = None
    # The REST API's Identity URL (Admin > Web Services); default {base}/identity.
    identity_url: str | None = None
    # Activity types to land: 1 Visit Webpage, 2 Fill Out Form, 12 New Lead.
    activity_type_ids: list[int] = Field(default_factory=lambda: [VISIT, FORM_FILL, NEW_LEAD])
    # Activities Marketo goes through per call (its maximum is 300).
    batch_size: int = Field(default=300, ge=1, le=300)

    @field_validator("munchkin_id")
    @classmethod
    def _munchkin(cls, value: str | None) -> str | None:
        # It becomes a host name: nothing but letters, digits and dashes.
        if value is not None and not _MUNCHKIN.fullmatch(value):
            raise ValueError(f"not a Munchkin id like 123-ABC-456: {value!r}")
        return value

    @field_validator("identity_url")
    @classmethod
    def _identity(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("activity_type_ids")
    @classmethod
    def _types(cls, value: list[int]) -> list[int]:
        unknown = sorted(set(value) - set(TYPE_NAMES))
        if unknown:
            known = ", ".join(f"{k} ({v})" for k, v in TYPE_NAMES.items())
            raise ValueError(f"activity type(s) {unknown} are not landed; known: {known}")
        return value

    @model_validator(mode="after")
    def _where(self) -> MarketoSettings:
        if not self.munchkin_id and not self.base_url:
            raise ValueError("munchkin_id is required (or base_url)")
        return self


class Marketo(Connector):
    platform = "marketo"
    display_name = "Marketo"
    settings_model = MarketoSettings
    credentials = ("client_id", "client_secret")
    streams = (WEB_VISITS, LEAD_ACTIVITIES)
    # The documented limit: 100 calls in any 20 seconds (shared with every other integration
    # of the instance, so a 606 can still come: it is retried).
    default_pacing = Pacing(100, 20.0)

    @property
    def base_url(self) -> str:
        return self.settings.base_url or f"https://{self._settings.munchkin_id}.mktorest.com"

    @property
    def _settings(self) -> MarketoSettings:
        return self.settings  # type: ignore[return-value]

    @property
    def identity_url(self) -> str:
        return self._settings.identity_url or f"{self.base_url}/identity"

    def build_client(self) -> ApiClient:
        # Marketo throttles with a 606 inside an HTTP 200, which the client's counter (429s)
        # would not see: ``throttled`` looks at every attempt's answer, retries included.
        return ApiClient(
            self.platform,
            self.base_url,
            auth=BearerTokenAuth(self._fetch_token, is_expired=_token_refused),
            retry_condition=_retryable,
            check=self._check_response,
            throttled=_throttled,
            **self.client_options(),
        )

    # -- tokens and errors ---------------------------------------------------------------------

    def _fetch_token(self) -> Token:
        where = f"{self.identity_url}/oauth/token"
        params = {
            "grant_type": "client_credentials",
            "client_id": self.secrets["client_id"],
            "client_secret": self.secrets["client_secret"],
        }
        try:
            # Through the client's session: paced, and retried on 5xx and on a 606 body.
            response = self.client.rest.session.get(
                where,
                params=params,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                timeout=60,
            )
        except requests.RequestException as exc:
            # requests' own message holds the URL, client secret included.
            raise ConnectorError(
                f"marketo: the identity service {where} could not be reached "
                f"({type(exc).__name__}); the sync stopped at its last checkpoint"
            ) from None
        body = _json_or_none(response)
        if response.status_code in (400, 401, 403):
            error = body if isinstance(body, dict) else {}
            reason = self._scrub(
                f"{error.get('error') or 'refused'}: {error.get('error_description') or ''}"
            )
            raise CredentialsError(
                f"marketo: the identity service {where} refused the client id and secret "
                f"({response.status_code} {reason.strip(': ')[:120]}); check the tenant's "
                f"{self.secret_name('client_id', self.settings)} and "
                f"{self.secret_name('client_secret', self.settings)} (Admin > LaunchPoint > "
                "View Details) and the identity_url setting"
            )
        if response.status_code >= 400:
            raise ConnectorError(
                f"marketo: the identity service {where} answered {response.status_code}; "
                "the sync stopped at its last checkpoint and resumes from there"
            )
        self._check_response(response, where)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ApiChangedError(f"marketo: the identity service {where} gave no access_token")
        lifetime = body.get("expires_in")
        seconds = (
            float(lifetime)
            if isinstance(lifetime, int | float | str) and str(lifetime).strip().isdigit()
            else None
        )
        return Token(
            access_token=body["access_token"],
            token_type=str(body.get("token_type") or "bearer"),
            expires_at=time.monotonic() + seconds if seconds is not None else None,
            scope=body.get("scope") if isinstance(body.get("scope"), str) else None,
            lifetime_s=seconds,
        )

    def _scrub(self, message: str) -> str:
        """A message from Marketo without any credential in it (some errors echo the id)."""
        for value in self.secrets.values():
            if value:
                message = message.replace(value, "***")
        return message

    def _check_response(self, response: Response, url: str) -> None:
        errors = _errors(response)
        if not errors:
            return
        codes = {code for code, _ in errors}
        code, message = errors[0]
        said = f"{code} {self._scrub(message)[:160]}"
        attempts = self.client.max_attempts
        if codes & TOKEN_REFUSED:
            raise CredentialsError(
                f"marketo: the access token was refused ({said}) at {url} even after fetching a "
                f"new one; check the tenant's {self.secret_name('client_id', self.settings)} and "
                f"{self.secret_name('client_secret', self.settings)}"
            )
        if codes & DENIED:
            raise CredentialsError(
                f"marketo: access denied ({said}) at {url}; the API user of the LaunchPoint "
                "service needs a role with Read-Only Activity permission (and the instance's "
                "IP allowlist, if any, must admit this host)"
            )
        if codes & QUOTA:
            raise QuotaExhaustedError(
                f"marketo: the daily API quota is spent ({said}) at {url}; the sync stopped at "
                "its last checkpoint and goes on from there after Marketo's quota resets"
            )
        if codes & THROTTLED:
            raise ConnectorError(
                f"marketo: still throttled ({said}) at {url} after {attempts} attempts; other "
                "integrations share the instance's limit. The sync stopped at its last "
                "checkpoint and resumes from there"
            )
        if codes & TRANSIENT:
            raise ConnectorError(
                f"marketo: temporarily unavailable ({said}) at {url} after {attempts} attempts; "
                "the sync stopped at its last checkpoint and resumes from there"
            )
        raise ConnectorError(f"marketo: {url} was refused with error {said}")

    # -- what a tenant checks ------------------------------------------------------------------

    def check(self) -> str:
        page = self.client.get("/rest/v1/activities/types.json")
        body = page.records[0]
        listed = body.get("result") if isinstance(body, dict) else None
        if not isinstance(listed, list):
            raise ApiChangedError(f"marketo: {page.url} should list activity types")
        ids = {str(t.get("id")) for t in listed if isinstance(t, dict)}
        missing = [t for t in self._settings.activity_type_ids if str(t) not in ids]
        if missing:
            raise ConnectorError(
                f"marketo: activity type(s) {missing} of activity_type_ids are not in this "
                "instance's activity types"
            )
        return f"{len(listed)} activity types visible"

    # -- streams -------------------------------------------------------------------------------

    def types_of(self, stream: Stream) -> list[int]:
        """The activity types ``stream`` asks for: its own, among those the tenant wants."""
        wanted = self._settings.activity_type_ids
        return [t for t in STREAM_TYPES[stream.name] if t in wanted]

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        if not self.types_of(stream):
            names = ", ".join(TYPE_NAMES[t] for t in STREAM_TYPES[stream.name])
            return Plan([], state.cursor, (f"activity_type_ids leaves out {names}",))
        return self.day_plan(state, mode)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        # Activity times are read as naive UTC (records.parse_timestamp): compare alike.
        start, end = (moment.replace(tzinfo=None) for moment in self.day_window(slice_id))
        token = self._paging_token(start)
        pages = self.client.pages(
            "/rest/v1/activities.json",
            params={
                "nextPageToken": token,
                "activityTypeIds": ",".join(str(t) for t in self.types_of(stream)),
                "batchSize": self._settings.batch_size,
            },
            paginator=_ActivityPages(token),
            data_selector="result",
        )
        new_leads: set[str] = set()
        for page in pages:
            for position, record in enumerate(page.records):
                when = _activity_time(record)
                # In time order: the first activity of a later day ends the slice (the token
                # would go on to now).
                if when is not None and when >= end:
                    return
                if when is not None and when < start:
                    continue
                if _is_repeated_new_lead(record, new_leads):
                    continue
                yield SourceRecord(record, page.url, position, {"day": slice_id})

    def _paging_token(self, since: datetime) -> str:
        page = self.client.get(
            "/rest/v1/activities/pagingtoken.json",
            params={"sinceDatetime": iso_z(since)},
        )
        body = page.records[0]
        token = body.get("nextPageToken") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ApiChangedError(f"marketo: {page.url} answered no nextPageToken")
        return token

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        record = item.record
        if not isinstance(record, dict):
            raise field_error("activity", f"expected an object, got {type(record).__name__}")
        kind = integer(record, "activityTypeId")
        if kind not in self.types_of(stream):
            raise field_error("activityTypeId", f"{kind} is not an activity {stream.name} lands")
        at = timestamp(record, "activityDate")
        attributes = _attributes(record)
        query = _query(attributes.get("Query Parameters"))
        utm = utm_tags(query)
        if stream.name == WEB_VISITS.name:
            page = text(record, "primaryAttributeValue", None) or attributes.get("Webpage URL")
            yield {
                "event_id": f"marketo:{text(record, 'marketoGUID', None) or text(record, 'id')}",
                "ts": at,
                "ip": attributes.get("Client IP Address"),
                "user_agent": attributes.get("User Agent"),
                "event_type": "visit",
                "url": _with_query(page, query),
                "referrer": attributes.get("Referrer URL"),
                "order_id": None,
                **utm,
            }
            return
        lead = f"lead:{text(record, 'leadId')}"
        if kind == NEW_LEAD:
            lead_id, lead_type, contact_id = lead, "lead", None
        else:
            # A lead fills in many forms: each fill is its own conversion, tied to its lead.
            lead_id, lead_type, contact_id = f"form_fill:{text(record, 'id')}", "form_fill", lead
        yield {
            "lead_id": lead_id,
            "lead_type": lead_type,
            "ts": at,
            # Activities never change: when it happened is when it was last updated.
            "updated_at": at,
            "email": None,
            "ip": attributes.get("Client IP Address"),
            "user_agent": attributes.get("User Agent"),
            "value": None,
            "currency": None,
            "status": attributes.get("Source Type") if kind == NEW_LEAD else None,
            "is_won": None,
            "closed_at": None,
            "contact_id": contact_id,
            "landing_url": _with_query(attributes.get("Webpage URL"), query),
            "referrer": attributes.get("Referrer URL"),
            **utm,
            "survey_answer": None,
        }


# -- reading Marketo's answers -----------------------------------------------------------------


def _json_or_none(response: Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _errors(response: Response | None) -> list[tuple[str, str]]:
    """The ``(code, message)`` of each error in a ``"success": false`` body; [] for any other."""
    if response is None or not response.ok or not _FAILED.search(response.content or b""):
        return []
    try:
        body = json.loads(response.content)
    except ValueError:
        return []
    if not isinstance(body, dict) or body.get("success") is not False:
        return []
    listed = body.get("errors")
    errors = [
        (str(e.get("code")), str(e.get("message") or ""))
        for e in (listed if isinstance(listed, list) else [])
        if isinstance(e, dict)
    ]
    return errors or [("unknown", "success is false and no error was given")]


def _codes(response: Response | None) -> set[str]:
    return {code for code, _ in _errors(response)}


def _token_refused(response: Response) -> bool:
    """601/602 come as HTTP 200: the auth fetches a new token and asks again, once."""
    return bool(_codes(response) & TOKEN_REFUSED)


def _retryable(response: Response | None, exception: BaseException | None) -> bool:
    """A 606/615 (throttled) or a transient error in an HTTP 200 is retried like a 429/5xx."""
    return bool(_codes(response) & (THROTTLED | TRANSIENT))


def _throttled(response: Response) -> bool:
    """A throttled answer (606, 615), counted as the 429 it means."""
    return bool(_codes(response) & THROTTLED)


class _ActivityPages(BasePaginator):
    """``nextPageToken`` from each page while ``moreResult`` is true (an empty page included)."""

    def __init__(self, first_token: str) -> None:
        super().__init__()
        self._sent = first_token
        self._next: str | None = None

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()
        where = redact_url(response.url)
        more = body.get("moreResult") if isinstance(body, dict) else None
        token = body.get("nextPageToken") if isinstance(body, dict) else None
        if not isinstance(more, bool):
            raise ApiChangedError(f"marketo: {where} answered no moreResult true/false")
        if more and (not isinstance(token, str) or not token):
            raise ApiChangedError(f"marketo: {where} has moreResult but no nextPageToken")
        if more and token == self._sent and not data:
            raise ApiChangedError(
                f"marketo: {where} answered an empty page and the same nextPageToken again; "
                "paging would not end"
            )
        self._has_next_page = more
        self._next = token if more else None

    def update_request(self, request: Request) -> None:
        if self._next is not None:
            request.params["nextPageToken"] = self._next
            self._sent = self._next


def _activity_time(record: Any) -> datetime | None:
    """When an activity happened, None when unreadable (its row then says why)."""
    value = record.get("activityDate") if isinstance(record, dict) else None
    if value is None:
        return None
    try:
        return parse_timestamp(value, "activityDate")
    except RecordError:
        return None


def _is_repeated_new_lead(record: Any, seen: set[str]) -> bool:
    """A second New Lead of one lead in a slice (a lead is created once; its key is the lead)."""
    if not isinstance(record, dict) or str(record.get("activityTypeId")) != str(NEW_LEAD):
        return False
    lead = str(record.get("leadId"))
    if lead in seen:
        return True
    seen.add(lead)
    return False


def _attributes(record: dict[str, Any]) -> dict[str, str]:
    """The activity's ``attributes`` by name; empty values are left out."""
    listed = record.get("attributes")
    if listed is None:
        return {}
    if not isinstance(listed, list):
        raise field_error("attributes", f"expected a list, got {type(listed).__name__}")
    found = {}
    for attribute in listed:
        if not isinstance(attribute, dict) or not isinstance(attribute.get("name"), str):
            raise field_error("attributes", f"expected {{name, value}}, got {attribute!r}")
        value = attribute.get("value")
        if value is not None and str(value).strip():
            found[attribute["name"]] = str(value).strip()
    return found


def _query(value: str | None) -> str | None:
    query = (value or "").lstrip("?")
    return query or None


def _with_query(page: str | None, query: str | None) -> str | None:
    if not page:
        return None
    return f"{page}?{query}" if query and "?" not in page else page
