"""A fake of the Google APIs a YouTube video podcast is read from, serving a :class:`HostCatalog`.

One server plays three Google hosts, each under its own path:

* ``POST /token`` (oauth2.googleapis.com/token): ``grant_type=refresh_token`` with
  ``refresh_token``, ``client_id`` and ``client_secret`` in the form (HTTP Basic for the client is
  accepted too, as Google does) -> ``{"access_token", "expires_in": 3599, "scope",
  "token_type": "Bearer"}``; an unknown client is 401 ``invalid_client``, a wrong or revoked
  refresh token 400 ``invalid_grant``;
* ``/youtube/v3/...`` (the YouTube Data API v3): ``channels?mine=true&part=...``,
  ``playlistItems?playlistId=&part=...&maxResults=&pageToken=`` (default 5, max 50; an opaque
  ``nextPageToken`` while more remain), ``videos?id=a,b&part=...`` (at most 50 ids; unknown ids
  are left out); videos carry ``snippet.publishedAt`` (RFC 3339, ``Z``) and
  ``contentDetails.duration`` (ISO-8601, ``PT1H2M3S``); a ``part`` is required;
* ``/v2/reports`` (the YouTube Analytics API v2): ``ids=channel==MINE`` (or the channel's id),
  ``startDate``/``endDate`` ``YYYY-MM-DD``, ``metrics`` (views, estimatedMinutesWatched,
  averageViewDuration), ``dimensions`` (day, video), ``sort``, ``maxResults``, ``startIndex``
  (1-based) -> ``{"kind": "youtubeAnalytics#resultTable", "columnHeaders": [{"name",
  "columnType", "dataType"}], "rows": [[...]]}``; ``rows`` is left out when there are none;
  days after ``latest_day`` are missing (YouTube's processing delay).

Every API request needs ``Authorization: Bearer <access token>``, else 401 in Google's error
shape ``{"error": {"code", "message", "errors": [{"reason"}], "status"}}`` with
``WWW-Authenticate``. Faults a test switches on: ``quota`` (report requests left today; past
it 403 ``quotaExceeded``), ``column_order`` / ``drop_columns`` (a changed report),
``video_renames`` (a changed snippet field), ``expire_tokens()``. Throttling is Google's
429 ``RESOURCE_EXHAUSTED`` with ``rateLimitExceeded`` (``rate_limit_refusal``), sent without
``Retry-After``. Whether the Analytics API allows ``dimensions=day,video`` on a whole channel
without a ``filters=video==`` is not confirmed by the facts; the fake allows it.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, datetime, timedelta

from tests.fakes.catalog import Episode, HostCatalog, Show, make_catalog
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

METRICS = {
    "views": "INTEGER",
    "estimatedMinutesWatched": "INTEGER",
    "averageViewDuration": "INTEGER",
}
DIMENSIONS = ("day", "video")
CHALLENGE = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def youtube_id(seed: str, length: int = 11) -> str:
    """A deterministic id in YouTube's alphabet (videos: 11 characters)."""
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ID_ALPHABET[b % 64] for b in digest[:length])


def youtube_catalog(first_day: date, days: int, videos: int = 5, seed: int = 7) -> HostCatalog:
    """One channel with YouTube-style ids (``UC`` + 22 characters, 11-character videos)."""
    base = make_catalog(
        seed=seed, shows=1, episodes_per_show=videos, first_day=first_day, days=days
    )
    channel = "UC" + youtube_id(f"channel{seed}", 22)
    ids = {e.episode_id: youtube_id(f"video{seed}-{e.episode_id}") for e in base.episodes}
    return HostCatalog(
        shows=[Show(channel, f"{base.shows[0].title} (video)", "Pacific Time (US & Canada)")],
        episodes=[
            Episode(ids[e.episode_id], channel, e.title, e.published_at, e.duration_s, e.number)
            for e in base.episodes
        ],
        downloads={(ids[episode], day): n for (episode, day), n in base.downloads.items()},
    )


def iso_duration(seconds: int) -> str:
    """Seconds as YouTube writes a duration: ``PT1H2M3S``, ``P1DT2H``, ``PT0S``."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    text = "P" + (f"{days}D" if days else "")
    if clock or not days:
        text += "T" + (clock or "0S")
    return text


def google_error(status: int, reason: str, message: str, state: str, **headers: str) -> Response:
    return error(
        status,
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
                "status": state,
            }
        },
        **headers,
    )


def rate_limit_refusal(wait_s: float) -> Response:
    """Google's answer to too many requests: 429, no Retry-After."""
    return google_error(
        429, "rateLimitExceeded", "Quota exceeded for quota metric 'Queries'", "RESOURCE_EXHAUSTED"
    )


def _bad_request(message: str) -> Response:
    return google_error(400, "badRequest", message, "INVALID_ARGUMENT")


class FakeYouTube(FakeApi):
    name = "youtube"

    def __init__(
        self,
        catalog: HostCatalog,
        client_id: str = "yt-client-1.apps.googleusercontent.com",
        client_secret: str = "yt-secret-1",
        refresh_token: str = "1//yt-refresh-1",
    ) -> None:
        super().__init__()
        self.catalog = catalog
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.tokens: dict[str, datetime] = {}
        self.latest_day: date | None = None
        self.quota: int | None = None
        self.column_order: list[str] | None = None
        self.drop_columns: set[str] = set()
        self.video_renames: dict[str, str] = {}

    @property
    def channel(self) -> Show:
        return self.catalog.shows[0]

    @property
    def uploads(self) -> str:
        return "UU" + self.channel.show_id[2:]

    def expire_tokens(self) -> None:
        past = datetime.now(UTC) - timedelta(seconds=1)
        for token in self.tokens:
            self.tokens[token] = past

    # -- serving -------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        if request.path == "/token":
            return self._token(request)
        refused = self._refused(request)
        if refused is not None:
            return refused
        if request.method != "GET":
            return google_error(405, "methodNotAllowed", "Method not allowed", "INVALID_ARGUMENT")
        if request.path.startswith("/youtube/v3/") and not request.query.get("part"):
            return google_error(
                400, "required", "No filter selected. Expected one of: ...", "INVALID_ARGUMENT"
            )
        if request.path == "/youtube/v3/channels":
            return self._channels(request)
        if request.path == "/youtube/v3/playlistItems":
            return self._playlist_items(request)
        if request.path == "/youtube/v3/videos":
            return self._videos(request)
        if request.path == "/v2/reports":
            return self._report(request)
        return google_error(404, "notFound", "Not Found", "NOT_FOUND")

    def _token(self, request: Request) -> Response:
        return refresh_token_answer(
            request,
            self.client_id,
            self.client_secret,
            self.refresh_token,
            self.tokens,
            scope="https://www.googleapis.com/auth/yt-analytics.readonly "
            "https://www.googleapis.com/auth/youtube.readonly",
        )

    def _refused(self, request: Request) -> Response | None:
        token = bearer_token(request)
        if token is not None and token in self.tokens and self.tokens[token] > datetime.now(UTC):
            return None
        return google_error(
            401,
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            "UNAUTHENTICATED",
            **{"WWW-Authenticate": CHALLENGE},
        )

    def _channels(self, request: Request) -> Response:
        items = []
        if request.query.get("mine") == "true" or request.query.get("id") == self.channel.show_id:
            items.append(
                {
                    "kind": "youtube#channel",
                    "etag": "etag-channel",
                    "id": self.channel.show_id,
                    "snippet": {"title": self.channel.title, "description": "", "country": "US"},
                    "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": self.uploads}},
                }
            )
        return json_response(
            {
                "kind": "youtube#channelListResponse",
                "etag": "etag-channels",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
                "items": items,
            }
        )

    def _playlist_items(self, request: Request) -> Response:
        if request.query.get("playlistId") != self.uploads:
            return google_error(
                404,
                "playlistNotFound",
                "The playlist identified with the request's playlistId parameter cannot be found.",
                "NOT_FOUND",
            )
        try:
            size = int(request.query.get("maxResults", "5"))
            token = request.query.get("pageToken")
            offset = int(base64.urlsafe_b64decode(token).decode()) if token else 0
        except ValueError:
            return _bad_request("Invalid value for maxResults or pageToken")
        if not 0 <= size <= 50:
            return _bad_request(f"Invalid value '{size}'. Values must be within the range: [0, 50]")
        videos = sorted(self.catalog.episodes, key=lambda e: e.published_at, reverse=True)
        page = videos[offset : offset + size]
        body = {
            "kind": "youtube#playlistItemListResponse",
            "etag": f"etag-items-{offset}",
            "items": [
                {
                    "kind": "youtube#playlistItem",
                    "etag": f"etag-{v.episode_id}",
                    "id": base64.urlsafe_b64encode(f"{self.uploads}.{v.episode_id}".encode())
                    .decode()
                    .rstrip("="),
                    "snippet": {
                        "publishedAt": _rfc3339(v.published_at),
                        "channelId": self.channel.show_id,
                        "title": v.title,
                        "playlistId": self.uploads,
                        "position": offset + i,
                        "resourceId": {"kind": "youtube#video", "videoId": v.episode_id},
                    },
                    "contentDetails": {
                        "videoId": v.episode_id,
                        "videoPublishedAt": _rfc3339(v.published_at),
                    },
                }
                for i, v in enumerate(page)
            ],
            "pageInfo": {"totalResults": len(videos), "resultsPerPage": size},
        }
        if offset + size < len(videos):
            body["nextPageToken"] = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
        return json_response(body)

    def _videos(self, request: Request) -> Response:
        ids = [i for i in request.query.get("id", "").split(",") if i]
        if len(ids) > 50:
            return _bad_request("The request specifies too many video ids (at most 50)")
        known = {e.episode_id: e for e in self.catalog.episodes}
        items = [self._video(known[i]) for i in ids if i in known]
        return json_response(
            {
                "kind": "youtube#videoListResponse",
                "etag": "etag-videos",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            }
        )

    def _video(self, video: Episode) -> dict:
        snippet = {
            "publishedAt": _rfc3339(video.published_at),
            "channelId": self.channel.show_id,
            "title": video.title,
            "description": f"{video.title}, on video",
            "channelTitle": self.channel.title,
            "liveBroadcastContent": "none",
        }
        renamed(snippet, self.video_renames)
        return {
            "kind": "youtube#video",
            "etag": f"etag-{video.episode_id}",
            "id": video.episode_id,
            "snippet": snippet,
            "contentDetails": {
                "duration": iso_duration(video.duration_s),
                "dimension": "2d",
                "definition": "hd",
                "caption": "false",
                "licensedContent": False,
                "projection": "rectangular",
            },
        }

    def _report(self, request: Request) -> Response:
        q = request.query
        if q.get("ids") not in ("channel==MINE", f"channel=={self.channel.show_id}"):
            return google_error(403, "forbidden", "Forbidden", "PERMISSION_DENIED")
        try:
            start = date.fromisoformat(q["startDate"])
            end = date.fromisoformat(q["endDate"])
            size = int(q.get("maxResults", "10000"))
            first = int(q.get("startIndex", "1"))
        except (KeyError, ValueError) as exc:
            return _bad_request(f"Invalid or missing parameter: {exc}")
        if start > end or size < 1 or first < 1:
            return _bad_request("Invalid date range, maxResults or startIndex")
        metrics = [m for m in q.get("metrics", "").split(",") if m]
        dimensions = [d for d in q.get("dimensions", "").split(",") if d]
        unknown = [m for m in metrics if m not in METRICS] + [
            d for d in dimensions if d not in DIMENSIONS
        ]
        if not metrics or unknown:
            return _bad_request(
                f"Unknown identifier ({','.join(unknown) or 'metrics'}) given in field "
                "parameters.metrics."
            )
        if self.quota is not None:
            if self.quota <= 0:
                return google_error(
                    403,
                    "quotaExceeded",
                    "The request cannot be completed because you have exceeded your quota.",
                    "PERMISSION_DENIED",
                )
            self.quota -= 1
        last = min(end, self.latest_day) if self.latest_day else end
        durations = {e.episode_id: e.duration_s for e in self.catalog.episodes}
        records = []
        day = start
        while day <= last:
            for video in sorted(durations):
                views = self.catalog.downloads.get((video, day), 0)
                if views <= 0:
                    continue
                watched = int(durations[video] * 0.4)
                records.append(
                    {
                        "day": day.isoformat(),
                        "video": video,
                        "views": views,
                        "estimatedMinutesWatched": views * watched // 60,
                        "averageViewDuration": watched,
                    }
                )
            day += timedelta(days=1)
        columns = dimensions + metrics
        if self.column_order:
            columns = [c for c in self.column_order if c in columns] + [
                c for c in columns if c not in self.column_order
            ]
        columns = [c for c in columns if c not in self.drop_columns]
        if "video" not in dimensions:  # a day-only report sums the videos
            summed: dict[str, dict] = {}
            for r in records:
                total = summed.setdefault(r["day"], {**r, "views": 0})
                total["views"] += r["views"]
            records = list(summed.values())
        page = records[first - 1 : first - 1 + size]
        body: dict = {
            "kind": "youtubeAnalytics#resultTable",
            "columnHeaders": [
                {
                    "name": c,
                    "columnType": "DIMENSION" if c in DIMENSIONS else "METRIC",
                    "dataType": "STRING" if c in DIMENSIONS else METRICS[c],
                }
                for c in columns
            ],
        }
        if page:
            body["rows"] = [[r[c] for c in columns] for r in page]
        return json_response(body)


def _rfc3339(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
