"""Transistor.fm: shows, episodes and each episode's downloads per day.

API facts (developers.transistor.fm) this connector relies on:

* base ``https://api.transistor.fm``, every path under ``/v1``; JSON:API documents (``data`` with
  ``id``, ``type``, ``attributes``, ``relationships``; lists add ``meta``); ids are strings;
* auth header ``x-api-key``; a wrong or missing key is 401;
* lists page with ``pagination[page]`` (from 1) and ``pagination[per]`` and say
  ``"meta": {"currentPage", "totalPages", "totalCount"}``: ``GET /v1/shows``,
  ``GET /v1/episodes?show_id=``;
* an episode's ``attributes``: ``title``, ``published_at`` with an offset
  (``2021-09-20T10:51:45.707-07:00``; null for a draft), ``duration`` in whole seconds;
  ``relationships.show.data.id``;
* downloads: ``GET /v1/analytics/episodes/{episode_id}?start_date=dd-mm-yyyy&end_date=dd-mm-yyyy``
  -> ``data.attributes.downloads: [{"date": "dd-mm-yyyy", "downloads": n}]`` and the range it
  answered (``start_date``/``end_date``, checked against the range asked); without a range the
  API answers the last 14 days, so a range is always sent. A day without downloads is a zero, and
  an episode without any may come as an empty list;
* limit: 10 requests per 10 s; over it, 429 and the key is blocked for 10 s. Whether a
  ``Retry-After`` comes with it is not confirmed: the client paces itself to 10 per 10 s, and a
  429 is retried after ``Retry-After`` when sent, after an exponential backoff when not;
* no ``since`` parameter: the catalogue is listed in full at each sync (it is small), and
  downloads are asked again over the look-back (recent days are revised).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any
from urllib.parse import quote

from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from pydantic import Field

from connectors.framework.connector import SourceRecord, Stream
from connectors.framework.episode_ranges import (
    DEFAULT_DAYS_PER_REQUEST,
    EpisodeRangeConnector,
    EpisodeRef,
    RangeAnswer,
    keyed_pages,
    listed_shows,
)
from connectors.framework.errors import ApiChangedError, RecordError
from connectors.framework.http import ApiClient, Pacing, Page
from connectors.framework.records import (
    day,
    field_error,
    get,
    number,
    parse_day,
    text,
    timestamp,
)
from connectors.framework.settings import ConnectorSettings, IdList

EPISODES = Stream("episodes", "episodes", "every episode of every show of the account")
DOWNLOADS = Stream(
    "host_downloads_daily",
    "host_downloads_daily",
    "downloads per episode and day, as Transistor counts them",
    per_day=True,
)
# The API's own format first; ISO dates are read too (they cannot be mistaken for it).
DAY_FORMATS = ("%d-%m-%Y", "%Y-%m-%d")


class TransistorSettings(ConnectorSettings):
    # Shows to sync; default every show the API key sees.
    show_ids: IdList | None = None
    # Records per page of a list (pagination[per]).
    page_size: int = Field(default=50, ge=1, le=100)
    # Days of downloads asked per request for one episode (no maximum is documented; a window
    # keeps each answer small and a silently capped range detectable).
    days_per_request: int = Field(default=DEFAULT_DAYS_PER_REQUEST, ge=1, le=366)


class Transistor(EpisodeRangeConnector):
    platform = "transistor"
    display_name = "Transistor.fm"
    settings_model = TransistorSettings
    credentials = ("api_key",)
    streams = (EPISODES, DOWNLOADS)
    default_base_url = "https://api.transistor.fm"
    # The documented limit: 10 requests per 10 s.
    default_pacing = Pacing(10, 10.0)
    day_field = "date"

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            auth=APIKeyAuth("x-api-key", self.secrets["api_key"], location="header"),
            **self.client_options(),
        )

    # -- lists ---------------------------------------------------------------------------------

    def _list(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Page]:
        paginator = PageNumberPaginator(
            base_page=1, page_param="pagination[page]", total_path="meta.totalPages"
        )
        per = self.settings.page_size  # type: ignore[attr-defined]
        try:
            yield from keyed_pages(
                self.client, path, "data", paginator, {**(params or {}), "pagination[per]": per}
            )
        except ValueError as exc:  # dlt's paginator: meta.totalPages missing or not a number
            raise ApiChangedError(
                f"transistor: {path} answered a list dlt cannot page: {str(exc)[:200]}"
            ) from None

    def shows(self) -> list[dict[str, Any]]:
        """Every show to sync: ``{"id", "title"}``."""
        if not hasattr(self, "_shows"):
            self._shows = listed_shows(
                "transistor",
                self._list("/v1/shows"),
                "attributes.title",
                self.settings.show_ids,  # type: ignore[attr-defined]
                noun="show",
                setting="show_ids",
                seen_by="this API key",
            )
        return self._shows

    def listed_shows(self) -> list[dict[str, Any]]:
        return self.shows()

    def episode_pages(self, show_id: str) -> Iterator[Page]:
        return self._list("/v1/episodes", {"show_id": show_id})

    # -- streams -------------------------------------------------------------------------------

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        record = item.record
        if stream.name == EPISODES.name:
            show = item.context["show"]
            episode_id = text(record, "id")
            # Without attributes every other field would silently read as null.
            if not isinstance(get(record, "attributes"), dict):
                raise field_error("attributes", "expected an object")
            yield {
                "episode_id": episode_id,
                "show_id": show["id"],
                "show_name": show["title"],
                "title": text(record, "attributes.title", None),
                "published_at": timestamp(record, "attributes.published_at", None),
                "duration_s": number(record, "attributes.duration", None),
                "file_bytes": None,
                "bitrate_kbps": None,
            }
            return
        yield from self.download_rows(item, "downloads")

    # -- downloads -----------------------------------------------------------------------------

    def ask_range(self, ref: EpisodeRef, first: date, last: date) -> RangeAnswer:
        page = self.client.get(
            f"/v1/analytics/episodes/{quote(ref.episode_id, safe='')}",
            params={
                "start_date": first.strftime("%d-%m-%Y"),
                "end_date": last.strftime("%d-%m-%Y"),
            },
        )
        body = page.records[0]
        try:
            downloads = get(body, "data.attributes.downloads")
            answered = [
                parse_day(get(body, f"data.attributes.{name}"), name, DAY_FORMATS)
                for name in ("start_date", "end_date")
                if get(body, f"data.attributes.{name}", None) is not None
            ]
            episode = text(body, "data.relationships.episode.data.id", None)
        except RecordError as exc:
            raise ApiChangedError(f"transistor: {page.url}: {exc}") from None
        if not isinstance(downloads, list):
            raise ApiChangedError(
                f"transistor: {page.url}: data.attributes.downloads should be a list, got "
                f"{type(downloads).__name__}"
            )
        # A range answered other than asked (a silent cap, a changed default) would land
        # some days and quietly miss others.
        if len(answered) == 2 and tuple(answered) != (first, last):
            raise ApiChangedError(
                f"transistor: {page.url} answered {answered[0]}..{answered[1]} when asked "
                f"{first}..{last}; lower days_per_request if the API now caps a range"
            )
        if episode is not None and episode != ref.episode_id:
            raise ApiChangedError(
                f"transistor: {page.url} answered for episode {episode} when asked for "
                f"{ref.episode_id}"
            )
        return RangeAnswer(page.url, downloads)

    def record_day(self, record: Any) -> date:
        return day(record, "date", DAY_FORMATS)
