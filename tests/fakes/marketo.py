"""A fake Marketo REST API (``/identity/oauth/token``, ``/rest/v1/activities...``) and its world.

Faithful to:

* the identity service: ``GET`` (or ``POST``) ``/identity/oauth/token`` with
  ``grant_type=client_credentials``, ``client_id`` and ``client_secret`` in the query (or the
  form body) -> ``{"access_token": "<uuid>:int", "token_type": "bearer", "expires_in", "scope"}``;
  ``expires_in`` is the token's remaining life, and asking again while it lives gives the same
  token with fewer seconds; a bad client id or secret is HTTP 401
  ``{"error": "invalid_client", "error_description": "Bad client credentials"}``;
* REST calls take ``Authorization: Bearer <token>`` (or the retiring ``access_token`` query
  parameter; ``auth_via`` records which); every REST error is HTTP 200 with
  ``{"requestId", "success": false, "errors": [{"code": "601", "message": ...}]}``: 600 no
  token, 601 unknown token, 602 expired token, 606 throttled (``throttle``), 1003/701 for bad
  parameters; any code on demand (``inject``);
* ``/rest/v1/activities/types.json`` lists activity types with their attributes;
* ``/rest/v1/activities/pagingtoken.json?sinceDatetime=`` (ISO-8601 with ``Z`` or an offset, or a
  bare date) -> an opaque base32 ``nextPageToken`` for that moment;
* ``/rest/v1/activities.json?nextPageToken=&activityTypeIds=1,2&batchSize=``: each call goes
  through ``batchSize`` (at most 300) activities of *every* type from the token's position and
  returns those of the asked types, in time order, with a token for the next position and
  ``moreResult``; a page without any is ``moreResult: true`` without a ``result`` key (with
  ``result: []`` when ``empty_result_key``), as Marketo answers;
* an activity: ``id`` and ``leadId`` numbers, ``marketoGUID`` text, ``activityDate`` in UTC with
  ``Z``, ``primaryAttributeValueId``/``primaryAttributeValue`` and ``attributes`` as
  ``[{"name", "value"}]`` (an empty query is ``""``; a visit without a referrer has none).

Not confirmed, so chosen here: the error code for an unreadable ``nextPageToken`` (1003) and
the exact attribute list of each type (the common ones are served).
"""

from __future__ import annotations

import base64
import itertools
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tests.fakes.server import FakeApi, Request, Response, WindowLimit, error, json_response

VISIT, FORM_FILL, NEW_LEAD, SEND_EMAIL, OPEN_EMAIL = 1, 2, 12, 6, 10
TYPES = {
    VISIT: ("Visit Webpage", "Webpage ID"),
    FORM_FILL: ("Fill Out Form", "Webform ID"),
    SEND_EMAIL: ("Send Email", "Mailing ID"),
    OPEN_EMAIL: ("Open Email", "Mailing ID"),
    NEW_LEAD: ("New Lead", "Lead ID"),
}
MAX_BATCH = 300


@dataclass
class Activity:
    """One entry of the activity log, with the facts the connector should land from it."""

    activity_id: int
    lead_id: int
    type_id: int
    at: datetime  # aware UTC
    page: str | None = None  # a visit's page; a form fill's Webpage URL
    query: str | None = None  # without the "?"
    referrer: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    name: str | None = None  # a form's, a mailing's or a new lead's name
    source_type: str | None = None  # New Lead
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None

    def url(self) -> str | None:
        if self.page is None:
            return None
        return f"{self.page}?{self.query}" if self.query else self.page

    def _webpage_url(self) -> str | None:
        # A visit's Webpage URL is the page's path; a form fill's, the page it was filled on.
        if self.type_id == VISIT and self.page:
            return "/" + self.page.partition("/")[2]
        return self.page

    def render(self) -> dict[str, Any]:
        attributes: list[tuple[str, Any]]
        if self.type_id in (VISIT, FORM_FILL):
            attributes = [
                ("Client IP Address", self.ip),
                ("Query Parameters", self.query or ""),
                ("User Agent", self.user_agent),
                ("Webpage URL", self._webpage_url()),
            ]
            if self.referrer is not None:
                attributes.append(("Referrer URL", self.referrer))
            if self.type_id == FORM_FILL:
                attributes.append(("Form Fields", '{"Email":"***"}'))
            primary: tuple[int, Any] = (
                100 + sum(map(ord, self.page or "")) % 50,
                self.page if self.type_id == VISIT else self.name,
            )
        elif self.type_id == NEW_LEAD:
            attributes = [
                ("Created Date", self.at.date().isoformat()),
                ("Form Name", self.name),
                ("Lead Source", "Website"),
                ("Source Type", self.source_type),
            ]
            primary = (self.lead_id, f"Lead {self.lead_id}")
        else:
            attributes = [("Campaign Run ID", 7000 + self.activity_id % 7)]
            primary = (4000 + self.activity_id % 3, self.name)
        return {
            "id": self.activity_id,
            "marketoGUID": str(self.activity_id),
            "leadId": self.lead_id,
            "activityDate": self.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "activityTypeId": self.type_id,
            "campaignId": 1029,
            "primaryAttributeValueId": primary[0],
            "primaryAttributeValue": primary[1],
            "attributes": [{"name": n, "value": v} for n, v in attributes if v is not None],
        }


@dataclass
class MarketoWorld:
    activities: list[Activity] = field(default_factory=list)

    def of_type(self, *types: int) -> list[Activity]:
        return [a for a in self.activities if a.type_id in types]

    def add(self, activity: Activity) -> None:
        self.activities.append(activity)
        self.activities.sort(key=lambda a: (a.at, a.activity_id))

    def next_ids(self) -> tuple[int, int]:
        """A new activity id and a new lead id."""
        return (
            max(a.activity_id for a in self.activities) + 1,
            max(a.lead_id for a in self.activities) + 1,
        )

    def change(self, day: date) -> int:
        """A new visit from a podcast listener on ``day``. Activities are never revised, so a
        change is only ever a new one: one row to land."""
        activity_id, lead_id = self.next_ids()
        self.add(
            Activity(
                activity_id,
                lead_id,
                VISIT,
                datetime(day.year, day.month, day.day, 14, 5, tzinfo=UTC),
                page="www.brand.example/listen",
                query="utm_source=podcast&utm_medium=audio&utm_campaign=cmp_2",
                ip="198.51.100.77",
                user_agent=AGENTS[0],
                utm_source="podcast",
                utm_medium="audio",
                utm_campaign="cmp_2",
            )
        )
        return 1


AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
)
PAGES = ("www.brand.example/", "www.brand.example/pricing", "www.brand.example/demo")


def make_marketo_world(first_day: date, days: int, seed: int = 5) -> MarketoWorld:
    """Each day: three visits (some from a podcast, with UTM tags in the query), a new lead who
    fills in a form ten minutes later, and two email activities (types no stream asks for)."""
    rng = random.Random(seed)
    world = MarketoWorld()
    ids = itertools.count(5001)
    lead_ids = itertools.count(301)
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        for hour in (1, 9, 17):
            podcast = rng.random() < 0.5
            query = (
                f"utm_source=podcast&utm_medium=audio&utm_campaign=cmp_{1 + offset % 2}"
                if podcast
                else ("ref=nav" if rng.random() < 0.5 else None)
            )
            world.activities.append(
                Activity(
                    next(ids),
                    300 - hour,
                    VISIT,
                    start + timedelta(hours=hour, minutes=rng.randrange(60)),
                    page=rng.choice(PAGES),
                    query=query,
                    referrer=None if podcast else "https://www.google.com/",
                    ip=f"203.0.113.{rng.randrange(1, 250)}",
                    user_agent=rng.choice(AGENTS),
                    utm_source="podcast" if podcast else None,
                    utm_medium="audio" if podcast else None,
                    utm_campaign=f"cmp_{1 + offset % 2}" if podcast else None,
                )
            )
        lead = next(lead_ids)
        created = start + timedelta(hours=12, minutes=rng.randrange(30))
        world.activities.append(
            Activity(
                next(ids),
                lead,
                NEW_LEAD,
                created,
                name="Demo request",
                source_type="Web form fillout",
            )
        )
        podcast = offset % 2 == 0
        world.activities.append(
            Activity(
                next(ids),
                lead,
                FORM_FILL,
                created + timedelta(minutes=10),
                page="www.brand.example/demo",
                query="utm_source=podcast&utm_campaign=cmp_1" if podcast else None,
                referrer=None if podcast else "https://www.bing.com/",
                ip=f"198.51.100.{rng.randrange(1, 250)}",
                user_agent=rng.choice(AGENTS),
                name="Demo request",
                utm_source="podcast" if podcast else None,
                utm_campaign="cmp_1" if podcast else None,
            )
        )
        for kind, hour in ((SEND_EMAIL, 6), (OPEN_EMAIL, 20)):
            world.activities.append(
                Activity(next(ids), 250, kind, start + timedelta(hours=hour), name="Newsletter")
            )
    world.activities.sort(key=lambda a: (a.at, a.activity_id))
    return world


def marketo_error(code: str, message: str) -> Response:
    """A Marketo error: HTTP 200, ``success: false``."""
    return json_response(
        {"requestId": f"{uuid.uuid4().hex[:4]}#{uuid.uuid4().hex[:11]}", "success": False,
         "errors": [{"code": code, "message": message}]}
    )  # fmt: skip


def rate_limited(wait_s: float = 0.0) -> Response:
    return marketo_error("606", "Max rate limit '100' exceeded with in '20' secs")


class FakeMarketo(FakeApi):
    name = "marketo"

    def __init__(
        self,
        world: MarketoWorld,
        client_id: str = "mkto-client-1",
        client_secret: str = "mkto-secret-1",
        token_ttl_s: float = 3600.0,
    ) -> None:
        super().__init__()
        self.world = world
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl_s = token_ttl_s
        # token -> deadline (monotonic seconds)
        self.tokens: dict[str, float] = {}
        self.tokens_issued = 0
        # Every token is refused (601), as for a revoked LaunchPoint service.
        self.refuse_tokens = False
        # Empty pages carry "result": [] instead of leaving it out.
        self.empty_result_key = False
        # Field renames applied to every rendered activity ({"activityDate": "activityTs"}).
        self.activity_renames: dict[str, str] = {}
        # The error code of each error answer the routes gave (the rate limit's 606 aside).
        self.error_codes: list[str] = []
        # Caps the expires_in an answer reports (a token fetched near the end of its life).
        self.expires_in_cap: int | None = None
        # How each REST call carried its token: "header" or "query".
        self.auth_via: list[str] = []
        self._injected: list[tuple[str, str, str, list[int]]] = []
        self._token_lock = threading.Lock()
        self._request_ids = itertools.count(0xE42B)

    # -- what a test switches on ---------------------------------------------------------------

    def throttle(self, requests: int = 8, per_seconds: float = 1.0) -> None:
        """Marketo's limit, scaled down: over it, HTTP 200 with error 606."""
        self.limit = WindowLimit(requests, per_seconds, response=rate_limited)

    def inject(self, code: str, message: str, n: int = 1, path_contains: str = "/rest/") -> None:
        """The next ``n`` REST calls whose path contains ``path_contains`` answer error ``code``."""
        self._injected.append((path_contains, code, message, [n]))

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (an hour later, to the server)."""
        with self._token_lock:
            self.tokens = {token: 0.0 for token in self.tokens}

    # -- answers -------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        response = self._route(request)
        body = response.body
        if isinstance(body, dict) and body.get("success") is False:
            self.error_codes.append(body["errors"][0]["code"])
        return response

    def _route(self, request: Request) -> Response:
        if request.path == "/identity/oauth/token":
            return self._token(request)
        if not request.path.startswith("/rest/"):
            return error(404, {"error": "Not found"})
        refused = self._authenticate(request)
        if refused is not None:
            return refused
        for path_contains, code, message, left in self._injected:
            if left[0] > 0 and path_contains in request.path:
                left[0] -= 1
                return marketo_error(code, message)
        if request.path == "/rest/v1/activities/types.json":
            return self._ok(result=[self._type(t) for t in TYPES])
        if request.path == "/rest/v1/activities/pagingtoken.json":
            return self._paging_token(request)
        if request.path == "/rest/v1/activities.json":
            return self._activities(request)
        return marketo_error("610", "Requested resource not found")

    def _token(self, request: Request) -> Response:
        params = {**request.query, **(request.form() if request.method == "POST" else {})}
        if params.get("grant_type") != "client_credentials":
            return error(400, {"error": "unsupported_grant_type", "error_description": "grant"})
        if (params.get("client_id"), params.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return error(
                401, {"error": "invalid_client", "error_description": "Bad client credentials"}
            )
        now = time.monotonic()
        with self._token_lock:
            live = [(t, d) for t, d in self.tokens.items() if d > now]
            if live:
                token, deadline = live[-1]
            else:
                token, deadline = f"{uuid.uuid4()}:int", now + self.token_ttl_s
                self.tokens[token] = deadline
                self.tokens_issued += 1
        return json_response(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": min(
                    max(0, int(deadline - now) - 1),
                    self.expires_in_cap if self.expires_in_cap is not None else 1 << 31,
                ),
                "scope": "api-user@brand.example",
            }
        )

    def _authenticate(self, request: Request) -> Response | None:
        header = request.header("Authorization") or ""
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else None
        self.auth_via.append("header" if token else "query")
        token = token or request.query.get("access_token")
        if not token:
            return marketo_error("600", "Access token not specified")
        with self._token_lock:
            deadline = self.tokens.get(token)
        if deadline is None or self.refuse_tokens:
            return marketo_error("601", "Access token invalid")
        if deadline <= time.monotonic():
            return marketo_error("602", "Access token expired")
        return None

    def _ok(self, **body: Any) -> Response:
        return json_response(
            {"requestId": f"{next(self._request_ids):x}#1928b2", "success": True, **body}
        )

    def _type(self, type_id: int) -> dict[str, Any]:
        name, primary = TYPES[type_id]
        return {
            "id": type_id,
            "name": name,
            "description": name,
            "primaryAttribute": {"name": primary, "dataType": "integer"},
            "attributes": [{"name": "Client IP Address", "dataType": "string"}],
        }

    def _paging_token(self, request: Request) -> Response:
        raw = request.query.get("sinceDatetime")
        if not raw:
            return marketo_error("701", "sinceDatetime cannot be blank")
        try:
            since = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return marketo_error("1003", f"Invalid value for sinceDatetime: {raw}")
        since = since.replace(tzinfo=UTC) if since.tzinfo is None else since
        position = next(
            (i for i, a in enumerate(self.world.activities) if a.at >= since),
            len(self.world.activities),
        )
        return self._ok(nextPageToken=_token(position))

    def _activities(self, request: Request) -> Response:
        token = request.query.get("nextPageToken")
        if not token:
            return marketo_error("701", "nextPageToken cannot be blank")
        position = _position(token)
        if position is None:
            return marketo_error("1003", "Invalid nextPageToken")
        raw_types = request.query.get("activityTypeIds", "")
        try:
            types = {int(t) for t in raw_types.split(",") if t.strip()}
            batch = min(int(request.query.get("batchSize", MAX_BATCH)), MAX_BATCH)
        except ValueError:
            return marketo_error("1003", "Invalid value for activityTypeIds or batchSize")
        if not types:
            return marketo_error("701", "activityTypeIds cannot be blank")
        if len(types) > 10 or batch < 1:
            return marketo_error("1003", "At most 10 activityTypeIds and a positive batchSize")
        scanned = self.world.activities[position : position + batch]
        found = [self._render(a) for a in scanned if a.type_id in types]
        after = position + len(scanned)
        body: dict[str, Any] = {
            "nextPageToken": _token(after),
            "moreResult": after < len(self.world.activities),
        }
        if found or self.empty_result_key:
            body["result"] = found
        return self._ok(**body)

    def _render(self, activity: Activity) -> dict[str, Any]:
        record = activity.render()
        for old, new in self.activity_renames.items():
            record[new] = record.pop(old)
        return record


def _token(position: int) -> str:
    return base64.b32encode(urlencode({"pos": position}).encode()).decode()


def _position(token: str) -> int | None:
    try:
        decoded = dict(parse_qsl(base64.b32decode(token.encode()).decode()))
        return int(decoded["pos"])
    except (ValueError, KeyError):
        return None
