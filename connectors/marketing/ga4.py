"""Google Analytics 4: a property's sessions, key events and revenue per day and traffic source.

API facts (GA4 Data API v1beta; docs/user/connectors/ga4.md) this connector relies on:

* OAuth2 with a refresh token the property's user granted once (scope
  ``analytics.readonly``): ``POST https://oauth2.googleapis.com/token`` with
  ``grant_type=refresh_token``, ``refresh_token``, ``client_id``, ``client_secret`` -> an access
  token for about an hour, sent as ``Authorization: Bearer``; a 401 fetches a new one once;
* ``POST https://analyticsdata.googleapis.com/v1beta/properties/{property_id}:runReport`` with
  ``dateRanges [{startDate, endDate}]``, ``dimensions [{name}]``, ``metrics [{name}]``,
  ``offset`` and ``limit`` (int64, so strings in JSON; limit default 10,000, max 250,000);
* the answer: ``dimensionHeaders`` / ``metricHeaders`` (``[{name}]``), ``rows
  [{dimensionValues [{value}], metricValues [{value}]}]`` (values are strings; ``date`` is
  ``YYYYMMDD`` in the property's time zone), ``rowCount``; ``rows`` and ``rowCount`` are absent
  when nothing matched. Pages are asked with ``offset`` until it reaches ``rowCount``. Values are
  read by their header's name, never by position;
* ``conversions`` was renamed ``keyEvents`` in 2024: the metric asked is a setting, and a header
  of either name is read;
* a spent quota is 429 ``RESOURCE_EXHAUSTED`` (Google's ``{"error": {"code", "message",
  "status"}}``), retried with an exponential backoff (no ``Retry-After``); 401 and 403
  ``PERMISSION_DENIED`` are credentials errors; a 400 ``INVALID_ARGUMENT`` (an unknown metric)
  names Google's message.

GA4 keeps processing a day for 24 to 48 hours: the default look-back of 2 days asks the last
days again, and a revised row lands again (its digest changed). GA4's placeholder values
(``(not set)``, ``(direct)``, ``(none)``) are kept as GA4 gives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BeforeValidator, Field, field_validator
from requests import Response

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import ApiChangedError, ConnectorError, CredentialsError
from connectors.framework.http import ApiClient, Pacing, redact_url
from connectors.framework.oauth import BearerTokenAuth, GoogleTokenSettings, Token, google_token
from connectors.framework.records import count, field_error, get, number, parse_day, text
from connectors.framework.state import StreamState

TRAFFIC = Stream(
    "web_traffic_daily",
    "web_traffic_daily",
    "sessions, key events and revenue per day, source, medium, campaign and landing page",
    per_day=True,
)
# Canonical column -> GA4 dimension.
DIMENSIONS = {
    "date": "date",
    "session_source": "sessionSource",
    "session_medium": "sessionMedium",
    "session_campaign": "sessionCampaignName",
    "landing_page": "landingPage",
}
CONVERSION_METRICS = ("conversions", "keyEvents")


def _property_id(value: Any) -> Any:
    # YAML reads 312345678 as a number, and the GA4 admin shows "properties/312345678".
    if isinstance(value, int | str):
        raw = str(value).strip()
        return raw.removeprefix("properties/")
    return value


class Ga4Settings(GoogleTokenSettings):
    # The GA4 property (Admin, Property details: a number, not the G-XXXX measurement id).
    property_id: Annotated[str, BeforeValidator(_property_id)]
    # The metric counted as conversions: "conversions" or its newer name "keyEvents".
    conversions_metric: str = "conversions"
    # Report rows per request (limit).
    page_size: int = Field(default=10_000, ge=1, le=250_000)

    @field_validator("property_id")
    @classmethod
    def _numeric(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError(
                "must be the numeric GA4 property id (Admin, Property details), not a "
                "measurement id like G-XXXX"
            )
        return value

    @field_validator("conversions_metric")
    @classmethod
    def _conversions(cls, value: str) -> str:
        if value not in CONVERSION_METRICS:
            raise ValueError(f"must be one of {', '.join(CONVERSION_METRICS)}")
        return value


@dataclass(frozen=True)
class Columns:
    """Where each value sits in a page's rows, by the headers' names."""

    dimensions: dict[str, int]
    metrics: dict[str, int]
    conversions: str


class Ga4(Connector):
    platform = "ga4"
    display_name = "Google Analytics 4"
    settings_model = Ga4Settings
    credentials = ("client_id", "client_secret", "refresh_token")
    streams = (TRAFFIC,)
    default_base_url = "https://analyticsdata.googleapis.com"
    # Core reporting allows 10 concurrent requests and token buckets per hour; a sync asks one
    # report a day of history, so a polite steady pace is plenty.
    default_pacing = Pacing(5, 1.0)

    @property
    def property_id(self) -> str:
        return self.settings.property_id  # type: ignore[attr-defined]

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            auth=BearerTokenAuth(self._fetch_token),
            check=self._check_response,
            **self.client_options(),
        )

    def _fetch_token(self) -> Token:
        return google_token(
            self.client.rest.session,
            self.settings,  # type: ignore[arg-type]
            self.base_url,
            self.secrets,
            source=self.platform,
        )

    def _check_response(self, response: Response, url: str) -> None:
        status = response.status_code
        if status not in (400, 403):
            return
        state, message = _google_error(response)
        if status == 403:
            raise CredentialsError(
                f"ga4: access to property {self.property_id} was refused (403 "
                f"{state or 'PERMISSION_DENIED'}: {message}); grant the Google account of the "
                "refresh token at least Viewer on the property, or check property_id"
            )
        hint = (
            f"; set conversions_metric to the other of {', '.join(CONVERSION_METRICS)}"
            if any(m in message for m in CONVERSION_METRICS)
            else ""
        )
        raise ConnectorError(f"ga4: {url} refused the report (400 {state}): {message}{hint}")

    # -- reports -------------------------------------------------------------------------------

    def _body(self, day: str, offset: int, limit: int) -> dict[str, Any]:
        metric = self.settings.conversions_metric  # type: ignore[attr-defined]
        return {
            "dateRanges": [{"startDate": day, "endDate": day}],
            "dimensions": [{"name": name} for name in DIMENSIONS.values()],
            "metrics": [{"name": "sessions"}, {"name": metric}, {"name": "totalRevenue"}],
            # int64 fields travel as strings in Google's JSON.
            "offset": str(offset),
            "limit": str(limit),
        }

    def run_report(self, day: str, offset: int, limit: int) -> tuple[dict[str, Any], str]:
        """One page of a day's report and its (redacted) URL."""
        path = f"/v1beta/properties/{quote(self.property_id, safe='')}:runReport"
        response = self.client.rest.post(path, json=self._body(day, offset, limit))
        url = redact_url(response.url)
        self.client.raise_for_problem(response, url)
        body = self.client.parse(response, url)
        if not isinstance(body, dict):
            raise ApiChangedError(f"ga4: {url} did not answer a report object")
        return body, url

    def check(self) -> str:
        day = self.last_complete_day().isoformat()
        body, url = self.run_report(day, 0, 1)
        total = _row_count(body, url)
        return f"property {self.property_id} readable ({total} report row(s) on {day})"

    # -- streams -------------------------------------------------------------------------------

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        # One slice per day, one dateRange each: a day's rows land and are checkpointed
        # together, and the look-back re-asks exactly the days GA4 may still revise.
        return self.day_plan(state, mode)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        size = self.settings.page_size  # type: ignore[attr-defined]
        offset = 0
        while True:
            body, url = self.run_report(slice_id, offset, size)
            columns = self._columns(body, url)
            rows = body.get("rows") or []
            if not isinstance(rows, list):
                raise ApiChangedError(f"ga4: the rows of {url} are not a list")
            context = {"columns": columns, "date": slice_id}
            for position, row in enumerate(rows):
                yield SourceRecord(row, url, position, context)
            offset += len(rows)
            if not rows or offset >= _row_count(body, url):
                return

    def _columns(self, body: dict[str, Any], url: str) -> Columns:
        dimensions = _names(body, "dimensionHeaders", url)
        metrics = _names(body, "metricHeaders", url)
        asked = self.settings.conversions_metric  # type: ignore[attr-defined]
        # The name asked first; the other one when Google answers under its new (or old) name.
        conversions = next(
            (m for m in (asked, *CONVERSION_METRICS) if m in metrics), CONVERSION_METRICS[0]
        )
        needed = [*DIMENSIONS.values()]
        missing = [d for d in needed if d not in dimensions]
        missing += [m for m in ("sessions", conversions, "totalRevenue") if m not in metrics]
        if missing:
            raise ApiChangedError(
                f"ga4: the report at {url} has no column {missing[0]!r} (dimensions: "
                f"{', '.join(dimensions) or 'none'}; metrics: {', '.join(metrics) or 'none'}); "
                "the API has probably changed"
            )
        return Columns(
            {name: i for i, name in enumerate(dimensions)},
            {name: i for i, name in enumerate(metrics)},
            conversions,
        )

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        columns: Columns = item.context["columns"]
        row = item.record
        if not isinstance(row, dict):
            raise field_error("row", f"expected an object, got {type(row).__name__}")
        dimension = _values(row, "dimensionValues", columns.dimensions)
        metric = _values(row, "metricValues", columns.metrics)
        day = parse_day(dimension["date"], "date", ("%Y%m%d", "%Y-%m-%d"))
        if day != date.fromisoformat(item.context["date"]):
            raise field_error("date", f"{day} is not the day asked ({item.context['date']})")
        yield {
            "platform": self.platform,
            "property_id": self.property_id,
            "date": day,
            **{
                column: text(dimension, name)
                for column, name in DIMENSIONS.items()
                if column != "date"
            },
            "sessions": count(metric, "sessions"),
            "conversions": number(metric, columns.conversions),
            "revenue": number(metric, "totalRevenue"),
            "reported_at": None,
        }


def _names(body: dict[str, Any], key: str, url: str) -> list[str]:
    headers = body.get(key)
    if not isinstance(headers, list):
        raise ApiChangedError(f"ga4: {url} has no {key}; the API has probably changed")
    return [str(h.get("name")) if isinstance(h, dict) else "" for h in headers]


def _values(row: dict[str, Any], key: str, positions: dict[str, int]) -> dict[str, Any]:
    """``{header name: value}`` of one of a row's value lists."""
    values = get(row, key)
    if not isinstance(values, list) or len(values) != len(positions):
        raise field_error(key, f"expected {len(positions)} values, got {values!r}")
    return {name: get(values[i], "value") for name, i in positions.items()}


def _row_count(body: dict[str, Any], url: str) -> int:
    # proto3 JSON leaves rowCount out when it is zero.
    value = body.get("rowCount", 0)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiChangedError(f"ga4: rowCount of {url} is not a number: {value!r}") from None


def _google_error(response: Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200].replace("\n", " ")
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", str(body)[:200]
    return str(error.get("status") or ""), str(error.get("message") or "")[:300]
