"""Castos: podcasts and episodes from the API, daily downloads from the CSV export.

API facts (public client code only; docs/user/connectors/castos.md):

* base ``https://app.castos.com/api/v2``; the token goes as the query parameter ``?token=``
  (some clients send ``Authorization: Bearer``; this connector sends the query form, which
  ``http.py`` redacts wherever a URL is shown);
* ``GET /podcasts`` -> ``{"success": true, "data": {"podcast_list": {"<id>": "<title>"}}}``, a
  map of id to title (a list of ``{id, title}`` objects is accepted as well);
* ``GET /podcasts/{id}/episodes`` -> episodes with ``id``, ``post_title``, ``created_at``,
  ``post_date``, ``youtube_id``. The wrapping and the paging are not confirmed: a bare list,
  ``{"data": [...]}`` and ``{"data": {"episodes": [...]}}`` are accepted, and Laravel-style
  paging (``current_page``/``last_page``, at the top or under ``data``) is followed with
  ``?page=``;
* a bad token is a 401, or a 200 with ``{"success": false}``: both are a CredentialsError;
* no analytics API is confirmed: downloads come from the CSV export the tenant drops in the
  export folder (``connectors/framework/exports.py``), columns ``Date`` (``YYYY-MM-DD`` or
  ``MM/DD/YYYY``), ``Episode ID`` and/or ``Episode`` (the title), ``Downloads``, and optionally
  ``Podcast ID``. Without a podcast column, an episode's podcast (and, without an id column, its
  id from its title) is looked up in the API catalogue.

``post_date`` (``YYYY-MM-DD HH:MM:SS`` without an offset) is taken as UTC. No rate limit is
documented: the default pacing stays modest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from requests import Response

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import ApiChangedError, ConnectorError, CredentialsError
from connectors.framework.exports import (
    Column,
    ExportFolder,
    ExportSettings,
    cell,
    check_row,
    count_cell,
    day_cell,
    episode_id_of_row,
    has,
)
from connectors.framework.http import ApiClient, Pacing
from connectors.framework.records import field_error, text, timestamp
from connectors.framework.settings import IdList
from connectors.framework.state import StreamState

EPISODES = Stream("episodes", "episodes", "every episode of every podcast of the account")
DOWNLOADS = Stream(
    "host_downloads_daily",
    "host_downloads_daily",
    "downloads per episode and day, from Castos' CSV exports",
)
COLUMNS = (
    Column("date", ("Date", "Day")),
    Column("episode_id", ("Episode ID", "Post ID"), required=False),
    Column("episode", ("Episode", "Episode title", "Episode name", "Title"), required=False),
    Column("podcast_id", ("Podcast ID", "Show ID"), required=False),
    Column("count", ("Downloads", "Total downloads", "Plays", "Listens")),
)
# Paging is not confirmed; a bound keeps a server that always says "more" from looping forever.
MAX_PAGES = 10_000


class CastosSettings(ExportSettings):
    # Podcasts to sync; default every podcast the token sees.
    podcast_ids: IdList | None = None


def _refused(response: Response, url: str) -> None:
    """A 200 ``{"success": false}`` is how Castos may refuse a token: not data, a refusal."""
    if response.status_code >= 400:
        return
    try:
        body = response.json()
    except ValueError:
        return
    if isinstance(body, dict) and body.get("success") is False:
        said = str(body.get("message") or body.get("error") or "")[:120]
        raise CredentialsError(
            f"castos: the token was refused at {url} ({{'success': false}}"
            + (f": {said}" if said else "")
            + "); check the tenant's secret castos_api_token (earshot connectors check)"
        )


class Castos(Connector):
    platform = "castos"
    display_name = "Castos"
    settings_model = CastosSettings
    credentials = ("api_token",)
    streams = (EPISODES, DOWNLOADS)
    default_base_url = "https://app.castos.com/api/v2"
    # Undocumented limit: stay polite.
    default_pacing = Pacing(5, 1.0)

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            # ``?token=`` on every request (the form Castos' own clients use).
            auth=APIKeyAuth("token", self.secrets["api_token"], location="query"),
            check=_refused,
            **self.client_options(),
        )

    @property
    def exports(self) -> ExportFolder:
        return ExportFolder.of(self)

    # -- the catalogue -------------------------------------------------------------------------

    def podcasts(self) -> dict[str, str]:
        """Podcast id -> title, of the podcasts to sync."""
        if not hasattr(self, "_podcasts"):
            page = self.client.get("/podcasts")
            listed = _podcast_list(page.records[0], page.url)
            wanted_ids = self.settings.podcast_ids  # type: ignore[attr-defined]
            if wanted_ids:
                missing = sorted(set(wanted_ids) - set(listed))
                if missing:
                    raise ConnectorError(
                        f"castos: podcast(s) {missing} of podcast_ids are not visible to this "
                        "API token"
                    )
                listed = {k: v for k, v in listed.items() if k in wanted_ids}
            self._podcasts = listed
        return self._podcasts

    def episodes_of(self, podcast_id: str) -> Iterator[tuple[dict[str, Any], str, int]]:
        """Each episode record of a podcast, with the (redacted) URL of its page and position."""
        page_number: int | None = None
        for _ in range(MAX_PAGES):
            params = {"page": page_number} if page_number else None
            page = self.client.get(f"/podcasts/{podcast_id}/episodes", params=params)
            records, next_page = _episodes_page(page.records[0], page.url)
            for position, record in enumerate(records):
                yield record, page.url, position
            if next_page is None:
                return
            page_number = next_page
        raise ApiChangedError(f"castos: more than {MAX_PAGES} pages of episodes of {podcast_id}")

    def catalogue(self) -> dict[str, tuple[str, str | None]]:
        """Episode id -> (podcast id, title), for the downloads export's lookups."""
        if not hasattr(self, "_catalogue"):
            found: dict[str, tuple[str, str | None]] = {}
            for podcast_id in self.podcasts():
                for record, _, _ in self.episodes_of(podcast_id):
                    if isinstance(record, dict) and record.get("id") is not None:
                        title = record.get("post_title")
                        found[str(record["id"])] = (podcast_id, str(title) if title else None)
            self._catalogue = found
        return self._catalogue

    def check(self) -> str:
        return f"{len(self.podcasts())} podcast(s) visible; {self.exports.describe()}"

    # -- streams -------------------------------------------------------------------------------

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        if stream.name == EPISODES.name:
            return Plan(sorted(self.podcasts()), None)
        return self.exports.plan(state, mode)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        if stream.name == EPISODES.name:
            context = {"podcast_id": slice_id, "podcast_title": self.podcasts().get(slice_id)}
            for record, url, position in self.episodes_of(slice_id):
                yield SourceRecord(record, url, position, context)
            return
        yield from self.exports.read(slice_id, COLUMNS, one_of=[("episode_id", "episode")])

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        if stream.name == EPISODES.name:
            record = item.record
            if not isinstance(record, dict):
                raise field_error("episode", f"expected an object, got {type(record).__name__}")
            yield {
                "episode_id": text(record, "id"),
                "show_id": item.context["podcast_id"],
                "show_name": item.context["podcast_title"],
                "title": text(record, "post_title"),
                "published_at": timestamp(record, "post_date", None),
                "duration_s": None,
                "file_bytes": None,
                "bitrate_kbps": None,
            }
            return
        check_row(item)
        day = day_cell(item, "date")
        downloads = count_cell(item, "count")
        episode_id = episode_id_of_row(item, self.catalogue, "Castos catalogue", "Episode ID")
        yield {
            "platform": self.platform,
            "show_id": self._podcast_id(item, episode_id),
            "episode_id": episode_id,
            "date": day,
            "downloads": downloads,
            "reported_at": None,
        }

    def _podcast_id(self, item: SourceRecord, episode_id: str) -> str:
        if has(item, "podcast_id"):
            value = cell(item, "podcast_id", required=False)
            if value:
                return value
        known = self.catalogue().get(episode_id)
        if known is not None:
            return known[0]
        raise field_error(
            "Podcast ID",
            f"episode {episode_id} is in no podcast this token sees and the export has no "
            "Podcast ID for it",
        )


def _podcast_list(body: Any, url: str) -> dict[str, str]:
    data = body.get("data") if isinstance(body, dict) else None
    listed = data.get("podcast_list") if isinstance(data, dict) else None
    if isinstance(listed, dict):
        return {str(k): str(v) for k, v in listed.items()}
    if isinstance(listed, list) and all(isinstance(p, dict) and "id" in p for p in listed):
        return {str(p["id"]): str(p.get("title") or p.get("podcast_title") or "") for p in listed}
    raise ApiChangedError(
        f"castos: {url} should hold data.podcast_list (a map of podcast id to title), got "
        f"{_shape(body)}"
    )


def _episodes_page(body: Any, url: str) -> tuple[list[Any], int | None]:
    """The episodes of one answer and the next page's number (None on the last page)."""
    if isinstance(body, list):
        return body, None
    if not isinstance(body, dict):
        raise ApiChangedError(f"castos: {url} should list episodes, got {_shape(body)}")
    pager: dict[str, Any] = body
    data = body.get("data")
    if isinstance(data, dict):
        if "last_page" in data:
            pager = data
        data = data.get("episodes", data.get("data"))
    if not isinstance(data, list):
        raise ApiChangedError(
            f"castos: {url} should list episodes (a list, data or data.episodes), got "
            f"{_shape(body)}"
        )
    current, last = pager.get("current_page"), pager.get("last_page")
    if isinstance(current, int) and isinstance(last, int) and current < last and data:
        return data, current + 1
    return data, None


def _shape(body: Any) -> str:
    if isinstance(body, dict):
        return "an object with " + (", ".join(sorted(body)[:8]) or "no keys")
    return type(body).__name__
