"""A fake Buzzsprout API (``/api/...``), serving a :class:`HostCatalog`.

Faithful to: ``Authorization: Token token=...`` (or ``?api_token=``) else 401; a default
client User-Agent (python-requests, curl) refused with 403; ``.json`` paths; episodes
unpaginated; downloads per ``date`` listing only episodes with downloads (a quiet day is ``[]``);
a bad date is 422 ``{"error": {"code": "invalid", "param": "date"}}``; ISO-8601 times with the
podcast's offset; ETag on downloads with 304 for ``If-None-Match``.

Raw download rows (``/api/{podcast}/{episode}/downloads?date=``): one row per download of the
day's total, with a seeded app, device and place (some "Unknown"/"Unknown Device", some null
geography), paged with ``page``/``per_page`` (at most 1000) and a ``pagination`` object; an
episode of another podcast is 404.

Ids are JSON numbers, as Buzzsprout's are. A catalogue with ids that are not numbers (a
simulated world's ``ep000001``) is served with string ids: the connector reads ids as opaque
text either way.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from datetime import UTC, date, timedelta, timezone

from tests.fakes.catalog import HostCatalog
from tests.fakes.server import FakeApi, Request, Response, error, json_response

EASTERN = timezone(timedelta(hours=-4))


class FakeBuzzsprout(FakeApi):
    name = "buzzsprout"

    def __init__(self, catalog: HostCatalog, token: str = "buzz-token-1") -> None:
        super().__init__()
        self.catalog = catalog
        self.token = token
        # Field renames a test applies to episodes ({"published_at": "publishedAt"}).
        self.episode_renames: dict[str, str] = {}

    def route(self, request: Request) -> Response:
        agent = request.header("User-Agent") or ""
        if not agent or agent.startswith(("python-requests", "curl")):
            return error(403, {"error": "Please set a User-Agent identifying your application"})
        auth = request.header("Authorization") or ""
        if auth != f"Token token={self.token}" and request.query.get("api_token") != self.token:
            return error(401, {"error": "Access denied"})
        path = request.path
        if path == "/api/podcasts.json":
            return json_response(
                [
                    {"id": _id(s.show_id), "title": s.title, "timezone": s.timezone}
                    for s in self.catalog.shows
                ]
            )
        match = re.fullmatch(r"/api/([^/]+)/episodes\.json", path)
        if match and self._has_show(match[1]):
            return json_response([self._episode(e) for e in self.catalog.episodes_of(match[1])])
        match = re.fullmatch(r"/api/([^/]+)/([^/]+)/downloads", path)
        if match and self._has_show(match[1]):
            return self._raw_rows(match[1], match[2], request)
        match = re.fullmatch(r"/api/([^/]+)/downloads", path)
        if match and self._has_show(match[1]):
            try:
                day = date.fromisoformat(request.query.get("date", ""))
            except ValueError:
                return error(
                    422,
                    {"error": {"code": "invalid", "message": "date is invalid", "param": "date"}},
                )
            body = [
                {"episode_id": _id(episode), "total": n}
                for episode, n in self.catalog.day_downloads(match[1], day).items()
            ]
            tag = '"' + hashlib.md5(json.dumps(body).encode()).hexdigest() + '"'
            if request.header("If-None-Match") == tag:
                return Response(304, headers={"ETag": tag})
            return json_response(body, ETag=tag)
        return error(404, {"error": "Not found"})

    def _raw_rows(self, show_id: str, episode_id: str, request: Request) -> Response:
        if not any(e.episode_id == episode_id for e in self.catalog.episodes_of(show_id)):
            return error(404, {"error": "Not found"})
        try:
            day = date.fromisoformat(request.query.get("date", ""))
            page = int(request.query.get("page", "1"))
            per_page = min(int(request.query.get("per_page", "100")), 1000)
        except ValueError:
            return error(422, {"error": {"code": "invalid", "message": "bad parameter"}})
        rows = raw_rows(episode_id, day, self.catalog.downloads.get((episode_id, day), 0))
        chunk = rows[(page - 1) * per_page : page * per_page]
        has_more = page * per_page < len(rows)
        return json_response(
            {
                "downloads": chunk,
                "pagination": {
                    "page": page,
                    "per_page": per_page,
                    "has_more": has_more,
                    "next_page": page + 1 if has_more else None,
                },
            }
        )

    def _has_show(self, show_id: str) -> bool:
        return any(s.show_id == show_id for s in self.catalog.shows)

    def _episode(self, episode) -> dict:  # type: ignore[no-untyped-def]
        local = episode.published_at.replace(tzinfo=UTC).astimezone(EASTERN)
        record = {
            "id": _id(episode.episode_id),
            "title": episode.title,
            "audio_url": f"https://www.buzzsprout.com/{episode.show_id}/{episode.episode_id}.mp3",
            "published_at": local.isoformat(timespec="milliseconds"),
            "duration": episode.duration_s,
            "guid": f"Buzzsprout{episode.episode_id}",
            "total_plays": sum(
                n for (e, _), n in self.catalog.downloads.items() if e == episode.episode_id
            ),
            "episode_number": episode.number,
            "season_number": 1,
            "private": False,
        }
        for old, new in self.episode_renames.items():
            record[new] = record.pop(old)
        return record


def _id(value: str) -> int | str:
    return int(value) if value.isdigit() else value


APPS = ("Apple Podcasts", "Spotify", "Overcast", "Pocket Casts", "Unknown")
DEVICES = (
    ("iPhone", "mobile"),
    ("Pixel 8", "mobile"),
    ("Mac", "desktop"),
    ("Echo", "smart_speaker"),
)
PLACES = (
    ("US", "California", "Los Angeles", "North America"),
    ("GB", "England", "London", "Europe"),
    ("DE", None, None, "Europe"),
)


def raw_rows(episode_id: str, day: date, total: int) -> list[dict]:
    """The ``total`` downloads of an episode-day as Buzzsprout lists them (seeded per key)."""
    rng = random.Random(f"{episode_id}|{day}")
    rows = []
    for _ in range(total):
        device, device_type = rng.choice(DEVICES)
        if rng.random() < 0.1:
            device, device_type = "Unknown Device", "Unknown"
        country, region, city, continent = rng.choice(PLACES)
        rows.append(
            {
                "app": rng.choice(APPS),
                "device": device,
                "device_type": device_type,
                "country_code": country,
                "region": region,
                "city": city,
                "continent": continent,
                "media_type": "video" if rng.random() < 0.05 else "audio",
            }
        )
    return rows
