"""YouTube (video podcasts): a channel's uploads and each video's views per day.

API facts (developers.google.com/youtube; docs/user/connectors/youtube.md):

* OAuth2 with a refresh token the channel owner granted once (scopes ``yt-analytics.readonly``
  and ``youtube.readonly``): ``POST https://oauth2.googleapis.com/token`` with
  ``grant_type=refresh_token``, ``refresh_token``, ``client_id``, ``client_secret`` -> an access
  token for about an hour, sent as ``Authorization: Bearer``; a 401 fetches a new one once;
* catalogue from the Data API v3: ``channels?mine=true&part=snippet,contentDetails`` -> channel
  id, title and uploads playlist; ``playlistItems?playlistId=&part=contentDetails&maxResults=50
  &pageToken=`` (``nextPageToken`` until absent); ``videos?id=a,b&part=snippet,contentDetails``
  (at most 50 ids) -> ``snippet.title``, ``snippet.publishedAt`` (RFC 3339) and
  ``contentDetails.duration`` (ISO-8601 duration, ``PT1H2M3S``);
* views from the Analytics API v2: ``GET /v2/reports?ids=channel==MINE&startDate=&endDate=
  &metrics=views,estimatedMinutesWatched,averageViewDuration&dimensions=day,video&sort=day
  &maxResults=&startIndex=`` -> ``{"columnHeaders": [{"name", ...}], "rows": [[...]]}``; rows are
  read by the headers' names (their order may change), ``rows`` is absent when there are none,
  and the most recent days are missing for a while (``reporting_lag_days``, default 3);
* a spent daily quota is 403 with reason ``quotaExceeded``: a :class:`QuotaExhaustedError` that
  stops the sync at its last checkpoint (not retried, not a credentials problem); 429 and 403
  ``rateLimitExceeded``/``userRateLimitExceeded`` are retried.

Canonical mapping: ``episode_id`` = video id, ``show_id`` = channel id, ``show_name`` = channel
title, ``downloads`` = views. A YouTube view is not an IAB-certified download: it is counted by
YouTube's own rules (a play, not a file delivered), so it is not comparable one to one with a
host's downloads. Days are YouTube Analytics days (Pacific time).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from pydantic import Field, field_validator
from requests import Response

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import (
    ApiChangedError,
    ConnectorError,
    QuotaExhaustedError,
)
from connectors.framework.http import ApiClient, Pacing
from connectors.framework.oauth import (
    BearerTokenAuth,
    GoogleTokenSettings,
    Token,
    google_token,
    on_base_url,
    url_setting,
)
from connectors.framework.records import count, field_error, parse_day, text, timestamp
from connectors.framework.state import StreamState

EPISODES = Stream("episodes", "episodes", "every video uploaded to the channel")
DOWNLOADS = Stream(
    "host_downloads_daily",
    "host_downloads_daily",
    "views per video and day, as YouTube Analytics counts them (not IAB downloads)",
    per_day=True,
)
DATA_API_URL = "https://www.googleapis.com/youtube/v3"
METRICS = "views,estimatedMinutesWatched,averageViewDuration"
REQUIRED_COLUMNS = ("day", "video", "views")
VIDEOS_PER_REQUEST = 50  # the Data API's maximum of ids and of maxResults
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})


class YouTubeSettings(GoogleTokenSettings):
    # The YouTube Data API v3 (the catalogue); "{base_url}" as for token_url.
    data_api_base_url: str = DATA_API_URL
    # Days before today YouTube Analytics has not finished: they are asked on a later run.
    reporting_lag_days: int = Field(default=3, ge=1, le=30)
    # Report rows per request (maxResults).
    page_size: int = Field(default=200, ge=1, le=200)

    @field_validator("data_api_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return url_setting(value)


class YouTube(Connector):
    platform = "youtube"
    display_name = "YouTube Analytics"
    settings_model = YouTubeSettings
    credentials = ("client_id", "client_secret", "refresh_token")
    streams = (EPISODES, DOWNLOADS)
    default_base_url = "https://youtubeanalytics.googleapis.com"
    # No per-second limit is documented; the daily quota is the real limit. Stay polite.
    default_pacing = Pacing(5, 1.0)

    @property
    def data_api(self) -> str:
        return on_base_url(self.settings.data_api_base_url, self.base_url)  # type: ignore[attr-defined]

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            auth=BearerTokenAuth(self._fetch_token),
            retry_condition=_rate_limited,
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
        if response.status_code not in (403, 429):
            return
        reasons = _reasons(response)
        if reasons & QUOTA_REASONS:
            raise QuotaExhaustedError(
                f"youtube: the daily quota is spent ({response.status_code} quotaExceeded) at "
                f"{url}; the sync stopped at its last checkpoint and the next run, after the "
                "quota resets (midnight Pacific time), goes on from there"
            )
        if response.status_code == 403 and reasons & RATE_REASONS:
            raise ConnectorError(
                f"youtube: still throttled (403 {sorted(reasons & RATE_REASONS)[0]}) at {url} "
                f"after {self.client.max_attempts} attempts; the sync stopped at its last "
                "checkpoint and resumes from there"
            )

    # -- the channel and its videos ------------------------------------------------------------

    def channel(self) -> dict[str, Any]:
        if not hasattr(self, "_channel"):
            page = self.client.get(
                f"{self.data_api}/channels",
                params={"mine": "true", "part": "snippet,contentDetails"},
            )
            body = page.records[0]
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ApiChangedError(f"youtube: {page.url} should hold a list of channels")
            if not items:
                raise ConnectorError(
                    "youtube: the account of this refresh token has no YouTube channel; grant "
                    "access with the Google account (or brand account) that owns the channel"
                )
            channel = items[0]
            if not isinstance(channel, dict) or not channel.get("id"):
                raise ApiChangedError(f"youtube: {page.url} lists a channel without an id")
            self._channel = channel
        return self._channel

    def video_records(self) -> Iterator[SourceRecord]:
        """The uploads playlist page by page, each page's videos looked up in one request."""
        channel = self.channel()
        uploads = channel.get("contentDetails", {}).get("relatedPlaylists", {}).get("uploads")
        if not uploads:
            raise ApiChangedError("youtube: the channel has no contentDetails.relatedPlaylists")
        token: str | None = None
        while True:
            params = {
                "playlistId": uploads,
                "part": "contentDetails",
                "maxResults": VIDEOS_PER_REQUEST,
            }
            if token:
                params["pageToken"] = token
            page = self.client.get(f"{self.data_api}/playlistItems", params=params)
            body = page.records[0]
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ApiChangedError(f"youtube: {page.url} should hold a list of playlist items")
            ids = [
                str(item["contentDetails"]["videoId"])
                for item in items
                if isinstance(item, dict) and (item.get("contentDetails") or {}).get("videoId")
            ]
            if ids:
                yield from self._videos(ids, channel)
            token = body.get("nextPageToken")
            if not items or not token:
                return

    def _videos(self, ids: list[str], channel: dict[str, Any]) -> Iterator[SourceRecord]:
        page = self.client.get(
            f"{self.data_api}/videos",
            params={"id": ",".join(ids), "part": "snippet,contentDetails"},
        )
        body = page.records[0]
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ApiChangedError(f"youtube: {page.url} should hold a list of videos")
        # Deleted and private-to-others videos stay in the playlist but are not returned.
        for position, video in enumerate(items):
            yield SourceRecord(video, page.url, position, {"channel": channel})

    def check(self) -> str:
        channel = self.channel()
        day = self.last_complete_day().isoformat()
        # A one-row report proves the analytics scope was granted too.
        self.client.get("/v2/reports", params=self._report_params(day, day, 1, 1))
        title = (channel.get("snippet") or {}).get("title")
        return f"channel {title!r} ({channel['id']}) and its analytics visible"

    # -- streams -------------------------------------------------------------------------------

    def last_complete_day(self) -> date:
        """YouTube Analytics finishes a day only a few days later."""
        return self.today - timedelta(days=self.settings.reporting_lag_days)  # type: ignore[attr-defined]

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        if stream.name == EPISODES.name:
            return Plan([str(self.channel()["id"])], None)
        # One slice per day. One report request covers every video of the channel, so the
        # cost is a request per day whatever the number of videos (90 days of history are 90
        # requests, far inside the daily quota); a day asked again (the look-back) lands the
        # same rows as before, so it replaces its batch instead of adding one; and a quota stop
        # loses at most the day in flight.
        return self.day_plan(state, mode)

    def _report_params(self, first: str, last: str, size: int, index: int) -> dict[str, Any]:
        return {
            "ids": "channel==MINE",
            "startDate": first,
            "endDate": last,
            "metrics": METRICS,
            "dimensions": "day,video",
            "sort": "day",
            "maxResults": size,
            "startIndex": index,
        }

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        if stream.name == EPISODES.name:
            yield from self.video_records()
            return
        channel = self.channel()
        size = self.settings.page_size  # type: ignore[attr-defined]
        index = 1
        while True:
            page = self.client.get(
                "/v2/reports", params=self._report_params(slice_id, slice_id, size, index)
            )
            columns, rows = _result_table(page.records[0], page.url)
            context = {"channel": channel, "columns": columns, "date": slice_id}
            for position, row in enumerate(rows):
                yield SourceRecord(row, page.url, position, context)
            if len(rows) < size:
                return
            index += len(rows)

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        channel = item.context["channel"]
        if stream.name == EPISODES.name:
            video = item.record
            duration = text(video, "contentDetails.duration", None)
            yield {
                "episode_id": text(video, "id"),
                "show_id": str(channel["id"]),
                "show_name": text(channel, "snippet.title", None),
                "title": text(video, "snippet.title", None),
                "published_at": timestamp(video, "snippet.publishedAt"),
                "duration_s": (
                    None
                    if duration is None
                    else float(parse_iso_duration(duration, "contentDetails.duration"))
                ),
                "file_bytes": None,
                "bitrate_kbps": None,
            }
            return
        columns: list[str] = item.context["columns"]
        row = item.record
        if not isinstance(row, list) or len(row) != len(columns):
            raise field_error(
                "row", f"expected {len(columns)} values ({', '.join(columns)}), got {row!r}"
            )
        named = dict(zip(columns, row, strict=True))
        day = parse_day(named["day"], "day")
        if day.isoformat() != item.context["date"]:
            raise field_error("day", f"{day} is not the day asked ({item.context['date']})")
        views = count(named, "views")
        if views == 0:
            return
        yield {
            "platform": self.platform,
            "show_id": str(channel["id"]),
            "episode_id": text(named, "video"),
            "date": day,
            "downloads": views,
            "reported_at": None,
        }


def _result_table(body: Any, url: str) -> tuple[list[str], list[Any]]:
    """Column names and rows of a ``youtubeAnalytics#resultTable``; a missing column we read
    is a changed API, an absent ``rows`` an empty day."""
    headers = body.get("columnHeaders") if isinstance(body, dict) else None
    if not isinstance(headers, list):
        raise ApiChangedError(f"youtube: {url} should be a result table with columnHeaders")
    columns = [str(h.get("name")) if isinstance(h, dict) else "" for h in headers]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ApiChangedError(
            f"youtube: the report at {url} has no column {missing[0]!r} (columns: "
            f"{', '.join(columns) or 'none'}); the API has probably changed"
        )
    rows = body.get("rows") or []
    if not isinstance(rows, list):
        raise ApiChangedError(f"youtube: the rows of {url} are not a list")
    return columns, rows


def parse_iso_duration(value: str, name: str = "duration") -> int:
    """Seconds of an ISO-8601 duration as YouTube writes them: ``PT1H2M3S``, ``P1DT2H``,
    ``PT45S``, ``P0D``. Years and months have no fixed length and are refused."""
    raw = value.strip().upper()
    if not raw.startswith("P") or raw in ("P", "PT") or raw.endswith("T"):
        raise field_error(name, f"not an ISO-8601 duration: {value!r}")
    units = {"W": 604_800, "D": 86_400, "H": 3_600, "M": 60, "S": 1}
    date_part, _, time_part = raw[1:].partition("T")
    total = 0.0
    for part, allowed in ((date_part, "WD"), (time_part, "HMS")):
        number = ""
        for char in part:
            if char.isdigit() or char == ".":
                number += char
                continue
            if char not in allowed or not number or number.count(".") > 1:
                raise field_error(name, f"not an ISO-8601 duration of days and time: {value!r}")
            # M means minutes only after T; in the date part it would be months (refused above).
            total += float(number) * units[char]
            number = ""
        if number:
            raise field_error(name, f"not an ISO-8601 duration: {value!r}")
    return round(total)


def _reasons(response: Response) -> set[str]:
    """The reasons of a Google error: ``error.errors[].reason`` and ``error.details[].reason``."""
    try:
        body = response.json()
    except ValueError:
        return set()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return set()
    found = set()
    for key in ("errors", "details"):
        for entry in error.get(key) or []:
            if isinstance(entry, dict) and entry.get("reason"):
                found.add(str(entry["reason"]))
    return found


def _rate_limited(response: Response | None, exception: BaseException | None) -> bool:
    """Google's per-user rate limits come as 403 too; those are retried (quota is not)."""
    if response is None or response.status_code != 403:
        return False
    return bool(_reasons(response) & RATE_REASONS)
