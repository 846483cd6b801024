"""Simplecast: podcasts, episodes and each episode's downloads per day.

API facts this connector relies on:

* base ``https://api.simplecast.com``; auth ``Authorization: Bearer <token>``, a bad token is 401;
* lists page with ``limit``/``offset`` and answer
  ``{"collection": [...], "pages": {"current", "total", "next": {"href"} | null}}``; the next
  page is the URL in ``pages.next.href`` (followed as given): ``GET /podcasts``,
  ``GET /podcasts/{id}/episodes``;
* ids are uuid-like strings; an episode has ``title``, ``published_at`` (ISO-8601 in UTC with
  ``Z``) and ``duration`` in seconds;
* downloads: ``GET /analytics/downloads?episode={id}&interval=day`` and a date range ->
  ``{"total", "interval", "by_interval": [{"interval": "YYYY-MM-DD", "downloads_total",
  "downloads_percent"}]}``. The names of the range parameters are **not confirmed**: this
  connector sends ``start_date``/``end_date`` (YYYY-MM-DD) and checks that every day answered is
  one it asked for: an API that ignored them stops the sync with a changed-API error instead of
  landing whatever range it chose;
* 429 is to be expected (no number is published): paced politely, retried after ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any
from urllib.parse import quote

from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator
from pydantic import Field
from requests import Response

from connectors.framework.connector import SourceRecord, Stream
from connectors.framework.episode_ranges import (
    DEFAULT_DAYS_PER_REQUEST,
    EpisodeRangeConnector,
    EpisodeRef,
    RangeAnswer,
    keyed_pages,
    listed_shows,
)
from connectors.framework.errors import ApiChangedError
from connectors.framework.http import ApiClient, Pacing, Page, redact_url
from connectors.framework.records import get, number, parse_day, text, timestamp
from connectors.framework.settings import ConnectorSettings, IdList

EPISODES = Stream("episodes", "episodes", "every episode of every podcast of the account")
DOWNLOADS = Stream(
    "host_downloads_daily",
    "host_downloads_daily",
    "downloads per episode and day, as Simplecast counts them",
    per_day=True,
)


class SimplecastSettings(ConnectorSettings):
    # Podcasts to sync; default every podcast the token sees.
    podcast_ids: IdList | None = None
    # Records per page of a list (limit).
    page_size: int = Field(default=50, ge=1, le=1000)
    # Days of downloads asked per request for one episode.
    days_per_request: int = Field(default=DEFAULT_DAYS_PER_REQUEST, ge=1, le=366)


class _NextHref(JSONLinkPaginator):
    """``pages.next.href``, and a clear error when a page has no ``pages`` object: without it
    the list would silently end after its first page."""

    def __init__(self) -> None:
        super().__init__(next_url_path="pages.next.href")

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("pages"), dict):
            raise ApiChangedError(
                f"simplecast: {redact_url(response.url)} has no 'pages' object to page with"
            )
        super().update_state(response, data)


class Simplecast(EpisodeRangeConnector):
    platform = "simplecast"
    display_name = "Simplecast"
    settings_model = SimplecastSettings
    credentials = ("api_token",)
    streams = (EPISODES, DOWNLOADS)
    show_noun = "podcast"
    default_base_url = "https://api.simplecast.com"
    # No published limit: stay polite.
    default_pacing = Pacing(5, 1.0)
    day_field = "interval"
    range_hint = (
        "the API ignores start_date/end_date (their names are not confirmed): see "
        "docs/user/connectors/simplecast.md"
    )

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            auth=BearerTokenAuth(self.secrets["api_token"]),
            **self.client_options(),
        )

    # -- lists ---------------------------------------------------------------------------------

    def _list(self, path: str) -> Iterator[Page]:
        per = self.settings.page_size  # type: ignore[attr-defined]
        return keyed_pages(
            self.client, path, "collection", _NextHref(), {"limit": per, "offset": 0}
        )

    def podcasts(self) -> list[dict[str, Any]]:
        """Every podcast to sync: ``{"id", "title"}``."""
        if not hasattr(self, "_podcasts"):
            self._podcasts = listed_shows(
                "simplecast",
                self._list("/podcasts"),
                "title",
                self.settings.podcast_ids,  # type: ignore[attr-defined]
                noun="podcast",
                setting="podcast_ids",
                seen_by="this API token",
            )
        return self._podcasts

    def listed_shows(self) -> list[dict[str, Any]]:
        return self.podcasts()

    def episode_pages(self, podcast_id: str) -> Iterator[Page]:
        return self._list(f"/podcasts/{quote(podcast_id, safe='')}/episodes")

    # -- streams -------------------------------------------------------------------------------

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        record = item.record
        if stream.name == EPISODES.name:
            podcast = item.context["show"]
            yield {
                "episode_id": text(record, "id"),
                "show_id": podcast["id"],
                "show_name": podcast["title"],
                "title": text(record, "title", None),
                "published_at": timestamp(record, "published_at", None),
                "duration_s": number(record, "duration", None),
                "file_bytes": None,
                "bitrate_kbps": None,
            }
            return
        yield from self.download_rows(item, "downloads_total")

    # -- downloads -----------------------------------------------------------------------------

    def ask_range(self, ref: EpisodeRef, first: date, last: date) -> RangeAnswer:
        page = self.client.get(
            "/analytics/downloads",
            params={
                "episode": ref.episode_id,
                "interval": "day",
                "start_date": first.isoformat(),
                "end_date": last.isoformat(),
            },
        )
        body = page.records[0]
        by_interval = body.get("by_interval") if isinstance(body, dict) else None
        if not isinstance(by_interval, list):
            raise ApiChangedError(
                f"simplecast: {page.url} should hold a 'by_interval' list, got "
                f"{type(by_interval).__name__}"
            )
        return RangeAnswer(page.url, by_interval)

    def record_day(self, record: Any) -> date:
        value = get(record, "interval")
        raw = str(value).strip()
        # A day may come as the start of its interval ("2026-10-03T00:00:00Z"): its date part.
        if len(raw) > 10 and raw[10] in "T ":
            raw = raw[:10]
        return parse_day(raw, "interval")
