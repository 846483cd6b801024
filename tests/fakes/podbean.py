"""A fake Podbean API (``/v1/...``) for one podcast, serving a :class:`HostCatalog`.

Faithful to the documented API (developers.podbean.com):

* ``POST /v1/oauth/token`` with HTTP Basic ``client_id:client_secret`` and the form
  ``grant_type=client_credentials`` -> ``{"access_token", "token_type", "expires_in", "scope"}``;
  a wrong client is 401 ``{"error": "invalid_client", ...}``, a missing or other grant 400;
* every other request carries the token as the query (or form) parameter ``access_token``; an
  unknown, revoked or expired token is ``{"error": "invalid_token", "error_description": ...}``
  with status ``invalid_token_status`` (the docs show 400; 401 is as plausible, so both can be
  served);
* a request without a User-Agent is 403. Whether Podbean also refuses library defaults
  (python-requests, curl) is not documented; the fake refuses them, as Buzzsprout does;
* ``GET /v1/podcast`` -> ``{"podcast": {...}}``;
  ``GET /v1/episodes?offset=&limit=`` (default 20, max 100; a larger limit is cut to 100, as the
  docs do not say it is an error) -> ``{"episodes", "offset", "limit", "count", "has_more"}``
  where ``count`` is the number of episodes of the podcast (the docs do not say whether it is
  the page's or the total; a client must not rely on it); episodes newest first, ``id`` like
  ``IWPNG2FB3F``, ``publish_time`` in unix seconds, ``duration`` seconds or null, ``status``
  ``publish`` or ``draft``;
* ``GET /v1/podcastStats/stats?episode_id=&start=&end=&period=d|m`` -> ``{"YYYY-MM-DD": n, ...}``
  for every day of the range, quiet days as 0 (``period=m``: ``{"YYYY-MM": n}``); the docs use
  both ``episode_id=`` and ``episode=``, so both are accepted; no episode: the podcast's total;
  an ``end`` on or after the fake's ``today`` is moved to yesterday;
* throttling: a leaky bucket of 60 drained 2 a second (``LeakyBucket``); what Podbean answers
  over it is not documented ("an error"), so the refusal is configurable: by default 429
  without ``Retry-After``, or 400 ``{"error": "rate_limit_exceeded"}`` (``refusal="400"``).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from tests.fakes.catalog import Episode, HostCatalog, Show, make_catalog
from tests.fakes.server import (
    FakeApi,
    LeakyBucket,
    Request,
    Response,
    basic_credentials,
    error,
    json_response,
    renamed,
)

TOKEN_LIFETIME_S = 604_800  # Podbean's tokens are issued for a week
_ALPHABET = string.ascii_uppercase + string.digits


def podbean_id(seed: int) -> str:
    """A deterministic ten-character id in Podbean's style (``IWPNG2FB3F``)."""
    out = []
    value = seed * 7_919 + 104_729
    for _ in range(10):
        value, digit = divmod(value * 31 + 17, len(_ALPHABET))
        out.append(_ALPHABET[digit])
    return "".join(out)


def podbean_catalog(first_day: date, days: int, episodes: int = 5, seed: int = 7) -> HostCatalog:
    """One podcast (a Podbean token sees one) with Podbean-style ids."""
    base = make_catalog(
        seed=seed, shows=1, episodes_per_show=episodes, first_day=first_day, days=days
    )
    show_id = podbean_id(0)
    ids = {e.episode_id: podbean_id(i + 1) for i, e in enumerate(base.episodes)}
    return HostCatalog(
        shows=[Show(show_id, base.shows[0].title, base.shows[0].timezone)],
        episodes=[
            Episode(ids[e.episode_id], show_id, e.title, e.published_at, e.duration_s, e.number)
            for e in base.episodes
        ],
        downloads={(ids[episode], day): n for (episode, day), n in base.downloads.items()},
    )


def rate_limit_refusal(kind: str = "429") -> Callable[[float], Response]:
    """What the fake answers over the bucket: 429 without Retry-After, or 400."""
    if kind == "429":
        return lambda wait_s: error(429, {"error": "rate_limit_exceeded"})
    if kind == "400":
        return lambda wait_s: error(
            400,
            {"error": "rate_limit_exceeded", "error_description": "Too many requests"},
        )
    raise ValueError(f"refusal must be '429' or '400', not {kind!r}")


class FakePodbean(FakeApi):
    name = "podbean"

    def __init__(
        self,
        catalog: HostCatalog,
        client_id: str = "pb-client-1",
        client_secret: str = "pb-secret-1",
        *,
        invalid_token_status: int = 400,
        today: date | None = None,
    ) -> None:
        super().__init__()
        self.catalog = catalog
        self.client_id = client_id
        self.client_secret = client_secret
        self.invalid_token_status = invalid_token_status
        self.today = today
        self.token_lifetime_s = TOKEN_LIFETIME_S
        self.tokens: dict[str, datetime] = {}
        self.draft_ids: set[str] = set()
        # Field renames a test applies to episodes ({"publish_time": "published_at"}).
        self.episode_renames: dict[str, str] = {}

    # -- switches a test uses ------------------------------------------------------------------

    def leaky_bucket(
        self, capacity: int = 60, drain_per_s: float = 2.0, refusal: str = "429"
    ) -> None:
        """Podbean's documented limit (a bucket of 60 drained 2/s); tests use smaller ones."""
        self.limit = LeakyBucket(capacity, drain_per_s, response=rate_limit_refusal(refusal))

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (as a week-old token would)."""
        past = datetime.now(UTC) - timedelta(seconds=1)
        for token in self.tokens:
            self.tokens[token] = past

    # -- serving -------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        if not request.header("User-Agent") or (request.header("User-Agent") or "").startswith(
            ("python-requests", "curl")
        ):
            return error(403, {"error": "forbidden", "error_description": "User-Agent required"})
        if request.path == "/v1/oauth/token":
            return self._token(request)
        refused = self._refused_token(request)
        if refused is not None:
            return refused
        if request.method != "GET":
            return error(405, {"error": "method_not_allowed"})
        if request.path == "/v1/podcast":
            return json_response({"podcast": self._podcast()})
        if request.path == "/v1/episodes":
            return self._episodes(request)
        if request.path == "/v1/podcastStats/stats":
            return self._stats(request)
        return error(404, {"error": "not_found", "error_description": "Not found"})

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return error(405, {"error": "method_not_allowed"})
        if basic_credentials(request) != (self.client_id, self.client_secret):
            return error(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        grant = request.form().get("grant_type")
        if grant is None:
            return error(
                400, {"error": "invalid_request", "error_description": "grant_type is required"}
            )
        if grant != "client_credentials":
            return error(400, {"error": "unsupported_grant_type", "error_description": grant})
        token = secrets.token_hex(16)
        self.tokens[token] = datetime.now(UTC) + timedelta(seconds=self.token_lifetime_s)
        return json_response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime_s,
                "scope": "podcast_read episode_read",
            }
        )

    def _refused_token(self, request: Request) -> Response | None:
        token = request.query.get("access_token") or request.form().get("access_token")
        if not token or token not in self.tokens:
            description = "The access token provided is invalid"
        elif self.tokens[token] <= datetime.now(UTC):
            description = "The access token provided has expired"
        else:
            return None
        return error(
            self.invalid_token_status,
            {"error": "invalid_token", "error_description": description},
        )

    def _podcast(self) -> dict:
        show = self.catalog.shows[0]
        return {
            "id": show.show_id,
            "title": show.title,
            "desc": f"About {show.title}",
            "logo": f"https://pbcdn1.podbean.com/imglogo/{show.show_id}.jpg",
            "website": f"https://{show.show_id.lower()}.podbean.com",
            "category_name": "Business",
            "allow_episode_type": ["public"],
            "object": "Podcast",
        }

    def _episodes(self, request: Request) -> Response:
        try:
            offset = int(request.query.get("offset", "0"))
            limit = int(request.query.get("limit", "20"))
        except ValueError:
            return error(400, {"error": "input_params_error", "error_description": "offset/limit"})
        if offset < 0 or limit < 1:
            return error(400, {"error": "input_params_error", "error_description": "offset/limit"})
        limit = min(limit, 100)
        episodes = sorted(
            self.catalog.episodes_of(self.catalog.shows[0].show_id),
            key=lambda e: e.published_at,
            reverse=True,
        )
        page = episodes[offset : offset + limit]
        return json_response(
            {
                "episodes": [self._episode(e) for e in page],
                "offset": offset,
                "limit": limit,
                "count": len(episodes),
                "has_more": offset + limit < len(episodes),
            }
        )

    def _episode(self, episode: Episode) -> dict:
        record = {
            "id": episode.episode_id,
            "podcast_id": episode.show_id,
            "title": episode.title,
            "content": f"<p>{episode.title}</p>",
            "logo": None,
            "media_url": f"https://mcdn.podbean.com/mf/web/{episode.episode_id.lower()}.mp3",
            "player_url": f"https://www.podbean.com/player-v2/?i={episode.episode_id.lower()}",
            "permalink_url": f"https://example.podbean.com/e/{episode.episode_id.lower()}/",
            "publish_time": int(episode.published_at.replace(tzinfo=UTC).timestamp()),
            "status": "draft" if episode.episode_id in self.draft_ids else "publish",
            "type": "public",
            "duration": episode.duration_s,
            "episode_number": episode.number,
            "season_number": 1,
            "object": "Episode",
        }
        return renamed(record, self.episode_renames)

    def _stats(self, request: Request) -> Response:
        episode_id = request.query.get("episode_id") or request.query.get("episode")
        period = request.query.get("period", "d")
        try:
            start = date.fromisoformat(request.query.get("start", ""))
            end = date.fromisoformat(request.query.get("end", ""))
        except ValueError:
            return error(
                400,
                {"error": "input_params_error", "error_description": "start and end: YYYY-MM-DD"},
            )
        if period not in ("d", "m"):
            return error(400, {"error": "input_params_error", "error_description": "period"})
        today = self.today or datetime.now(UTC).date()
        end = min(end, today - timedelta(days=1))
        if episode_id is not None:
            if not any(e.episode_id == episode_id for e in self.catalog.episodes):
                return error(
                    400, {"error": "input_params_error", "error_description": "Invalid episode"}
                )
            ids = {episode_id}
        else:
            ids = {e.episode_id for e in self.catalog.episodes}
        totals: dict[str, int] = {}
        day = start
        while day <= end:
            key = day.isoformat() if period == "d" else day.strftime("%Y-%m")
            n = sum(self.catalog.downloads.get((i, day), 0) for i in ids)
            totals[key] = totals.get(key, 0) + n
            day += timedelta(days=1)
        return json_response(totals)
