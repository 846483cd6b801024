"""A fake Transistor.fm API (``/v1/...``, JSON:API), serving a :class:`HostCatalog`.

Faithful to: header ``x-api-key`` else 401 (a JSON:API ``errors`` document); string ids;
``GET /v1/shows`` and ``GET /v1/episodes?show_id=`` paged with ``pagination[page]`` (from 1) and
``pagination[per]`` (default 10) and ``meta {currentPage, totalPages, totalCount}``; episode times
with the show's offset and milliseconds (``2021-09-20T10:51:45.707-07:00``); analytics
``GET /v1/analytics/episodes/{id}?start_date=dd-mm-yyyy&end_date=dd-mm-yyyy`` answering every
day of the range (zeros included) and the range itself, the last 14 days without one, 400 for
a date in another format.

Not confirmed, so switchable: whether an episode without any download in the range comes as
zeros (default) or as an empty list (``quiet_as_empty``); whether the 429 of the rate limit
carries ``Retry-After`` (``throttle(retry_after=...)``). ``max_range_days`` makes the fake
answer a shorter range than asked, as a silently capped API would.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from tests.fakes.catalog import Episode, HostCatalog, Show
from tests.fakes.server import (
    FakeApi,
    Request,
    Response,
    WindowLimit,
    error,
    json_response,
    renamed,
)

PACIFIC = timezone(timedelta(hours=-7))
DAY_FORMAT = "%d-%m-%Y"
DEFAULT_RANGE_DAYS = 14


def _errors(status: int, title: str, detail: str = "", **headers: str) -> Response:
    return error(
        status, {"errors": [{"status": str(status), "title": title, "detail": detail}]}, **headers
    )


class FakeTransistor(FakeApi):
    name = "transistor"

    def __init__(
        self,
        catalog: HostCatalog,
        api_key: str = "transistor-key-1",
        *,
        default_per: int = 10,
        quiet_as_empty: bool = False,
        today: date | None = None,
        max_range_days: int | None = None,
    ) -> None:
        super().__init__()
        self.catalog = catalog
        self.api_key = api_key
        self.default_per = default_per
        self.quiet_as_empty = quiet_as_empty
        last = max((d for _, d in catalog.downloads), default=date.today())
        self.today = today or last + timedelta(days=1)
        self.max_range_days = max_range_days
        # Field renames a test applies to episodes ({"id": "episode_id"},
        # {"attributes.title": "attributes.name"}).
        self.episode_renames: dict[str, str] = {}

    def throttle(
        self,
        requests: int = 4,
        per_seconds: float = 1.0,
        block_s: float = 1.0,
        retry_after: bool = False,
    ) -> None:
        """Transistor's limit at test scale: over ``requests`` per ``per_seconds``, 429 and the
        key blocked for ``block_s`` (the real API: 10 per 10 s, blocked 10 s)."""

        def refusal(wait_s: float) -> Response:
            headers = {"Retry-After": str(max(1, math.ceil(wait_s)))} if retry_after else {}
            return _errors(429, "Too Many Requests", "Rate limit exceeded", **headers)

        self.limit = WindowLimit(requests, per_seconds, block_s=block_s, response=refusal)

    # -- routing -------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        if request.header("x-api-key") != self.api_key:
            return _errors(401, "Unauthorized", "Invalid or missing API key")
        if request.method != "GET":
            return _errors(405, "Method Not Allowed")
        path = request.path
        if path == "/v1/shows":
            return self._paged(request, [self._show(s) for s in self.catalog.shows])
        if path == "/v1/episodes":
            show_id = request.query.get("show_id")
            if show_id is None:
                episodes = list(self.catalog.episodes)
            elif self._has_show(show_id):
                episodes = self.catalog.episodes_of(show_id)
            else:
                return _errors(404, "Not Found", f"show {show_id} not found")
            return self._paged(request, [self._episode(e) for e in episodes])
        match = re.fullmatch(r"/v1/episodes/([^/]+)", path)
        if match and self._has_episode(match[1]):
            return json_response({"data": self._episode(self.catalog.episode(match[1]))})
        match = re.fullmatch(r"/v1/analytics/episodes/([^/]+)", path)
        if match and self._has_episode(match[1]):
            return self._analytics(request, self.catalog.episode(match[1]))
        return _errors(404, "Not Found")

    def _paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        try:
            page = int(request.query.get("pagination[page]", "1"))
            per = int(request.query.get("pagination[per]", str(self.default_per)))
        except ValueError:
            return _errors(400, "Bad Request", "pagination[page] and pagination[per] are numbers")
        if page < 1 or per < 1:
            return _errors(400, "Bad Request", "pagination starts at page 1, per >= 1")
        total_pages = math.ceil(len(items) / per)
        return json_response(
            {
                "data": items[(page - 1) * per : page * per],
                "meta": {
                    "currentPage": page,
                    "totalPages": total_pages,
                    "totalCount": len(items),
                },
            }
        )

    def _analytics(self, request: Request, episode: Episode) -> Response:
        try:
            end = _day(request.query.get("end_date")) or self.today
            start = _day(request.query.get("start_date")) or end - timedelta(
                days=DEFAULT_RANGE_DAYS - 1
            )
        except ValueError:
            return _errors(400, "Bad Request", "start_date and end_date must be dd-mm-yyyy")
        if start > end:
            return _errors(400, "Bad Request", "start_date is after end_date")
        if self.max_range_days is not None:
            end = min(end, start + timedelta(days=self.max_range_days - 1))
        days = self.catalog.episode_days(episode.episode_id, start, end)
        entries = [
            {"date": d.strftime(DAY_FORMAT), "downloads": days.get(d, 0)}
            for d in (start + timedelta(days=i) for i in range((end - start).days + 1))
        ]
        if self.quiet_as_empty and not any(e["downloads"] for e in entries):
            entries = []
        return json_response(
            {
                "data": {
                    "id": episode.episode_id,
                    "type": "episode_analytics",
                    "attributes": {
                        "downloads": entries,
                        "start_date": start.strftime(DAY_FORMAT),
                        "end_date": end.strftime(DAY_FORMAT),
                    },
                    "relationships": {
                        "episode": {"data": {"id": episode.episode_id, "type": "episode"}}
                    },
                }
            }
        )

    # -- documents -----------------------------------------------------------------------------

    def _has_show(self, show_id: str) -> bool:
        return any(s.show_id == show_id for s in self.catalog.shows)

    def _has_episode(self, episode_id: str) -> bool:
        return any(e.episode_id == episode_id for e in self.catalog.episodes)

    def _show(self, show: Show) -> dict[str, Any]:
        return {
            "id": show.show_id,
            "type": "show",
            "attributes": {
                "title": show.title,
                "description": f"All about {show.title}",
                "website": f"https://{show.show_id}.transistor.fm",
            },
            "relationships": {
                "episodes": {
                    "data": [
                        {"id": e.episode_id, "type": "episode"}
                        for e in self.catalog.episodes_of(show.show_id)
                    ]
                }
            },
        }

    def _episode(self, episode: Episode) -> dict[str, Any]:
        local = episode.published_at.replace(tzinfo=UTC).astimezone(PACIFIC)
        created = local - timedelta(days=1, seconds=17.293)
        record: dict[str, Any] = {
            "id": episode.episode_id,
            "type": "episode",
            "attributes": {
                "title": episode.title,
                "number": episode.number,
                "season": 1,
                "status": "published",
                "published_at": local.isoformat(timespec="milliseconds"),
                "created_at": created.isoformat(timespec="milliseconds"),
                "updated_at": local.isoformat(timespec="milliseconds"),
                "duration": episode.duration_s,
                "media_url": f"https://media.transistor.fm/{episode.episode_id}.mp3",
                "share_url": f"https://share.transistor.fm/s/{episode.episode_id}",
            },
            "relationships": {"show": {"data": {"id": episode.show_id, "type": "show"}}},
        }
        return renamed(record, self.episode_renames)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    return datetime.strptime(value, DAY_FORMAT).date()
