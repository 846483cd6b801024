"""A fake Google Analytics 4 Data API (``runReport``) and Google's token endpoint, serving a
:class:`Ga4World` of sessions per day and traffic source.

Faithful to the facts (reference "Marketing", Google Analytics 4 Data API):

* ``POST /token`` (oauth2.googleapis.com/token): ``grant_type=refresh_token`` with
  ``refresh_token``, ``client_id``, ``client_secret`` in the form (HTTP Basic for the client is
  accepted too) -> ``{"access_token", "expires_in": 3599, "token_type": "Bearer"}``; an unknown
  client is 401 ``invalid_client``, a wrong refresh token 400 ``invalid_grant``;
* ``POST /v1beta/properties/{property_id}:runReport`` with ``Authorization: Bearer``; a missing
  or unknown token is 401 ``UNAUTHENTICATED``, another property 403 ``PERMISSION_DENIED``, in
  Google's error JSON ``{"error": {"code", "message", "status"}}``;
* the body: ``dateRanges [{startDate, endDate}]`` (``YYYY-MM-DD``), ``dimensions [{name}]`` of
  date, sessionSource, sessionMedium, sessionCampaignName, landingPage, ``metrics [{name}]`` of
  sessions, conversions or keyEvents (both accepted: keyEvents is the newer name), totalRevenue;
  ``offset`` and ``limit`` as int64, which JSON carries as strings (numbers accepted too);
  ``limit`` at most 250,000 (default 10,000); an unknown name or bad value is 400
  ``INVALID_ARGUMENT``;
* the answer: ``dimensionHeaders [{name}]``, ``metricHeaders [{name, type}]`` in the order
  asked, ``rows [{dimensionValues [{value}], metricValues [{value}]}]`` with every value a
  string and ``date`` as ``YYYYMMDD``, ``rowCount``, ``metadata {currencyCode, timeZone}``,
  ``kind``; ``rows`` and ``rowCount`` are left out when no row matches (proto3 JSON drops empty
  fields). Rows come sorted by sessions, most first (GA4's order without ``orderBys`` is not
  documented).
* quota exhausted: 429 ``RESOURCE_EXHAUSTED`` without ``Retry-After`` (:func:`quota_refusal`).

Faults: ``row_renames`` (a changed row field), ``header_renames`` (a metric answered under
another name, e.g. ``conversions`` -> ``keyEvents``), ``reverse_headers`` (dimension and metric
columns in another order), ``retired_metrics`` (metric names refused as unknown),
``expire_tokens()``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.fakes.google_oauth import refresh_token_answer
from tests.fakes.server import (
    FakeApi,
    Request,
    Response,
    bearer_token,
    error,
    json_response,
    renamed,
)

DIMENSIONS = ("date", "sessionSource", "sessionMedium", "sessionCampaignName", "landingPage")
METRIC_TYPES = {
    "sessions": "TYPE_INTEGER",
    "conversions": "TYPE_FLOAT",
    "keyEvents": "TYPE_FLOAT",
    "totalRevenue": "TYPE_CURRENCY",
}
MAX_LIMIT = 250_000
DEFAULT_LIMIT = 10_000
_RUN_REPORT = re.compile(r"/v1beta/properties/([^/:]+):runReport")


@dataclass(frozen=True)
class TrafficKey:
    day: date
    source: str
    medium: str
    campaign: str
    landing_page: str


@dataclass
class Traffic:
    sessions: int
    conversions: float
    revenue: float


@dataclass
class Ga4World:
    """A property's sessions, key events and revenue per day and traffic source."""

    property_id: str
    rows: dict[TrafficKey, Traffic] = field(default_factory=dict)
    currency: str = "USD"
    time_zone: str = "America/New_York"

    def on(self, day: date) -> dict[TrafficKey, Traffic]:
        return {k: v for k, v in self.rows.items() if k.day == day}

    def expected(self) -> dict[tuple[Any, ...], dict[str, Any]]:
        """The ``web_traffic_daily`` key tuple -> the columns a connector must land."""
        return {
            ("ga4", self.property_id, k.day, k.source, k.medium, k.campaign, k.landing_page): {
                "sessions": t.sessions,
                "conversions": t.conversions,
                "revenue": t.revenue,
                "reported_at": None,
            }
            for k, t in self.rows.items()
        }

    def change(self, day: date) -> int:
        """GA4 revises the day before ``day`` (late hits processed: one row gains sessions and a
        key event) and ``day`` gets its first row; returns the rows changed (2)."""
        before = day - timedelta(days=1)
        past = [k for k in sorted(self.rows, key=_order) if k.day <= before]
        revised = max(past, key=lambda k: (k.day, _order(k)))
        self.rows[revised].sessions += 7
        self.rows[revised].conversions += 1.0
        self.rows[revised].revenue = round(self.rows[revised].revenue + 42.5, 2)
        self.rows[TrafficKey(day, "podcast", "audio", "cmp_1", "/offer")] = Traffic(31, 2.0, 120.0)
        return 2


def _order(key: TrafficKey) -> tuple[str, ...]:
    return (key.day.isoformat(), key.source, key.medium, key.campaign, key.landing_page)


SOURCES = (
    ("google", "organic", "(organic)", "/"),
    ("(direct)", "(none)", "(direct)", "(not set)"),
    ("podcast", "audio", "cmp_1", "/offer"),
    ("newsletter", "email", "(not set)", "/products/beans"),
)


def make_ga4_world(
    first_day: date, days: int, property_id: str = "312345678", seed: int = 11
) -> Ga4World:
    """Three or four source rows a day (one day with none at all), with GA4's placeholder
    values (``(direct)``, ``(none)``, ``(not set)``) among them."""
    rng = random.Random(seed)
    world = Ga4World(property_id)
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if offset == 4:
            continue  # a day the property recorded nothing (tracking broken, site down)
        for source, medium, campaign, page in SOURCES[: 3 + offset % 2]:
            sessions = rng.randrange(5, 400)
            conversions = float(rng.randrange(0, 6))
            revenue = round(conversions * rng.uniform(20, 90), 2)
            world.rows[TrafficKey(day, source, medium, campaign, page)] = Traffic(
                sessions, conversions, revenue
            )
    return world


def google_error(status: int, message: str, state: str) -> Response:
    return error(status, {"error": {"code": status, "message": message, "status": state}})


def quota_refusal(wait_s: float) -> Response:
    """GA4's answer to a spent quota: 429 RESOURCE_EXHAUSTED, no Retry-After."""
    return google_error(
        429,
        "Exhausted property tokens per hour. Try again later.",
        "RESOURCE_EXHAUSTED",
    )


class FakeGa4(FakeApi):
    name = "ga4"

    def __init__(
        self,
        world: Ga4World,
        client_id: str = "ga-client-1.apps.googleusercontent.com",
        client_secret: str = "ga-secret-1",
        refresh_token: str = "1//ga-refresh-1",
    ) -> None:
        super().__init__()
        self.world = world
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.tokens: dict[str, datetime] = {}
        self.row_renames: dict[str, str] = {}
        self.header_renames: dict[str, str] = {}
        self.reverse_headers = False
        # Metric names this property refuses as unknown (an API that retired "conversions").
        self.retired_metrics: set[str] = set()
        # Request bodies of every runReport, to assert what a client asked.
        self.reports: list[dict[str, Any]] = []

    def expire_tokens(self) -> None:
        past = datetime.now(UTC) - timedelta(seconds=1)
        for token in self.tokens:
            self.tokens[token] = past

    # -- serving -------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        if request.path == "/token":
            return self._token(request)
        token = bearer_token(request)
        if token is None or token not in self.tokens or self.tokens[token] <= datetime.now(UTC):
            return google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                "UNAUTHENTICATED",
            )
        match = _RUN_REPORT.fullmatch(request.path)
        if match is None:
            return google_error(404, f"Not found: {request.path}", "NOT_FOUND")
        if request.method != "POST":
            return google_error(405, "Method not allowed", "INVALID_ARGUMENT")
        if match[1] != self.world.property_id:
            return google_error(
                403,
                "User does not have sufficient permissions for this property. To learn more "
                "about Property ID, see https://developers.google.com/analytics/devguides/"
                "reporting/data/v1/property-id.",
                "PERMISSION_DENIED",
            )
        try:
            body = request.json()
        except ValueError:
            return google_error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
        self.reports.append(body)
        return self._report(body)

    def _token(self, request: Request) -> Response:
        return refresh_token_answer(
            request,
            self.client_id,
            self.client_secret,
            self.refresh_token,
            self.tokens,
            scope="https://www.googleapis.com/auth/analytics.readonly",
        )

    def _report(self, body: Any) -> Response:
        if not isinstance(body, dict):
            return google_error(400, "The request body must be an object.", "INVALID_ARGUMENT")
        try:
            ranges = [
                (date.fromisoformat(r["startDate"]), date.fromisoformat(r["endDate"]))
                for r in body.get("dateRanges") or []
            ]
            dimensions = [d["name"] for d in body.get("dimensions") or []]
            metrics = [m["name"] for m in body.get("metrics") or []]
            offset = int(body.get("offset", 0))
            limit = int(body.get("limit", DEFAULT_LIMIT))
        except (KeyError, TypeError, ValueError) as exc:
            return google_error(400, f"Invalid request: {exc!r}", "INVALID_ARGUMENT")
        if not ranges:
            return google_error(400, "A dateRange is required.", "INVALID_ARGUMENT")
        for name in dimensions:
            if name not in DIMENSIONS:
                return google_error(
                    400, f"Field {name} is not a valid dimension.", "INVALID_ARGUMENT"
                )
        for name in metrics:
            if name not in METRIC_TYPES or name in self.retired_metrics:
                return google_error(400, f"Field {name} is not a valid metric.", "INVALID_ARGUMENT")
        if not metrics:
            return google_error(400, "At least one metric is required.", "INVALID_ARGUMENT")
        if offset < 0 or not 0 < limit <= MAX_LIMIT:
            return google_error(
                400, f"limit must be positive and at most {MAX_LIMIT}", "INVALID_ARGUMENT"
            )
        if set(dimensions) != set(DIMENSIONS):
            # Aggregating over fewer dimensions is GA4's job; the fake keeps to what it holds.
            return google_error(
                400,
                f"The fake answers the dimensions {', '.join(DIMENSIONS)} only",
                "INVALID_ARGUMENT",
            )
        matching = sorted(
            (
                (k, t)
                for k, t in self.world.rows.items()
                if any(start <= k.day <= end for start, end in ranges)
            ),
            key=lambda pair: (-pair[1].sessions, _order(pair[0])),
        )
        dim_order = list(reversed(dimensions)) if self.reverse_headers else dimensions
        met_order = list(reversed(metrics)) if self.reverse_headers else metrics
        rows = [
            self._row(key, traffic, dim_order, met_order)
            for key, traffic in matching[offset : offset + limit]
        ]
        answer: dict[str, Any] = {
            "dimensionHeaders": [{"name": n} for n in dim_order],
            "metricHeaders": [
                {"name": self.header_renames.get(n, n), "type": METRIC_TYPES[n]} for n in met_order
            ],
            "metadata": {"currencyCode": self.world.currency, "timeZone": self.world.time_zone},
            "kind": "analyticsData#runReport",
        }
        if rows:
            answer["rows"] = rows
        if matching:
            answer["rowCount"] = len(matching)
        return json_response(answer)

    def _row(
        self, key: TrafficKey, traffic: Traffic, dimensions: list[str], metrics: list[str]
    ) -> dict[str, Any]:
        dimension_values = {
            "date": key.day.strftime("%Y%m%d"),
            "sessionSource": key.source,
            "sessionMedium": key.medium,
            "sessionCampaignName": key.campaign,
            "landingPage": key.landing_page,
        }
        metric_values = {
            "sessions": str(traffic.sessions),
            "conversions": _number(traffic.conversions),
            "keyEvents": _number(traffic.conversions),
            "totalRevenue": _number(traffic.revenue),
        }
        row = {
            "dimensionValues": [{"value": dimension_values[n]} for n in dimensions],
            "metricValues": [{"value": metric_values[n]} for n in metrics],
        }
        if self.row_renames:
            row = renamed(row, dict(self.row_renames))
        return row


def _number(value: float) -> str:
    """A metric value as GA4 writes it: ``3`` for a whole number, ``12.5`` otherwise."""
    return str(int(value)) if float(value).is_integer() else repr(round(value, 6))
