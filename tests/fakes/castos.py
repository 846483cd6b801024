"""A fake Castos API (``/api/v2/...``) serving the catalogue of a :class:`HostCatalog`.

Faithful to what Castos' public client code shows: the token as ``?token=`` (some clients send
``Authorization: Bearer``: both are accepted); ``GET /api/v2/podcasts`` ->
``{"success": true, "data": {"podcast_list": {"<id>": "<title>"}}}``; ``GET
/api/v2/podcasts/{id}/episodes`` -> episodes with integer ``id``, ``post_title``, ``created_at``
(Laravel's ``2026-09-20T14:00:00.000000Z``), ``post_date`` (WordPress' ``2026-09-20 14:00:00``,
UTC here) and ``youtube_id``; an unknown podcast -> 404 ``{"success": false, ...}``.

Not confirmed, so switchable (the connector must accept each):

* ``episodes_shape``: ``"data"`` (``{"success": true, "data": [...]}``, the default), ``"list"``
  (a bare list), ``"data.episodes"`` (``{"data": {"episodes": [...]}}``) or ``"paged"``
  (Laravel's paginator, ``{"data": {"current_page", "last_page", "data": [...], ...}}``, pages
  of ``per_page`` asked for with ``?page=``);
* ``refusal``: a bad token gets ``401 {"success": false, "message": "Unauthenticated."}``
  (default) or, with ``"200"``, ``200 {"success": false, "message": "Invalid token"}``.

No analytics endpoint: downloads come from the CSV export (``tests/fakes/exports.py``).
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.catalog import Episode, HostCatalog
from tests.fakes.server import (
    FakeApi,
    Request,
    Response,
    bearer_token,
    error,
    json_response,
    renamed,
)


class FakeCastos(FakeApi):
    name = "castos"

    def __init__(
        self,
        catalog: HostCatalog,
        token: str = "castos-token-1",
        *,
        episodes_shape: str = "data",
        per_page: int = 3,
        refusal: str = "401",
    ) -> None:
        super().__init__()
        self.catalog = catalog
        self.token = token
        self.episodes_shape = episodes_shape
        self.per_page = per_page
        self.refusal = refusal
        # Field renames a test applies to episodes ({"post_title": "title"}).
        self.episode_renames: dict[str, str] = {}

    def route(self, request: Request) -> Response:
        if self.token not in (request.query.get("token"), bearer_token(request)):
            if self.refusal == "200":
                return json_response({"success": False, "message": "Invalid token"})
            return error(401, {"success": False, "message": "Unauthenticated."})
        path = request.path
        if path == "/api/v2/podcasts":
            return json_response(
                {
                    "success": True,
                    "data": {"podcast_list": {s.show_id: s.title for s in self.catalog.shows}},
                }
            )
        match = re.fullmatch(r"/api/v2/podcasts/([^/]+)/episodes", path)
        if match:
            if not any(s.show_id == match[1] for s in self.catalog.shows):
                return error(404, {"success": False, "message": "Podcast not found"})
            episodes = [self._episode(e) for e in self.catalog.episodes_of(match[1])]
            return self._episodes(episodes, request, path)
        return error(404, {"success": False, "message": "Not found"})

    def _episodes(self, episodes: list[dict[str, Any]], request: Request, path: str) -> Response:
        if self.episodes_shape == "list":
            return json_response(episodes)
        if self.episodes_shape == "data.episodes":
            return json_response({"success": True, "data": {"episodes": episodes}})
        if self.episodes_shape == "paged":
            try:
                page = int(request.query.get("page", "1"))
            except ValueError:
                return error(422, {"success": False, "message": "page must be a number"})
            last = max(1, -(-len(episodes) // self.per_page))
            chunk = episodes[(page - 1) * self.per_page : page * self.per_page]
            return json_response(
                {
                    "success": True,
                    "data": {
                        "current_page": page,
                        "data": chunk,
                        "last_page": last,
                        "per_page": self.per_page,
                        "total": len(episodes),
                        "next_page_url": f"{path}?page={page + 1}" if page < last else None,
                    },
                }
            )
        return json_response({"success": True, "data": episodes})

    def _episode(self, episode: Episode) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": int(episode.episode_id) if episode.episode_id.isdigit() else episode.episode_id,
            "podcast_id": int(episode.show_id) if episode.show_id.isdigit() else episode.show_id,
            "post_title": episode.title,
            "created_at": episode.published_at.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "post_date": episode.published_at.strftime("%Y-%m-%d %H:%M:%S"),
            "youtube_id": None,
            "episode_number": episode.number,
        }
        return renamed(record, self.episode_renames)
