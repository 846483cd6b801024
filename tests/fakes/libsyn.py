"""A fake Libsyn API (``https://api.libsyn.com``), serving a :class:`HostCatalog`.

Faithful to what the code of Libsyn's own WordPress plugin shows, and explicit where that is not
enough (marked ASSUMED; the connector accepts the other plausible forms as well):

* ``POST /oauth`` with a JSON body. ``grant_type: refresh_token`` with ``client_id``,
  ``client_secret`` and ``refresh_token`` answers ``{access_token, token_type: "Bearer",
  expires_in, scope, refresh_token}``. ASSUMED: with ``rotate`` every refresh issues a new refresh
  token and revokes the one used; without, the same one is echoed (which Libsyn does is not
  confirmed). A wrong client is 401 ``{"error": "invalid_client", ...}``, an unknown or revoked
  refresh token 400 ``{"error": "invalid_grant", ...}``; with ``problem_json`` the errors are
  API-Problem bodies (``{"type", "title": "invalid_grant", "status", "detail"}``), the form a HAL
  API built like Libsyn's gives. No error body ever contains what was sent.
* Every other path needs ``Authorization: Bearer <an access token it issued, not expired>``,
  else 401.
* HAL, data under ``_embedded``: ``GET /user-shows`` -> ``{"_embedded": {"user-shows": [{show_id
  (int), show_title, feed_url, is_premium}]}}``; ``GET /user-shows/{id}`` -> the same key holding
  one object.
* ``GET /post?show_id=&page=`` -> ASSUMED a HAL collection as Apigility renders one:
  ``{"_links", "_embedded": {"posts": [...]}, "page", "page_count", "page_size",
  "total_items"}`` (a ``page_count`` was seen; the collection key, ``posts`` here, is
  ``posts_key``: ``post`` and ``item`` were seen too). A page past the last is empty (or, with
  ``past_last_404``, a 404); ``posts_page_count=False`` leaves the paging fields out. A post:
  ``id`` (int), ``show_id``, ``item_title``, ``item_slug``, ``release_date``
  (``YYYY-MM-DD HH:MM:SS``, UTC), ``duration`` (int seconds), ``last_updated`` (unix seconds).
* ``GET /stats-item-three-month/{item_id}`` -> the wrapper the plugin reads,
  ``{"_embedded": {"stats_item_three_month": {"item_id", "item_three_month": ...}}}``, newest
  first as the plugin's ``array_reverse`` implies. ASSUMED, because the plugin only shows monthly
  totals: per-day entries over the ``STATS_DAYS`` days up to the fake's yesterday, from the
  episode's release on, days without downloads included as 0. ``stats_form``: ``list``
  (``[{"date": "YYYY-MM-DD", "downloads": n}]``), ``map`` (``{"YYYY-MM-DD": n}``) or
  ``monthly`` (``[{"month": "YYYY-MM", "downloads": n}]``, what the plugin reads). ASSUMED paging:
  ``stats_days_per_page`` days a page (``page``, ``page_count``), None for one answer.
* The fake's clock (``today``) defaults to the day after the catalogue's last day with downloads,
  so a catalogue of any dates lies inside the three-month window.

The dashboard's downloads exports (``downloads_from: export``) are files, not requests: they are
written by ``libsyn_csv`` in ``tests/fakes/exports.py``.
"""

from __future__ import annotations

import calendar
import re
import secrets
import time
from collections import defaultdict
from datetime import date, timedelta
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

STATS_DAYS = 90
PROBLEM_TYPE = "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"


class FakeLibsyn(FakeApi):
    name = "libsyn"

    def __init__(
        self,
        catalog: HostCatalog,
        client_id: str = "libsyn-client-1",
        client_secret: str = "libsyn-secret-1",
        refresh_token: str = "libsyn-refresh-1",
        *,
        rotate: bool = False,
        problem_json: bool = False,
        posts_per_page: int = 3,
        posts_key: str = "posts",
        posts_page_count: bool = True,
        past_last_404: bool = False,
        stats_form: str = "list",
        stats_days_per_page: int | None = 7,
        access_ttl_s: float = 3600.0,
        today: date | None = None,
    ) -> None:
        super().__init__()
        self.catalog = catalog
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_tokens = {refresh_token}
        self.rotate = rotate
        self.problem_json = problem_json
        self.posts_per_page = posts_per_page
        self.posts_key = posts_key
        self.posts_page_count = posts_page_count
        self.past_last_404 = past_last_404
        self.stats_form = stats_form
        self.stats_days_per_page = stats_days_per_page
        self.access_ttl_s = access_ttl_s
        self.today = today
        # access token -> time.monotonic() at which it expires
        self.access_tokens: dict[str, float] = {}
        # Field renames a test applies to posts ({"id": "post_id"}).
        self.episode_renames: dict[str, str] = {}
        self.refreshes = 0

    # -- routing -------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        if request.path == "/oauth":
            if request.method != "POST":
                return self._problem(405, "Method Not Allowed", "POST only")
            return self._token(request)
        token = bearer_token(request) or ""
        expires = self.access_tokens.get(token)
        if expires is None or time.monotonic() >= expires:
            return self._problem(401, "Unauthorized", "Invalid or expired access token")
        path = request.path
        if path == "/user-shows":
            shows = [self._show(s.show_id) for s in self.catalog.shows]
            return json_response({"_links": self._self(path), "_embedded": {"user-shows": shows}})
        match = re.fullmatch(r"/user-shows/(\d+)", path)
        if match and self._has_show(match[1]):
            return json_response(
                {"_links": self._self(path), "_embedded": {"user-shows": self._show(match[1])}}
            )
        if path == "/post":
            return self._posts(request)
        match = re.fullmatch(r"/stats-item-three-month/(\d+)", path)
        if match and any(e.episode_id == match[1] for e in self.catalog.episodes):
            return self._stats(request, self.catalog.episode(match[1]))
        return self._problem(404, "Not Found", "Entity not found.")

    # -- OAuth ---------------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._oauth_error(400, "invalid_request", "The request body must be JSON")
        if body.get("grant_type") != "refresh_token":
            return self._oauth_error(
                400, "unsupported_grant_type", "Grant type not supported by this fake"
            )
        if body.get("client_id") != self.client_id or body.get("client_secret") != (
            self.client_secret
        ):
            return self._oauth_error(401, "invalid_client", "The client credentials are invalid")
        used = body.get("refresh_token")
        if used not in self.refresh_tokens:
            return self._oauth_error(400, "invalid_grant", "Invalid refresh token")
        self.refreshes += 1
        if self.rotate:
            self.refresh_tokens.discard(used)
            used = "rt-" + secrets.token_hex(12)
            self.refresh_tokens.add(used)
        access = "at-" + secrets.token_hex(16)
        self.access_tokens[access] = time.monotonic() + self.access_ttl_s
        return json_response(
            {
                "access_token": access,
                "expires_in": int(self.access_ttl_s),
                "token_type": "Bearer",
                "scope": None,
                "refresh_token": used,
            }
        )

    def current_refresh_token(self) -> str:
        return next(iter(self.refresh_tokens))

    def _oauth_error(self, status: int, code: str, description: str) -> Response:
        if self.problem_json:
            return self._problem(status, code, description)
        return error(status, {"error": code, "error_description": description})

    def _problem(self, status: int, title: str, detail: str) -> Response:
        response = error(
            status, {"type": PROBLEM_TYPE, "title": title, "status": status, "detail": detail}
        )
        response.content_type = "application/problem+json"
        return response

    # -- shows and posts -----------------------------------------------------------------------

    def _has_show(self, show_id: str) -> bool:
        return any(s.show_id == show_id for s in self.catalog.shows)

    def _show(self, show_id: str) -> dict[str, Any]:
        show = self.catalog.show(show_id)
        return {
            "show_id": int(show.show_id),
            "show_title": show.title,
            "show_slug": show.title.lower().replace(" ", ""),
            "feed_url": f"https://feeds.libsyn.com/{show.show_id}/rss",
            "is_premium": False,
        }

    def _self(self, path: str, **query: Any) -> dict[str, Any]:
        suffix = ("?" + "&".join(f"{k}={v}" for k, v in query.items())) if query else ""
        return {"self": {"href": f"https://api.libsyn.com{path}{suffix}"}}

    def _posts(self, request: Request) -> Response:
        show_id = request.query.get("show_id", "")
        if not show_id:
            return self._problem(400, "Bad Request", "show_id is required")
        if not self._has_show(show_id):
            return self._problem(404, "Not Found", "Show not found.")
        page = _page_number(request)
        if page is None:
            return self._problem(400, "Bad Request", "page must be a positive whole number")
        episodes = self.catalog.episodes_of(show_id)
        size = self.posts_per_page
        page_count = max(1, -(-len(episodes) // size))
        if page > page_count and self.past_last_404:
            return self._problem(404, "Not Found", "Page not found.")
        chosen = episodes[(page - 1) * size : page * size]
        links = self._self("/post", show_id=show_id, page=page)
        if page < page_count:
            links["next"] = {
                "href": f"https://api.libsyn.com/post?show_id={show_id}&page={page + 1}"
            }
        body: dict[str, Any] = {
            "_links": links,
            "_embedded": {self.posts_key: [self._post(e) for e in chosen]},
        }
        if self.posts_page_count:
            body.update(page_count=page_count, page_size=size, total_items=len(episodes), page=page)
        return json_response(body)

    def _post(self, episode: Episode) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": int(episode.episode_id),
            "show_id": int(episode.show_id),
            "item_title": episode.title,
            "item_subtitle": "",
            "item_slug": episode.title.lower().replace(" ", "-"),
            "release_date": episode.published_at.strftime("%Y-%m-%d %H:%M:%S"),
            "duration": episode.duration_s,
            "last_updated": calendar.timegm(episode.published_at.timetuple()),
            "primary_content": {
                "content_id": int(episode.episode_id) * 10,
                "url": f"https://traffic.libsyn.com/show{episode.show_id}/{episode.episode_id}.mp3",
            },
        }
        return renamed(record, self.episode_renames)

    # -- statistics ----------------------------------------------------------------------------

    def clock(self) -> date:
        if self.today is not None:
            return self.today
        days = [d for (_, d), n in self.catalog.downloads.items() if n > 0]
        return max(days) + timedelta(days=1) if days else date.today()

    def _stats(self, request: Request, episode: Episode) -> Response:
        page = _page_number(request)
        if page is None:
            return self._problem(400, "Bad Request", "page must be a positive whole number")
        yesterday = self.clock() - timedelta(days=1)
        first = max(yesterday - timedelta(days=STATS_DAYS - 1), episode.published_at.date())
        counts = self.catalog.episode_days(episode.episode_id, first, yesterday)
        days = [yesterday - timedelta(days=i) for i in range((yesterday - first).days + 1)]
        envelope: dict[str, Any] = {"_links": self._self(request.path)}
        if self.stats_form == "monthly":
            months: dict[str, int] = defaultdict(int)
            for day in days:
                months[day.strftime("%Y-%m")] += counts.get(day, 0)
            series: Any = [{"month": m, "downloads": n} for m, n in months.items()]
        else:
            if self.stats_days_per_page is None:
                # Unpaged: like a server that does not know ``page``, the whole series each time.
                size, page, page_count = max(1, len(days)), 1, 1
            else:
                size = self.stats_days_per_page
                page_count = max(1, -(-len(days) // size))
            chosen = days[(page - 1) * size : page * size]
            if self.stats_form == "map":
                series = {d.isoformat(): counts.get(d, 0) for d in chosen}
            else:
                series = [{"date": d.isoformat(), "downloads": counts.get(d, 0)} for d in chosen]
            if self.stats_days_per_page is not None:
                envelope.update(page=page, page_count=page_count, page_size=size)
        envelope["_embedded"] = {
            "stats_item_three_month": {
                "item_id": int(episode.episode_id),
                "item_three_month": series,
            }
        }
        return json_response(envelope)


def _page_number(request: Request) -> int | None:
    raw = request.query.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        return None
    return int(raw)
