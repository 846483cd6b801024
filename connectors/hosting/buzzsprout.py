"""Buzzsprout: podcasts, episodes and each episode's downloads per day.

API facts (docs/developer/connectors.md): ``https://www.buzzsprout.com/api``, paths end in
``.json``, auth ``Authorization: Token token=<api_token>``, a non-default User-Agent is required.
Episodes come unpaginated per podcast; daily downloads come one date at a time
(``/api/{podcast_id}/downloads?date=YYYY-MM-DD`` -> ``[{"episode_id", "total"}]``), listing only
episodes with at least one download, so a quiet day is ``[]``. The date is the podcast's local
date, which is what the canonical ``date`` means for every host. No rate limit is documented;
5xx are retried.

Raw download rows (setting ``raw_rows: true``): ``/api/{podcast_id}/{episode_id}/downloads?date=``
(not under ``/episodes``) lists each download of the episode that day with ``app``, ``device``,
``device_type``, ``country_code``, ``region``, ``city``, ``continent`` and ``media_type``, no
address and no user agent; missing values are ``"Unknown"``/``"Unknown Device"`` or null. It
pages with ``page``/``per_page`` (max 1000) and ``"pagination": {"page", "per_page",
"has_more", "next_page"}``. The key holding the rows is not documented: ``downloads``, ``data``
and ``rows`` are accepted, and a bare list. One request per episode with downloads per day (the
day's totals say which), which is why it is off by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Request, Response

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import ApiChangedError, ConnectorError
from connectors.framework.http import ApiClient, Pacing
from connectors.framework.records import count, field_error, number, text, timestamp
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StreamState

EPISODES = Stream("episodes", "episodes", "every episode of every podcast of the account")
DOWNLOADS = Stream(
    "host_downloads_daily",
    "host_downloads_daily",
    "downloads per episode and day, as Buzzsprout counts them",
    per_day=True,
)
EVENTS = Stream(
    "download_events",
    "host_download_events",
    "each download's app, device and place (raw rows; with raw_rows: true)",
    per_day=True,
)
RAW_PAGE_SIZE = 1000
RAW_ROW_KEYS = ("downloads", "data", "rows")
RAW_FIELDS = (
    "app",
    "device",
    "device_type",
    "country_code",
    "region",
    "city",
    "continent",
    "media_type",
)


class BuzzsproutSettings(ConnectorSettings):
    # Podcasts to sync; default every podcast the token sees.
    podcast_ids: list[int | str] | None = None
    # Also land each download's app, device and place (one request per episode and day).
    raw_rows: bool = False


class Buzzsprout(Connector):
    platform = "buzzsprout"
    display_name = "Buzzsprout"
    settings_model = BuzzsproutSettings
    credentials = ("api_token",)
    streams = (EPISODES, DOWNLOADS, EVENTS)
    default_base_url = "https://www.buzzsprout.com"
    # Undocumented limit: stay polite.
    default_pacing = Pacing(5, 1.0)

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            auth=APIKeyAuth(
                name="Authorization", api_key=f"Token token={self.secrets['api_token']}"
            ),
            **self.client_options(),
        )

    # -- podcasts ------------------------------------------------------------------------------

    def podcasts(self) -> list[dict[str, Any]]:
        if not hasattr(self, "_podcasts"):
            page = self.client.get("/api/podcasts.json")
            listed = page.records[0]
            if not isinstance(listed, list):
                raise ApiChangedError(
                    f"buzzsprout: {page.url} should list podcasts, got {type(listed).__name__}"
                )
            wanted = self.settings.podcast_ids  # type: ignore[attr-defined]
            if wanted:
                wanted = {str(w) for w in wanted}
                missing = wanted - {str(p.get("id")) for p in listed}
                if missing:
                    raise ConnectorError(
                        f"buzzsprout: podcast(s) {sorted(missing)} of podcast_ids are not visible "
                        "to this API token"
                    )
                listed = [p for p in listed if str(p.get("id")) in wanted]
            self._podcasts = listed
        return self._podcasts

    def check(self) -> str:
        return f"{len(self.podcasts())} podcast(s) visible"

    # -- streams -------------------------------------------------------------------------------

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        if stream.name == EPISODES.name:
            return Plan([str(p["id"]) for p in self.podcasts()], None)
        if stream.name == EVENTS.name and not self.settings.raw_rows:  # type: ignore[attr-defined]
            return Plan([], state.cursor, ("raw_rows is off in the tenant's settings",))
        return self.day_plan(state, mode)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        if stream.name == EPISODES.name:
            podcast = next(p for p in self.podcasts() if str(p["id"]) == slice_id)
            page = self.client.get(f"/api/{slice_id}/episodes.json")
            for position, record in enumerate(_list(page.records[0], page.url)):
                yield SourceRecord(record, page.url, position, {"podcast": podcast})
            return
        for podcast in self.podcasts():
            page = self.client.get(f"/api/{podcast['id']}/downloads", params={"date": slice_id})
            totals = _list(page.records[0], page.url)
            if stream.name == EVENTS.name:
                yield from self._raw_rows(podcast, totals, slice_id)
                continue
            for position, record in enumerate(totals):
                yield SourceRecord(
                    record, page.url, position, {"podcast": podcast, "date": slice_id}
                )

    def _raw_rows(
        self, podcast: dict[str, Any], totals: list[Any], day: str
    ) -> Iterator[SourceRecord]:
        """Every raw row of the episodes with downloads on ``day`` (from the day's totals)."""
        for total in totals:
            if not isinstance(total, dict) or not total.get("total"):
                continue
            episode_id = str(total.get("episode_id"))
            pages = self.client.pages(
                f"/api/{podcast['id']}/{episode_id}/downloads",
                params={"date": day, "per_page": RAW_PAGE_SIZE},
                paginator=_NextPage(),
            )
            for page in pages:
                rows = _raw_page(page.records, page.url)
                for position, record in enumerate(rows):
                    yield SourceRecord(
                        record,
                        page.url,
                        position,
                        {"podcast": podcast, "date": day, "episode_id": episode_id},
                    )

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        podcast = item.context["podcast"]
        record = item.record
        if stream.name == EPISODES.name:
            yield {
                "episode_id": text(record, "id"),
                "show_id": str(podcast["id"]),
                "show_name": text(podcast, "title", None),
                "title": text(record, "title", None),
                "published_at": timestamp(record, "published_at", None),
                "duration_s": number(record, "duration", None),
                "file_bytes": None,
                "bitrate_kbps": None,
            }
            return
        if stream.name == EVENTS.name:
            if not isinstance(record, dict):
                raise field_error("download", f"expected an object, got {record!r}")
            yield {
                "platform": self.platform,
                "show_id": str(podcast["id"]),
                "episode_id": item.context["episode_id"],
                "date": date.fromisoformat(item.context["date"]),
                **{name: text(record, name, None) for name in RAW_FIELDS},
            }
            return
        yield {
            "platform": self.platform,
            "show_id": str(podcast["id"]),
            "episode_id": text(record, "episode_id"),
            "date": date.fromisoformat(item.context["date"]),
            "downloads": count(record, "total"),
            "reported_at": None,
        }


def _list(body: Any, url: str) -> list[Any]:
    if not isinstance(body, list):
        raise ApiChangedError(f"buzzsprout: {url} should be a JSON list, got {type(body).__name__}")
    return body


def _raw_page(records: list[Any], url: str) -> list[Any]:
    """The rows of one raw-rows page, whichever documented-or-plausible key holds them."""
    if len(records) == 1 and isinstance(records[0], dict):
        body = records[0]
        for key in RAW_ROW_KEYS:
            if isinstance(body.get(key), list):
                return body[key]
        if "pagination" in body:
            raise ApiChangedError(
                f"buzzsprout: {url} has no list of downloads under {', '.join(RAW_ROW_KEYS)}"
            )
    return records


class _NextPage(BasePaginator):
    """``page`` from ``pagination.next_page`` until it is null (read directly, not by JSONPath:
    one of these pages a day per episode)."""

    def __init__(self) -> None:
        super().__init__()
        self._next: Any = None

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()
        pagination = body.get("pagination") if isinstance(body, dict) else None
        self._next = pagination.get("next_page") if isinstance(pagination, dict) else None
        self._has_next_page = self._next is not None

    def update_request(self, request: Request) -> None:
        if self._next is not None:
            request.params["page"] = self._next
