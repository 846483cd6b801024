"""A fake Simplecast API, serving a :class:`HostCatalog` whose ids are uuid-like strings.

Faithful to: ``Authorization: Bearer <token>`` else 401; ``GET /podcasts`` and
``GET /podcasts/{id}/episodes`` paged with ``limit``/``offset`` as
``{"collection": [...], "pages": {"current", "total", "limit", "next": {"href"} | null,
"previous": {"href"} | null}}``, ``next.href`` an absolute URL; episodes with ``published_at``
in UTC with ``Z`` and ``duration`` in seconds; ``GET /analytics/downloads?episode=`` (or
``podcast=``) ``&interval=day`` answering ``{"total", "interval", "by_interval": [{"interval":
"YYYY-MM-DD", "downloads_total", "downloads_percent"}]}`` with every day of the range, zeros
included. Throttling (no number is published) is a :class:`WindowLimit` with ``Retry-After``.

Not confirmed, so both accepted: the names of the range parameters, ``start_date``/``end_date``
and ``startDate``/``endDate`` (``range_params`` narrows them, to show what an API that ignores
the other names does); without a range the fake answers the episode's whole history. The error
body (``{"error": ...}``) is a plausible shape, not a documented one. Only ``interval=day`` is
modelled (others are 400 here).
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.fakes.catalog import Episode, HostCatalog, Show, make_catalog
from tests.fakes.server import (
    FakeApi,
    Request,
    Response,
    bearer_token,
    error,
    json_response,
    renamed,
)

RANGE_PARAMS = (("start_date", "end_date"), ("startDate", "endDate"))


def simplecast_catalog(first_day: date, days: int, **options: Any) -> HostCatalog:
    """A :func:`make_catalog` catalogue with Simplecast's uuid-like show and episode ids."""
    catalog = make_catalog(first_day=first_day, days=days, **options)
    ids = {}
    for show in catalog.shows:
        ids[show.show_id] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"simplecast/show/{show.show_id}"))
        show.show_id = ids[show.show_id]
    for episode in catalog.episodes:
        old = episode.episode_id
        ids[old] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"simplecast/episode/{old}"))
        episode.episode_id = ids[old]
        episode.show_id = ids[episode.show_id]
    catalog.downloads = {(ids[e], d): n for (e, d), n in catalog.downloads.items()}
    return catalog


class FakeSimplecast(FakeApi):
    name = "simplecast"

    def __init__(
        self,
        catalog: HostCatalog,
        token: str = "simplecast-token-1",
        *,
        default_limit: int = 10,
        range_params: tuple[tuple[str, str], ...] = RANGE_PARAMS,
    ) -> None:
        super().__init__()
        self.catalog = catalog
        self.token = token
        self.default_limit = default_limit
        self.range_params = range_params
        # Field renames a test applies to episodes ({"id": "episode_id"}).
        self.episode_renames: dict[str, str] = {}

    def route(self, request: Request) -> Response:
        if bearer_token(request) != self.token:
            return error(401, {"error": "Unauthorized", "message": "invalid or missing token"})
        if request.method != "GET":
            return error(405, {"error": "Method Not Allowed"})
        path = request.path
        if path == "/podcasts":
            return self._paged(request, [self._podcast(request, s) for s in self.catalog.shows])
        match = re.fullmatch(r"/podcasts/([^/]+)/episodes", path)
        if match and self._has_show(match[1]):
            return self._paged(
                request,
                [self._episode(request, e) for e in self.catalog.episodes_of(match[1])],
            )
        if path == "/analytics/downloads":
            return self._downloads(request)
        return error(404, {"error": "Not Found"})

    # -- lists ---------------------------------------------------------------------------------

    def _paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        try:
            limit = int(request.query.get("limit", str(self.default_limit)))
            offset = int(request.query.get("offset", "0"))
        except ValueError:
            return error(400, {"error": "Bad Request", "message": "limit and offset are numbers"})
        if limit < 1 or offset < 0:
            return error(400, {"error": "Bad Request", "message": "limit >= 1, offset >= 0"})

        def link(at: int) -> dict[str, str]:
            query = urlencode({"limit": limit, "offset": at})
            return {"href": f"{_origin(request)}{request.path}?{query}"}

        return json_response(
            {
                "href": f"{_origin(request)}{request.path}",
                "collection": items[offset : offset + limit],
                "count": len(items),
                "pages": {
                    "current": offset // limit + 1,
                    "total": max(1, math.ceil(len(items) / limit)),
                    "limit": limit,
                    "next": link(offset + limit) if offset + limit < len(items) else None,
                    "previous": link(max(0, offset - limit)) if offset > 0 else None,
                },
            }
        )

    # -- analytics -----------------------------------------------------------------------------

    def _downloads(self, request: Request) -> Response:
        interval = request.query.get("interval", "day")
        if interval != "day":
            return error(400, {"error": "Bad Request", "message": f"interval {interval!r}"})
        episode_id, podcast_id = request.query.get("episode"), request.query.get("podcast")
        if episode_id is not None:
            if not any(e.episode_id == episode_id for e in self.catalog.episodes):
                return error(404, {"error": "Not Found", "message": "episode not found"})
            episodes = [self.catalog.episode(episode_id)]
        elif podcast_id is not None and self._has_show(podcast_id):
            episodes = self.catalog.episodes_of(podcast_id)
        else:
            return error(400, {"error": "Bad Request", "message": "episode or podcast required"})
        try:
            first, last = self._range(request, episodes)
        except ValueError:
            return error(400, {"error": "Bad Request", "message": "dates are YYYY-MM-DD"})
        per_day = [
            (day, sum(self.catalog.downloads.get((e.episode_id, day), 0) for e in episodes))
            for day in (first + timedelta(days=i) for i in range((last - first).days + 1))
        ]
        total = sum(n for _, n in per_day)
        return json_response(
            {
                "total": total,
                "interval": "day",
                "by_interval": [
                    {
                        "interval": day.isoformat(),
                        "downloads_total": n,
                        "downloads_percent": round(100.0 * n / total, 2) if total else 0.0,
                    }
                    for day, n in per_day
                ],
            }
        )

    def _range(self, request: Request, episodes: list[Episode]) -> tuple[date, date]:
        first = last = None
        for start_name, end_name in self.range_params:
            if start_name in request.query or end_name in request.query:
                if start_name in request.query:
                    first = date.fromisoformat(request.query[start_name])
                if end_name in request.query:
                    last = date.fromisoformat(request.query[end_name])
                break
        known = [d for (e, d) in self.catalog.downloads if e in {x.episode_id for x in episodes}]
        if first is None:
            first = min([e.published_at.date() for e in episodes] + known)
        if last is None:
            last = max(known, default=first)
        return first, last

    # -- documents -----------------------------------------------------------------------------

    def _has_show(self, show_id: str) -> bool:
        return any(s.show_id == show_id for s in self.catalog.shows)

    def _podcast(self, request: Request, show: Show) -> dict[str, Any]:
        return {
            "id": show.show_id,
            "title": show.title,
            "status": "published",
            "href": f"{_origin(request)}/podcasts/{show.show_id}",
            "episodes": {
                "href": f"{_origin(request)}/podcasts/{show.show_id}/episodes",
                "count": len(self.catalog.episodes_of(show.show_id)),
            },
        }

    def _episode(self, request: Request, episode: Episode) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": episode.episode_id,
            "title": episode.title,
            "status": "published",
            "type": "full",
            "number": episode.number,
            "season": {"href": None, "number": 1},
            "published_at": episode.published_at.isoformat(timespec="microseconds") + "Z",
            "duration": episode.duration_s,
            "href": f"{_origin(request)}/episodes/{episode.episode_id}",
            "enclosure_url": f"https://cdn.simplecast.com/audio/{episode.episode_id}.mp3",
        }
        return renamed(record, self.episode_renames)


def _origin(request: Request) -> str:
    return f"http://{request.header('Host')}"
