"""A fake HubSpot CRM v3 API (``/crm/v3/objects/...``), serving a :class:`Crm`.

Faithful to:

* ``Authorization: Bearer <private app token>``; without it or with another token, 401
  ``{"status": "error", "message": "Authentication credentials not found...",
  "category": "INVALID_AUTHENTICATION", "correlationId"}``;
* objects ``{"id", "properties", "createdAt", "updatedAt", "archived"}`` with ids as strings of
  digits and every property a string or null (``amount`` "1234.5", ``hs_is_closed_won``
  "true"); times ISO-8601 in UTC with milliseconds and ``Z`` (``2026-10-01T12:00:00.000Z``);
  only the properties asked for are returned (besides ``createdate``, ``hs_object_id`` and the
  object's last-modified property), an unknown property is silently left out;
* lists ``GET /crm/v3/objects/{type}?limit=&after=&properties=`` paged with
  ``paging.next.after``; one object ``GET /crm/v3/objects/{type}/{id}?properties=&associations=``
  (404 ``OBJECT_NOT_FOUND`` when there is none), associations in the v3 shape
  ``{"contacts": {"results": [{"id", "type": "deal_to_contact"}]}}``;
* search ``POST /crm/v3/objects/{type}/search`` with ``filterGroups`` (groups OR-ed, filters
  AND-ed; ``GTE``/``GT``/``LT``/``LTE``/``EQ``), ``sorts``, ``properties``, ``limit`` (at most
  100, else 400) and ``after`` (an offset as a string); answers ``{"total", "results",
  "paging": {"next": {"after"}}}``. ``total`` counts every match, but no result past the cap
  (10,000; ``search_cap`` here) is served: an ``after`` at or beyond it is a 400
  ``VALIDATION_ERROR``. Datetime filter values are epoch milliseconds as strings; HubSpot is
  said to accept ISO-8601 too (unconfirmed), so both are accepted (this fake filters on datetime
  properties only);
* v4 associations ``POST /crm/v4/associations/deals/contacts/batch/read`` with
  ``{"inputs": [{"id"}]}`` (at most 1,000): ``results[{"from": {"id"}, "to": [{"toObjectId"
  (a number), "associationTypes"}]}]``; a deal without contacts is an ``errors`` entry
  (``NO_ASSOCIATIONS_FOUND``) and the answer is then 207 Multi-Status;
* limits: every answer but search's carries ``X-HubSpot-RateLimit-Daily(-Remaining)`` and the
  10-second window's ``X-HubSpot-RateLimit-Max``/``-Remaining``/``-Interval-Milliseconds``
  (HubSpot does not send them on search); over the daily limit (``daily_limit``), 429 with
  ``policyName: DAILY``. Search is limited per second (``throttle_search``): 429
  ``{"status": "error", "message": "You have reached your secondly limit.", "errorType":
  "RATE_LIMIT", "policyName": "SECONDLY"}`` without ``Retry-After`` (none is documented).

The tenant's survey answer lives in a custom contact property (``survey_property``).
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.fakes.crm import Crm, CrmContact, CrmDeal
from tests.fakes.server import (
    FakeApi,
    Request,
    Response,
    WindowLimit,
    bearer_token,
    error,
    json_response,
    renamed,
)

SEARCH_CAP = 10_000
MODIFIED = {"contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate"}
ALWAYS = {"contacts": ("createdate", "hs_object_id", "lastmodifieddate"), "deals": ()}
DEFAULT_PROPERTIES = {
    "contacts": ("createdate", "email", "firstname", "lastname", "lastmodifieddate"),
    "deals": ("amount", "closedate", "createdate", "dealname", "dealstage", "pipeline"),
}


def hubspot_time(moment: datetime) -> str:
    """``2026-10-01T12:00:00.000Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _problem(status: int, message: str, category: str, **extra: Any) -> Response:
    return error(
        status,
        {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        },
    )


class FakeHubSpot(FakeApi):
    name = "hubspot"

    def __init__(
        self,
        crm: Crm,
        token: str = "hs-token-1",
        *,
        survey_property: str = "how_did_you_hear_about_us",
        search_cap: int = SEARCH_CAP,
        daily_limit: int = 250_000,
    ) -> None:
        super().__init__()
        self.crm = crm
        self.token = token
        self.survey_property = survey_property
        self.search_cap = search_cap
        self.daily_limit = daily_limit
        self.used_today = 0
        self.search_limit: WindowLimit | None = None
        # Field renames a test applies to served objects ({"properties.createdate": ...}).
        self.contact_renames: dict[str, str] = {}
        self.deal_renames: dict[str, str] = {}
        # Search bodies received, to assert what a client asked.
        self.searches: list[dict[str, Any]] = []

    def throttle_search(self, requests: int = 4, per_seconds: float = 1.0) -> None:
        """HubSpot's search limit (4 a second per token) with its own 429."""
        self.search_limit = WindowLimit(
            requests,
            per_seconds,
            response=lambda _wait: error(
                429,
                {
                    "status": "error",
                    "message": "You have reached your secondly limit.",
                    "errorType": "RATE_LIMIT",
                    "correlationId": str(uuid.uuid4()),
                    "policyName": "SECONDLY",
                },
            ),
        )

    # -- routing -------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        if bearer_token(request) != self.token:
            return _problem(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at https://developers.hubspot.com/"
                "docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        self.used_today += 1
        if self.used_today > self.daily_limit:
            return error(
                429,
                {
                    "status": "error",
                    "message": "You have reached your daily limit.",
                    "errorType": "RATE_LIMIT",
                    "correlationId": str(uuid.uuid4()),
                    "policyName": "DAILY",
                },
                **self._limit_headers(),
            )
        path = request.path
        match = re.fullmatch(r"/crm/v3/objects/(contacts|deals)/search", path)
        if match and request.method == "POST":
            if self.search_limit is not None:
                refused = self.search_limit.refuse(time.monotonic())
                if refused is not None:
                    return refused
            return self._search(match[1], request)
        response = self._other(request)
        response.headers.update(self._limit_headers())
        return response

    def _other(self, request: Request) -> Response:
        path = request.path
        if path == "/crm/v4/associations/deals/contacts/batch/read" and request.method == "POST":
            return self._associations(request)
        match = re.fullmatch(r"/crm/v3/objects/(contacts|deals)", path)
        if match and request.method == "GET":
            return self._list(match[1], request)
        match = re.fullmatch(r"/crm/v3/objects/(contacts|deals)/([^/]+)", path)
        if match and request.method == "GET":
            return self._one(match[1], match[2], request)
        return _problem(404, f"No route for {request.method} {path}", "OBJECT_NOT_FOUND")

    def _limit_headers(self) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - self.used_today)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": "190",
            "X-HubSpot-RateLimit-Remaining": "189",
        }

    # -- objects -------------------------------------------------------------------------------

    def contact_properties(self, contact: CrmContact) -> dict[str, str | None]:
        source = "OTHER_CAMPAIGNS" if contact.utm_source else "ORGANIC_SEARCH"
        return {
            "createdate": hubspot_time(contact.created_at),
            "email": contact.email,
            "firstname": contact.email.split("@")[0].title(),
            "lastname": None,
            "hs_object_id": contact.contact_id,
            "lastmodifieddate": hubspot_time(contact.updated_at),
            "hs_analytics_source": source,
            "hs_analytics_first_url": contact.first_url,
            "hs_analytics_first_referrer": contact.referrer,
            "lifecyclestage": contact.status,
            self.survey_property: contact.survey_answer,
        }

    def deal_properties(self, deal: CrmDeal) -> dict[str, str | None]:
        return {
            "amount": f"{deal.amount:g}" if deal.amount is not None else None,
            "deal_currency_code": deal.currency,
            "dealname": f"Deal {deal.deal_id}",
            "dealstage": deal.stage,
            "pipeline": "default",
            "createdate": hubspot_time(deal.created_at),
            "hs_lastmodifieddate": hubspot_time(deal.updated_at),
            "closedate": hubspot_time(deal.updated_at) if deal.is_won else None,
            "hs_is_closed_won": "true" if deal.is_won else "false",
            "hs_object_id": deal.deal_id,
        }

    def _objects(self, kind: str) -> list[tuple[str, dict[str, str | None], datetime, datetime]]:
        if kind == "contacts":
            return [
                (c.contact_id, self.contact_properties(c), c.created_at, c.updated_at)
                for c in self.crm.contacts
            ]
        return [
            (d.deal_id, self.deal_properties(d), d.created_at, d.updated_at) for d in self.crm.deals
        ]

    def _render(
        self,
        kind: str,
        object_id: str,
        properties: dict[str, str | None],
        created: datetime,
        updated: datetime,
        wanted: list[str],
    ) -> dict[str, Any]:
        names = list(dict.fromkeys([*ALWAYS[kind], MODIFIED[kind], *wanted]))
        record = {
            "id": object_id,
            "properties": {n: properties[n] for n in names if n in properties},
            "createdAt": hubspot_time(created),
            "updatedAt": hubspot_time(updated),
            "archived": False,
        }
        renames = self.contact_renames if kind == "contacts" else self.deal_renames
        return renamed(record, dict(renames)) if renames else record

    def _list(self, kind: str, request: Request) -> Response:
        try:
            limit = int(request.query.get("limit", "10"))
            offset = int(request.query.get("after", "0"))
        except ValueError:
            return _problem(400, "limit and after must be numbers", "VALIDATION_ERROR")
        if limit > 100:
            return _problem(400, "limit may not be more than 100", "VALIDATION_ERROR")
        wanted = _split(request.query.get("properties")) or list(DEFAULT_PROPERTIES[kind])
        objects = sorted(self._objects(kind), key=lambda o: int(o[0]))
        chunk = objects[offset : offset + limit]
        body: dict[str, Any] = {"results": [self._render(kind, *o, wanted) for o in chunk]}
        if offset + limit < len(objects):
            after = str(offset + limit)
            body["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
        return json_response(body)

    def _one(self, kind: str, object_id: str, request: Request) -> Response:
        found = next((o for o in self._objects(kind) if o[0] == object_id), None)
        if found is None:
            return _problem(
                404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND"
            )
        wanted = _split(request.query.get("properties")) or list(DEFAULT_PROPERTIES[kind])
        record = self._render(kind, *found, wanted)
        if kind == "deals" and "contacts" in _split(request.query.get("associations")):
            deal = next(d for d in self.crm.deals if d.deal_id == object_id)
            if deal.contact_id is not None:
                record["associations"] = {
                    "contacts": {"results": [{"id": deal.contact_id, "type": "deal_to_contact"}]}
                }
        return json_response(record)

    # -- search --------------------------------------------------------------------------------

    def _search(self, kind: str, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            return _problem(400, "Invalid input JSON", "VALIDATION_ERROR")
        if not isinstance(body, dict):
            return _problem(400, "Invalid input JSON", "VALIDATION_ERROR")
        self.searches.append(body)
        limit = body.get("limit", 10)
        try:
            offset = int(body.get("after") or 0)
        except (TypeError, ValueError):
            return _problem(
                400, f"after must be a number, got {body.get('after')!r}", "VALIDATION_ERROR"
            )
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            return _problem(
                400, f"limit must be between 1 and 100, got {limit!r}", "VALIDATION_ERROR"
            )
        if offset >= self.search_cap:
            return _problem(
                400,
                f"Search results are limited to {self.search_cap} per query; use a narrower filter",
                "VALIDATION_ERROR",
            )
        try:
            matches = [o for o in self._objects(kind) if _matches(o[1], body.get("filterGroups"))]
        except ValueError as exc:
            return _problem(400, str(exc), "VALIDATION_ERROR")
        for sort in reversed(body.get("sorts") or []):
            name = sort.get("propertyName") if isinstance(sort, dict) else None
            descending = isinstance(sort, dict) and sort.get("direction") == "DESCENDING"
            matches.sort(
                key=lambda o, n=name: (_ms(o[1].get(n)) or 0, int(o[0])), reverse=descending
            )
        served = matches[: self.search_cap]
        chunk = served[offset : offset + limit]
        wanted = [
            p for p in body.get("properties") or DEFAULT_PROPERTIES[kind] if isinstance(p, str)
        ]
        result: dict[str, Any] = {
            "total": len(matches),
            "results": [self._render(kind, *o, wanted) for o in chunk],
        }
        if offset + limit < len(served):
            result["paging"] = {"next": {"after": str(offset + limit)}}
        return json_response(result)

    # -- associations --------------------------------------------------------------------------

    def _associations(self, request: Request) -> Response:
        try:
            inputs = request.json()["inputs"]
            ids = [str(i["id"]) for i in inputs]
        except (ValueError, KeyError, TypeError):
            return _problem(400, "Invalid input JSON: inputs[].id expected", "VALIDATION_ERROR")
        if len(ids) > 1000:
            return _problem(400, "Batch input may not exceed 1000 items", "VALIDATION_ERROR")
        deals = {d.deal_id: d for d in self.crm.deals}
        results, errors = [], []
        for deal_id in ids:
            deal = deals.get(deal_id)
            if deal is None or deal.contact_id is None:
                errors.append(
                    {
                        "status": "error",
                        "category": "OBJECT_NOT_FOUND",
                        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                        "message": f"No contacts are associated with deal {deal_id}.",
                        "context": {"fromObjectId": [deal_id]},
                    }
                )
                continue
            results.append(
                {
                    "from": {"id": deal_id},
                    "to": [
                        {
                            "toObjectId": int(deal.contact_id),
                            "associationTypes": [
                                {"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}
                            ],
                        }
                    ],
                }
            )
        now = hubspot_time(datetime.now(UTC))
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": now,
            "completedAt": now,
        }
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        return json_response(body, status=207 if errors else 200)


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _ms(value: Any) -> int | None:
    """A filter or property value as epoch milliseconds (epoch-ms text or ISO-8601)."""
    if value is None or value == "":
        return None
    raw = str(value).strip()
    if raw.lstrip("-").isdigit():
        return int(raw)
    try:
        return epoch_ms(datetime.fromisoformat(raw.replace("Z", "+00:00")))
    except ValueError:
        return None


OPERATORS = {
    "EQ": lambda a, b: a == b,
    "GT": lambda a, b: a > b,
    "GTE": lambda a, b: a >= b,
    "LT": lambda a, b: a < b,
    "LTE": lambda a, b: a <= b,
}


def _matches(properties: dict[str, str | None], groups: Any) -> bool:
    if not groups:
        return True
    if not isinstance(groups, list):
        raise ValueError("filterGroups must be a list")
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise ValueError("each filter group needs filters")
        if all(_passes(properties, f) for f in filters):
            return True
    return False


def _passes(properties: dict[str, str | None], rule: Any) -> bool:
    if not isinstance(rule, dict) or rule.get("operator") not in OPERATORS:
        raise ValueError(f"unsupported filter {rule!r}")
    name = rule.get("propertyName")
    wanted = _ms(rule.get("value"))
    if wanted is None:
        raise ValueError(f"filter value of {name} is not a time: {rule.get('value')!r}")
    have = _ms(properties.get(name))
    return have is not None and OPERATORS[rule["operator"]](have, wanted)
