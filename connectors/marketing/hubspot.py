"""HubSpot CRM: contacts and deals changed each day, as leads; contact and deal webhooks.

API facts (docs/user/connectors/hubspot.md; HubSpot CRM v3) this connector relies on:

* base ``https://api.hubapi.com``; a private app's access token as ``Authorization: Bearer``; a
  wrong or missing token is 401 ``{"status": "error", "message", "category":
  "INVALID_AUTHENTICATION"}``, a token without a scope 403 ``MISSING_SCOPES``;
* objects ``{"id", "properties", "createdAt", "updatedAt", "archived"}``: ids are strings of
  digits (read as opaque text), every property is a string or null, times are ISO-8601 UTC with
  ``Z`` (``2026-10-01T12:00:00.000Z``);
* what changed in a window: ``POST /crm/v3/objects/{contacts|deals}/search`` with a filter group
  ``lastmodifieddate`` (deals: ``hs_lastmodifieddate``) ``GTE`` the window's start and ``LT``
  its end, as epoch-millisecond strings, sorted ascending on it, with the ``properties`` wanted,
  ``limit`` (at most 100) and ``after`` from ``paging.next.after``. Search serves at most 10,000
  results of one query (an ``after`` beyond is a 400) although ``total`` counts every match: a
  window whose ``total`` is over the cap is cut into 24 parts (a day into hours), recursively;
* search is limited to 4 requests a second per token, answered 429 ``{"errorType":
  "RATE_LIMIT", "policyName": "SECONDLY"}`` without ``Retry-After``: the client paces itself to
  4 a second, and a 429 is retried after a backoff. A 429 with ``policyName: DAILY`` is the
  daily quota: the sync stops at its checkpoint with a clear error;
* a deal's contacts come from one v4 batch read per page of deals
  (``POST /crm/v4/associations/deals/contacts/batch/read``, ``{"inputs": [{"id"}]}`` ->
  ``results[{"from": {"id"}, "to": [{"toObjectId"}]}]``, 207 with ``NO_ASSOCIATIONS_FOUND``
  errors for deals without one), kept in the deal record in the v3 shape of
  ``GET /crm/v3/objects/deals/{id}?associations=contacts``
  (``associations.contacts.results[{"id", "type"}]``) so both read the same;
* webhooks (``contact.creation``, ``contact.propertyChange``, ``deal.creation``,
  ``deal.propertyChange``) are thin events ``{"eventId", "subscriptionType", "objectId", ...}``:
  the object is fetched with ``GET /crm/v3/objects/{type}/{objectId}``.

HubSpot exposes no visitor IP address or user agent: ``ip`` and ``user_agent`` are null.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from pydantic import Field
from requests import Response

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import (
    ApiChangedError,
    ConnectorError,
    CredentialsError,
    QuotaExhaustedError,
    RecordError,
)
from connectors.framework.http import ApiClient, Pacing, redact_url
from connectors.framework.records import (
    blank_text,
    field_error,
    get,
    number,
    text,
    timestamp,
    utm_tags,
)
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StreamState

CONTACTS = Stream("contacts", "leads", "contacts changed each day (lead_type contact)")
DEALS = Stream("deals", "leads", "deals changed each day, with their first associated contact")
SEARCH_CAP = 10_000
# A window is cut into this many parts while its matches exceed the cap (a day into hours).
SPLIT_PARTS = 24
# Below this a window is not cut further: that many changes in one second cannot be paged.
MIN_WINDOW_MS = 1000
UTM = ("utm_source", "utm_medium", "utm_campaign")
WEBHOOK_TOPICS = (
    "contact.creation",
    "contact.propertyChange",
    "deal.creation",
    "deal.propertyChange",
)


@dataclass(frozen=True)
class _Kind:
    object_type: str
    # The property a window filters and sorts on.
    modified: str
    properties: tuple[str, ...]


class HubSpotSettings(ConnectorSettings):
    # The objects to sync; a token without the deals scope can leave "deals" out.
    objects: list[Literal["contacts", "deals"]] = Field(
        default_factory=lambda: ["contacts", "deals"]
    )
    # Results per search page (HubSpot's maximum is 100).
    page_size: int = Field(default=100, ge=1, le=100)
    # The contact property holding the answer to "how did you hear about us?".
    survey_property: str | None = None
    # Contact properties holding UTM tags; default: read from hs_analytics_first_url's query.
    utm_source_property: str | None = None
    utm_medium_property: str | None = None
    utm_campaign_property: str | None = None
    # The portal's company currency, for deals without deal_currency_code.
    currency: str = "USD"


class HubSpot(Connector):
    platform = "hubspot"
    display_name = "HubSpot"
    settings_model = HubSpotSettings
    credentials = ("access_token",)
    streams = (CONTACTS, DEALS)
    default_base_url = "https://api.hubapi.com"
    # Search's documented limit, 4 a second, is the tightest; every request is paced to it.
    default_pacing = Pacing(4, 1.0)
    webhook_topics = WEBHOOK_TOPICS
    # Results one search query serves (HubSpot's documented cap).
    search_cap = SEARCH_CAP

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            auth=BearerTokenAuth(self.secrets["access_token"]),
            check=_check,
            **self.client_options(),
        )

    @property
    def options(self) -> HubSpotSettings:
        assert isinstance(self.settings, HubSpotSettings)
        return self.settings

    def kind(self, stream: Stream) -> _Kind:
        if stream.name == CONTACTS.name:
            extra = [self.options.survey_property] + [
                getattr(self.options, f"{name}_property") for name in UTM
            ]
            properties = (
                "email",
                "createdate",
                "lastmodifieddate",
                "hs_analytics_source",
                "hs_analytics_first_url",
                "hs_analytics_first_referrer",
                "lifecyclestage",
                *[p for p in extra if p],
            )
            return _Kind("contacts", "lastmodifieddate", tuple(dict.fromkeys(properties)))
        return _Kind(
            "deals",
            "hs_lastmodifieddate",
            (
                "amount",
                "deal_currency_code",
                "dealstage",
                "createdate",
                "hs_lastmodifieddate",
                "closedate",
                "hs_is_closed_won",
            ),
        )

    def check(self) -> str:
        seen = []
        for name in self.options.objects:
            self.client.get(f"/crm/v3/objects/{name}", params={"limit": 1})
            seen.append(name)
        return f"{' and '.join(seen) or 'nothing'} readable with this access token"

    # -- streams -------------------------------------------------------------------------------

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        if stream.name not in self.options.objects:
            return Plan([], state.cursor, (f"{stream.name} is not among the tenant's objects",))
        return self.day_plan(state, mode)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        start, end = self.day_window(slice_id)
        yield from self._window(self.kind(stream), _ms(start), _ms(end))

    def _window(self, kind: _Kind, start: int, end: int) -> Iterator[SourceRecord]:
        """Every object of ``kind`` changed in [start, end) (epoch ms), page by page."""
        body, url = self._search(kind, start, end, None)
        total = body.get("total")
        if not isinstance(total, int):
            raise ApiChangedError(f"hubspot: {url} answered a search without a numeric total")
        if total > self.search_cap:
            if end - start <= MIN_WINDOW_MS:
                raise ConnectorError(
                    f"hubspot: {total} {kind.object_type} changed within one second at "
                    f"{datetime.fromtimestamp(start / 1000, UTC).isoformat()}; HubSpot's search "
                    f"serves at most {self.search_cap} results of one query, so they cannot be "
                    "listed"
                )
            step = max(MIN_WINDOW_MS, -(-(end - start) // SPLIT_PARTS))
            for part in range(start, end, step):
                yield from self._window(kind, part, min(part + step, end))
            return
        while True:
            results = body.get("results")
            if not isinstance(results, list):
                raise ApiChangedError(f"hubspot: {url} answered a search without a results list")
            if kind.object_type == "deals":
                results = self._with_contacts(results)
            for position, record in enumerate(results):
                yield SourceRecord(record, url, position)
            after = _next_after(body)
            if after is None:
                return
            body, url = self._search(kind, start, end, after)

    def _search(
        self, kind: _Kind, start: int, end: int, after: str | None
    ) -> tuple[dict[str, Any], str]:
        query: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": kind.modified, "operator": "GTE", "value": str(start)},
                        {"propertyName": kind.modified, "operator": "LT", "value": str(end)},
                    ]
                }
            ],
            "sorts": [{"propertyName": kind.modified, "direction": "ASCENDING"}],
            "properties": list(kind.properties),
            "limit": self.options.page_size,
        }
        if after is not None:
            query["after"] = after
        body, url = self._post(f"/crm/v3/objects/{kind.object_type}/search", query)
        # The window and page are in the body, not the URL: lineage names them after a '#'.
        return body, f"{url}#{kind.modified}={start}..{end}&after={after or 0}"

    def _post(self, path: str, payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
        response = self.client.rest.post(path, json=payload)
        url = redact_url(response.url)
        self.client.raise_for_problem(response, url)
        body = self.client.parse(response, url)
        if not isinstance(body, dict):
            raise ApiChangedError(f"hubspot: {url} should answer a JSON object")
        return body, url

    def _with_contacts(self, deals: list[Any]) -> list[Any]:
        """The deals of one page, each with its contacts in the v3 ``associations`` shape."""
        ids = [str(d["id"]) for d in deals if isinstance(d, dict) and d.get("id") is not None]
        if not ids:
            return deals
        body, url = self._post(
            "/crm/v4/associations/deals/contacts/batch/read",
            {"inputs": [{"id": deal_id} for deal_id in ids]},
        )
        results = body.get("results")
        if not isinstance(results, list):
            raise ApiChangedError(f"hubspot: {url} answered without a results list")
        contacts: dict[str, list[str]] = {}
        for result in results:
            try:
                deal_id = text(result, "from.id")
                targets = get(result, "to")
            except RecordError as exc:
                raise ApiChangedError(f"hubspot: {url}: {exc}") from None
            found = contacts.setdefault(str(deal_id), [])
            for target in targets if isinstance(targets, list) else []:
                contact = text(target, "toObjectId", None) if isinstance(target, dict) else None
                if contact is not None and contact not in found:
                    found.append(contact)
        enriched = []
        for deal in deals:
            linked = contacts.get(str(deal.get("id"))) if isinstance(deal, dict) else None
            if linked:
                results_v3 = [{"id": c, "type": "deal_to_contact"} for c in linked]
                deal = {**deal, "associations": {"contacts": {"results": results_v3}}}
            enriched.append(deal)
        return enriched

    # -- rows ----------------------------------------------------------------------------------

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        record = item.record
        native = text(record, "id")
        if not isinstance(get(record, "properties"), dict):
            raise field_error("properties", "expected an object")
        if stream.name == CONTACTS.name:
            yield self._contact(record, native)
            return
        yield self._deal(record, native)

    def _contact(self, record: Any, native: str | None) -> dict[str, Any]:
        first_url = _prop(record, "hs_analytics_first_url")
        tags = utm_tags(first_url)
        for name in UTM:
            configured = getattr(self.options, f"{name}_property")
            if configured:
                tags[name] = _prop(record, configured)
        survey = self.options.survey_property
        return {
            "lead_id": f"contact:{native}",
            "lead_type": "contact",
            "ts": timestamp(record, "properties.createdate"),
            "updated_at": timestamp(record, "properties.lastmodifieddate", None)
            or timestamp(record, "updatedAt", None),
            "email": _prop(record, "email"),
            "ip": None,
            "user_agent": None,
            "value": None,
            "currency": None,
            "status": _prop(record, "lifecyclestage"),
            "is_won": None,
            "closed_at": None,
            "contact_id": None,
            "landing_url": first_url,
            "referrer": _prop(record, "hs_analytics_first_referrer"),
            **{name: tags.get(name) for name in UTM},
            "survey_answer": _prop(record, survey) if survey else None,
        }

    def _deal(self, record: Any, native: str | None) -> dict[str, Any]:
        stage = _prop(record, "dealstage")
        closed_won = _prop(record, "hs_is_closed_won")
        if closed_won is not None and closed_won.lower() not in ("true", "false"):
            raise field_error("properties.hs_is_closed_won", f"expected true/false: {closed_won!r}")
        is_won = closed_won.lower() == "true" if closed_won is not None else stage == "closedwon"
        amount = _prop(record, "amount")
        contacts = get(record, "associations.contacts.results", [])
        first = contacts[0] if isinstance(contacts, list) and contacts else None
        contact = text(first, "id", None) if isinstance(first, dict) else None
        return {
            "lead_id": f"deal:{native}",
            "lead_type": "deal",
            "ts": timestamp(record, "properties.createdate"),
            "updated_at": timestamp(record, "properties.hs_lastmodifieddate", None)
            or timestamp(record, "updatedAt", None),
            "email": None,
            "ip": None,
            "user_agent": None,
            "value": number(record, "properties.amount") if amount is not None else None,
            "currency": _prop(record, "deal_currency_code") or self.options.currency,
            "status": stage,
            "is_won": is_won,
            # HubSpot sets closedate when a deal enters a closed stage; for an open deal it is a
            # forecast, so it is kept for won deals only.
            "closed_at": timestamp(record, "properties.closedate", None) if is_won else None,
            "contact_id": f"contact:{contact}" if contact else None,
            "landing_url": None,
            "referrer": None,
            "utm_source": None,
            "utm_medium": None,
            "utm_campaign": None,
            "survey_answer": None,
        }

    # -- webhooks ------------------------------------------------------------------------------

    def webhook_records(self, topic: str, payload: Any) -> tuple[Stream, list[SourceRecord]]:
        """A HubSpot event names an object: fetch it as it is now (the event carries one
        property at most) and map it like the day's search would."""
        if not isinstance(payload, dict):
            raise RecordError(f"hubspot {topic}: the event is not a JSON object")
        object_id = text(payload, "objectId", None)
        if not object_id:
            raise RecordError(f"hubspot {topic}: the event has no objectId")
        stream = CONTACTS if topic.startswith("contact.") else DEALS
        kind = self.kind(stream)
        params: dict[str, Any] = {"properties": ",".join(kind.properties)}
        if stream is DEALS:
            params["associations"] = "contacts"
        path = f"/crm/v3/objects/{kind.object_type}/{quote(object_id, safe='')}"
        response = self.client.rest.get(path, params=params)
        url = redact_url(response.url)
        if response.status_code == 404:
            raise RecordError(
                f"hubspot {topic}: {kind.object_type[:-1]} {object_id} no longer exists "
                "(deleted or merged since the event)"
            )
        self.client.raise_for_problem(response, url)
        record = self.client.parse(response, url)
        if not isinstance(record, dict):
            raise ApiChangedError(f"hubspot: {url} should answer a JSON object")
        return stream, [SourceRecord(record, url, 0)]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _prop(record: Any, name: str) -> str | None:
    """A property as text; HubSpot sends an emptied property as "" or null: both are None."""
    return blank_text(record, f"properties.{name}", strip=False)


def _next_after(body: dict[str, Any]) -> str | None:
    after = get(body, "paging.next.after", None)
    return str(after) if after not in (None, "") else None


def _check(response: Response, url: str) -> None:
    """HubSpot's own error shapes: ``{"status": "error", "message", "category"}``."""
    status = response.status_code
    if status < 400:
        return
    try:
        body = response.json()
    except ValueError:
        return
    if not isinstance(body, dict):
        return
    message = str(body.get("message") or "")[:200]
    category = str(body.get("category") or body.get("policyName") or "")
    if status == 401:
        raise CredentialsError(
            f"hubspot: the access token was refused (401 {category}) at {url}: {message}; "
            "check the private app's access token (earshot connectors set-secret)"
        )
    if status == 403:
        raise CredentialsError(
            f"hubspot: the access token may not read this (403 {category}) at {url}: {message}; "
            "give the private app the crm.objects.contacts.read and crm.objects.deals.read scopes"
        )
    if status == 429 and body.get("policyName") == "DAILY":
        raise QuotaExhaustedError(
            f"hubspot: the portal's daily API limit is spent at {url}; the sync stopped at its "
            "last checkpoint and resumes from there on the next run"
        )
    if status == 400:
        raise ConnectorError(f"hubspot: {url} refused the request (400 {category}): {message}")
