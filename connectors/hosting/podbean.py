"""Podbean: a podcast's episodes and each episode's downloads per day.

API facts (developers.podbean.com; docs/user/connectors/podbean.md):

* base ``https://api.podbean.com``; OAuth2 client credentials: ``POST /v1/oauth/token`` with
  HTTP Basic ``client_id:client_secret`` and ``grant_type=client_credentials`` ->
  ``{"access_token", "token_type", "expires_in", "scope"}``; the token of an app sees one podcast;
* the token travels as the query parameter ``access_token`` (redacted from every URL shown);
  a refused or expired token is 400 (or 401) ``{"error": "invalid_token"}``: the token is
  fetched again once, and a fresh token refused is a :class:`CredentialsError`;
* a request without a User-Agent is 403 (the client always sends one);
* ``GET /v1/podcast`` -> ``{"podcast": {"id", "title", ...}}``;
  ``GET /v1/episodes?offset=&limit=`` (max 100) -> ``{"episodes", "offset", "limit", "count",
  "has_more"}``; an episode has ``id`` (text like ``IWPNG2FB3F``), ``podcast_id``, ``title``,
  ``publish_time`` in **unix seconds**, ``duration`` (seconds or null), ``status``
  (``publish``/``draft``);
* daily downloads of one episode: ``GET /v1/podcastStats/stats?episode_id=&start=&end=&period=d``
  -> ``{"2023-09-10": 1, ...}``; an ``end`` from today on is moved to yesterday by Podbean;
* rate limit: a leaky bucket of 60 drained 2 a second; over it Podbean answers "an error" of
  unspecified status, so both 429 and 400 ``rate_limit_exceeded`` are retried, and requests are
  paced at 2 a second by default so the bucket never fills.

Days without downloads are not landed (as with every host); drafts are neither catalogued nor
asked for downloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from pydantic import Field
from requests import Response

from connectors.framework.connector import INCREMENTAL, Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import (
    ApiChangedError,
    ConnectorError,
    CredentialsError,
    RecordError,
)
from connectors.framework.http import ApiClient, Pacing
from connectors.framework.oauth import QueryTokenAuth, Token, client_credentials_token
from connectors.framework.records import count, number, parse_day, text, timestamp
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StreamState

EPISODES = Stream("episodes", "episodes", "every published episode of the app's podcast")
DOWNLOADS = Stream(
    "host_downloads_daily",
    "host_downloads_daily",
    "downloads per episode and day, as Podbean counts them",
    per_day=True,
)
PAGE_SIZE = 100  # Podbean's maximum ``limit``


# Where the grid of slices starts when the tenant sets no start_date (a Monday).
GRID_EPOCH = date(2000, 1, 3)


class PodbeanSettings(ConnectorSettings):
    # Days per slice: one stats request asks one episode for at most this many days.
    days_per_slice: int = Field(default=30, ge=1, le=366)


def cell_start(day: date, anchor: date, size: int) -> date:
    """The first day of the cell of ``day`` on the grid of ``size``-day cells from ``anchor``."""
    return anchor + timedelta(days=((day - anchor).days // size) * size)


def cells(first: date, last: date, anchor: date, size: int) -> Iterator[tuple[date, date]]:
    """The grid cells covering ``first``..``last``, each cut to that range."""
    low = first
    while low <= last:
        high = min(last, cell_start(low, anchor, size) + timedelta(days=size - 1))
        yield low, high
        low = high + timedelta(days=1)


class Podbean(Connector):
    platform = "podbean"
    display_name = "Podbean"
    settings_model = PodbeanSettings
    credentials = ("client_id", "client_secret")
    streams = (EPISODES, DOWNLOADS)
    default_base_url = "https://api.podbean.com"
    # The bucket drains 2 a second: at that pace it never fills.
    default_pacing = Pacing(2, 1.0)

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            auth=QueryTokenAuth(self._fetch_token, param="access_token"),
            retry_condition=_rate_limited,
            check=self._check_response,
            **self.client_options(),
        )

    def _fetch_token(self) -> Token:
        # Through the client's own session: paced, and retried when throttled.
        return client_credentials_token(
            self.client.rest.session,
            f"{self.base_url}/v1/oauth/token",
            self.secrets["client_id"],
            self.secrets["client_secret"],
            source=self.platform,
            client_auth="basic",
        )

    def _check_response(self, response: Response, url: str) -> None:
        if response.status_code not in (400, 401):
            return
        code, description = _error(response)
        if code == "invalid_token":
            raise CredentialsError(
                f"podbean: the access token was refused ({response.status_code} invalid_token: "
                f"{description}) at {url} even after fetching a new one; check the tenant's "
                "podbean_client_id and podbean_client_secret (earshot connectors check)"
            )
        if code == "rate_limit_exceeded":
            raise ConnectorError(
                f"podbean: still throttled (400 rate_limit_exceeded) at {url} after "
                f"{self.client.max_attempts} attempts; the sync stopped at its last checkpoint "
                "and resumes from there"
            )

    # -- podcast and episodes ------------------------------------------------------------------

    def podcast(self) -> dict[str, Any]:
        if not hasattr(self, "_podcast"):
            page = self.client.get("/v1/podcast")
            body = page.records[0]
            podcast = body.get("podcast") if isinstance(body, dict) else None
            if not isinstance(podcast, dict) or podcast.get("id") in (None, ""):
                raise ApiChangedError(f"podbean: {page.url} should hold a podcast with an id")
            self._podcast = podcast
        return self._podcast

    def episode_records(self) -> Iterator[SourceRecord]:
        """Every episode, page by page (``offset``/``limit``, until ``has_more`` is false)."""
        podcast = self.podcast()
        offset = 0
        while True:
            page = self.client.get("/v1/episodes", params={"offset": offset, "limit": PAGE_SIZE})
            body = page.records[0]
            episodes = body.get("episodes") if isinstance(body, dict) else None
            if not isinstance(episodes, list):
                raise ApiChangedError(f"podbean: {page.url} should hold a list of episodes")
            for position, record in enumerate(episodes):
                yield SourceRecord(record, page.url, position, {"podcast": podcast})
            # An empty page ends the listing whatever has_more says: no endless loop.
            if not episodes or not body.get("has_more"):
                return
            offset += len(episodes)

    def check(self) -> str:
        return f"podcast {self.podcast().get('title')!r} ({self.podcast()['id']}) visible"

    # -- streams -------------------------------------------------------------------------------

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        if stream.name == EPISODES.name:
            return Plan([str(self.podcast()["id"])], None)
        start, end = self.day_range(state, mode)
        if start > end:
            return Plan([], state.cursor)
        size = self.settings.days_per_slice  # type: ignore[attr-defined]
        anchor = self.settings.start_date or GRID_EPOCH
        # Back to the start of its cell: the days an incremental sync asks again then form the
        # same slice as before, whose rows land as the same batch instead of a second copy.
        if mode == INCREMENTAL:
            start = cell_start(start, anchor, size)
        slices = []
        for item in self.episode_records():
            first = self._first_day(item.record, start)
            if first is None or first > end:
                continue
            episode_id = str(item.record["id"])
            # The range is in the slice id, so a resumed run asks exactly what was planned.
            for low, high in cells(first, end, anchor, size):
                slices.append(f"{episode_id}:{low.isoformat()}:{high.isoformat()}")
        return Plan(slices, end.isoformat())

    @staticmethod
    def _first_day(record: Any, start: date) -> date | None:
        """The first day worth asking for an episode; None for drafts and id-less records."""
        if not isinstance(record, dict) or record.get("id") in (None, ""):
            return None
        if record.get("status") == "draft":
            return None
        try:
            published = timestamp(record, "publish_time", None)
        except RecordError:
            return start
        if published is None:
            return start
        # A day early: Podbean's days may be the podcast's local days, behind UTC.
        return max(start, published.date() - timedelta(days=1))

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        if stream.name == EPISODES.name:
            yield from self.episode_records()
            return
        episode_id, first_raw, last_raw = slice_id.rsplit(":", 2)
        first, last = date.fromisoformat(first_raw), date.fromisoformat(last_raw)
        params = {
            "episode_id": episode_id,
            "start": first.isoformat(),
            "end": last.isoformat(),
            "period": "d",
        }
        page = self.client.get("/v1/podcastStats/stats", params=params)
        body = page.records[0]
        # PHP serialises an empty map as []: a range without any day is not a changed API.
        if body == []:
            body = {}
        if not isinstance(body, dict):
            raise ApiChangedError(
                f"podbean: {page.url} should map days to downloads, got {type(body).__name__}"
            )
        context = {
            "podcast": self.podcast(),
            "episode_id": episode_id,
            "first": first,
            "last": last,
        }
        for position, (day, value) in enumerate(body.items()):
            yield SourceRecord({day: value}, page.url, position, context)

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        podcast = item.context["podcast"]
        record = item.record
        if stream.name == EPISODES.name:
            if not isinstance(record, dict):
                raise RecordError(f"episode: expected an object, got {type(record).__name__}")
            if record.get("status") == "draft":
                return
            yield {
                "episode_id": text(record, "id"),
                "show_id": str(podcast["id"]),
                "show_name": text(podcast, "title", None),
                "title": text(record, "title", None),
                "published_at": timestamp(record, "publish_time"),
                "duration_s": number(record, "duration", None),
                "file_bytes": None,
                "bitrate_kbps": None,
            }
            return
        ((key, value),) = record.items()
        day = parse_day(key, "date")
        if not item.context["first"] <= day <= item.context["last"]:
            return  # a day the request did not ask for (the range moved by Podbean)
        downloads = count({"downloads": value}, "downloads")
        if downloads == 0:
            return
        yield {
            "platform": self.platform,
            "show_id": str(podcast["id"]),
            "episode_id": item.context["episode_id"],
            "date": day,
            "downloads": downloads,
            "reported_at": None,
        }


def _error(response: Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("error_description") or "")[:120]


def _rate_limited(response: Response | None, exception: BaseException | None) -> bool:
    """Podbean's bucket may answer 400 ``rate_limit_exceeded``: retried like a 429."""
    if response is None or response.status_code != 400:
        return False
    return _error(response)[0] == "rate_limit_exceeded"
