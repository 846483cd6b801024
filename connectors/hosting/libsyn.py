"""Libsyn: shows, episodes and each episode's downloads per day, from the three-month statistics
or from the dashboard's CSV exports (setting ``downloads_from``).

API facts (from the code of Libsyn's own WordPress plugin; docs/user/connectors/libsyn.md):

* Base ``https://api.libsyn.com``. OAuth2 authorization code: a tenant stores the application's
  client id and secret and a refresh token obtained once. ``POST /oauth`` with the JSON body
  ``{grant_type: "refresh_token", refresh_token, client_id, client_secret}`` answers
  ``{access_token, refresh_token, expires_in}``; requests then carry ``Authorization: Bearer``.
  Whether the refresh token rotates is not confirmed: a new one in the answer is stored back
  (``local`` and ``aws`` secrets backends) so that the next run uses it. A refused refresh is a
  400/401 with ``{"error": "invalid_grant"}`` (or an API-Problem body whose ``title`` is the code).
* Data is HAL, wrapped in ``_embedded``. Shows: ``GET /user-shows`` ->
  ``_embedded["user-shows"]`` with ``show_id`` and ``show_title`` (``shows`` accepted too).
  Episodes: ``GET /post?show_id=`` -> a list under ``_embedded`` (``posts``, ``post``, ``item`` or
  ``items``: which one is not confirmed). Paging is not confirmed (``page``/``page_count`` seen):
  pages are followed while they are not empty and below ``page_count``, and a page that repeats
  the previous one (a server ignoring ``page``) ends the listing.
* Episode fields, both spellings accepted: ``item_id``/``id``, ``item_title``/``title``,
  ``duration``/``item_duration`` (seconds, or ``H:MM:SS``); ``release_date`` as
  ``YYYY-MM-DD HH:MM:SS`` (UTC when it has no offset) or ISO-8601.
* Downloads: ``GET /stats-item-three-month/{item_id}`` covers about the last three months only,
  so a sync never asks for older days (``STATS_WINDOW_DAYS``; it warns when it clamps). The
  plugin reads ``_embedded.stats_item_three_month.item_three_month`` newest first; a per-day
  series there is NOT confirmed (the plugin shows monthly totals). Read defensively: a list of
  ``{date, downloads}`` or a ``{date: count}`` map; monthly totals, or no recognisable daily
  series, is an :class:`ApiChangedError` naming the endpoint. Pages, if any, are followed until
  the series, newest first, has passed the slice's first day. Days with 0 downloads do not land.
  Because the daily series is doubtful, ``downloads_from: export`` reads the downloads from the
  dashboard's CSV exports instead, and the monthly-totals error says to set it.
* Exports (``downloads_from: export``; ``connectors/framework/exports.py``): the files the tenant
  drops in ``$EARSHOT_HOME/exports/<tenant>/libsyn/`` (or ``export_dir``) are the stream's slices;
  an incremental sync reads new and changed files only. Libsyn does not publish the export's
  columns, so plausible headers are accepted: the day (``Date``/``Day``, ``YYYY-MM-DD`` or
  ``MM/DD/YYYY``), the episode (``Item ID``/``Episode ID``/``Post ID``/``ID``, and/or its title
  ``Item Title``/``Title``/``Episode Title``/``Episode``) and the count, total downloads only
  (``Downloads``/``Total Downloads``/``Total``). Unique downloads are a different measure from
  every other host's downloads: a file that has only them stops the sync naming the file. Rows
  are matched to the API's episodes by id (or, without an id column, by exact title) and take
  their show from there; rows of shows outside ``show_ids`` are left out.
* No rate limit is documented: paced at 5 requests a second; a 429's Retry-After is honoured.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote

from requests import Response

from connectors.framework.connector import INCREMENTAL, Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import (
    ApiChangedError,
    ConnectorError,
    CredentialsError,
    RecordError,
)
from connectors.framework.exports import (
    Column,
    ExportFolder,
    ExportSettings,
    check_row,
    count_cell,
    day_cell,
    episode_id_of_row,
    header_key,
)
from connectors.framework.http import ApiClient, Pacing, Page, redact_url
from connectors.framework.oauth import BearerTokenAuth, Token, refresh_token_grant
from connectors.framework.records import (
    count,
    field_error,
    get,
    number,
    parse_day,
    timestamp,
)
from connectors.framework.settings import IdList
from connectors.framework.state import StreamState

log = logging.getLogger(__name__)

EPISODES = Stream("episodes", "episodes", "every episode (post) of every show of the account")
DOWNLOADS = Stream(
    "host_downloads_daily",
    "host_downloads_daily",
    "downloads per episode and day, from Libsyn's three-month statistics or its CSV exports",
    per_day=True,
)

TOKEN_PATH = "/oauth"
# Days back from the last complete day that the statistics endpoint is taken to cover.
STATS_WINDOW_DAYS = 90
# A listing longer than this is a server that ignores ``page`` in a way we did not detect.
MAX_PAGES = 1000
DEFAULT_TOKEN_LIFETIME_S = 3600.0

_SHOW_KEYS = ("user-shows", "user_shows", "shows")
_POST_KEYS = ("posts", "post", "items", "item")
_STATS_KEY = "stats_item_three_month"
_SERIES_KEY = "item_three_month"
_DAY_KEYS = ("date", "day")
_COUNT_KEYS = ("downloads", "total_downloads")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\d{4}-\d{2}")

API = "api"
EXPORT = "export"
# The columns of Libsyn's downloads export, which Libsyn does not publish: plausible headers, in
# order of preference. Only total downloads count: uniques are another measure (see UNIQUES).
EXPORT_COLUMNS = (
    Column("date", ("Date", "Day")),
    Column("episode_id", ("Item ID", "Episode ID", "Post ID", "ID"), required=False),
    Column("episode", ("Item Title", "Title", "Episode Title", "Episode"), required=False),
    Column("count", ("Downloads", "Total Downloads", "Total")),
)
UNIQUES = ("Unique Downloads", "Uniques", "Unique Listeners")


class LibsynSettings(ExportSettings):
    # Shows to sync (Libsyn show ids); default every show the account sees.
    show_ids: IdList | None = None
    # Where host_downloads_daily comes from: the statistics API, or the dashboard's CSV
    # exports in the export folder (when the API answers monthly totals only).
    downloads_from: Literal["api", "export"] = API


def _never(response: Response) -> bool:
    return False


class Libsyn(Connector):
    platform = "libsyn"
    display_name = "Libsyn"
    settings_model = LibsynSettings
    credentials = ("client_id", "client_secret", "refresh_token")
    streams = (EPISODES, DOWNLOADS)
    default_base_url = "https://api.libsyn.com"
    # Undocumented limit: stay polite.
    default_pacing = Pacing(5, 1.0)

    clock: Callable[[], float] = staticmethod(time.monotonic)

    def build_client(self) -> ApiClient:
        return ApiClient(
            self.platform,
            self.base_url,
            # Renewed when Libsyn's expires_in runs out; a refused token is not renewed again
            # within the request (it never was: it ends the sync as refused credentials).
            auth=BearerTokenAuth(self._fetch_token, is_expired=_never, clock=self._now),
            **self.client_options(),
        )

    # -- OAuth2 --------------------------------------------------------------------------------

    def _now(self) -> float:
        # Looked up at each call: a test may set ``clock`` after the client was built.
        return self.clock()

    def _fetch_token(self) -> Token:
        """A new access token from the stored refresh token, keeping a rotated refresh token."""
        refresh_token = self.secrets["refresh_token"]
        try:
            # On the client's paced, retrying session; not through dlt's REST client, which logs
            # request bodies at debug level, and this body is nothing but secrets.
            token = refresh_token_grant(
                self.client.rest.session,
                self.base_url + TOKEN_PATH,
                self.secrets["client_id"],
                self.secrets["client_secret"],
                refresh_token,
                source=self.platform,
                client_auth="body",
                as_json=True,
                clock=self._now,
                hint=(
                    "the refresh token, client id or client secret is wrong or was revoked: "
                    "obtain a new refresh token (docs/user/connectors/libsyn.md) and store it as "
                    f"{self.secret_name('refresh_token', self.settings)}"
                ),
            )
        except CredentialsError as exc:
            # A server may echo what it was sent in its error description.
            message = str(exc)
            for secret in self.secrets.values():
                if secret:
                    message = message.replace(secret, "***")
            raise CredentialsError(message) from None
        if token.expires_at is None:  # no usable expires_in: taken as Libsyn's hour
            token = replace(
                token,
                expires_at=self._now() + DEFAULT_TOKEN_LIFETIME_S,
                lifetime_s=DEFAULT_TOKEN_LIFETIME_S,
            )
        if token.refresh_token and token.refresh_token != refresh_token:
            self._keep_rotated_refresh_token(token.refresh_token)
        return token

    def _keep_rotated_refresh_token(self, value: str) -> None:
        """Libsyn issued a new refresh token: use it from now on and store it for the next run."""
        from warehouse.secrets import (
            InvalidSecret,
            SecretStoreError,
            describe_secret_source,
            put_tenant_secret,
            secrets_backend,
        )

        self.secrets["refresh_token"] = value
        name = self.secret_name("refresh_token", self.settings)
        if secrets_backend() not in ("local", "aws"):
            log.warning(
                "libsyn: Libsyn issued a new refresh token for tenant %s; the %s secrets backend "
                "cannot be written by Earshot, so %s still holds the old one. If Libsyn revoked "
                "it, the next sync fails with invalid_grant: obtain a new refresh token "
                "(docs/user/connectors/libsyn.md). The new value is not logged.",
                self.tenant_id,
                secrets_backend(),
                describe_secret_source(self.tenant_id, name),
            )
            return
        try:
            where = put_tenant_secret(self.tenant_id, name, value.encode(), credential=True)
        except (SecretStoreError, InvalidSecret, OSError) as exc:
            log.error(
                "libsyn: Libsyn issued a new refresh token for tenant %s but storing it failed "
                "(%s); this sync goes on with it, the next one may need a new refresh token "
                "(docs/user/connectors/libsyn.md)",
                self.tenant_id,
                exc,
            )
            return
        log.info("libsyn: stored the refresh token Libsyn issued in %s", where)

    # -- shows and episodes --------------------------------------------------------------------

    def shows(self) -> list[dict[str, Any]]:
        if not hasattr(self, "_shows"):
            page = self.client.get("/user-shows")
            listed = _embedded_list(page.records[0], _SHOW_KEYS, page.url)
            shows = {}
            for show in listed:
                show_id = _show_id(show)
                if show_id is None:
                    raise ApiChangedError(
                        f"libsyn: a show of {page.url} has neither show_id nor id; the API has "
                        "probably changed"
                    )
                shows[show_id] = show
            # Every show the account sees: an export may hold episodes of shows not synced.
            self._all_shows = dict(shows)
            wanted = self.settings.show_ids  # type: ignore[attr-defined]
            if wanted:
                missing = set(wanted) - set(shows)
                if missing:
                    raise ConnectorError(
                        f"libsyn: show(s) {sorted(missing)} of show_ids are not visible to this "
                        "account"
                    )
                shows = {k: v for k, v in shows.items() if k in set(wanted)}
            self._shows = shows
        return list(self._shows.values())

    def show(self, show_id: str) -> dict[str, Any]:
        self.shows()
        if show_id not in self._shows:
            raise ConnectorError(f"libsyn: show {show_id} is no longer visible to this account")
        return self._shows[show_id]

    def episode_pages(self, show_id: str) -> list[tuple[Page, list[Any]]]:
        """Every page of a show's episodes (kept: the downloads plan lists them again)."""
        if not hasattr(self, "_episodes"):
            self._episodes: dict[str, list[tuple[Page, list[Any]]]] = {}
        if show_id not in self._episodes:
            self._episodes[show_id] = list(
                _hal_pages(
                    self.client,
                    "/post",
                    {"show_id": show_id},
                    lambda body, url: _embedded_list(body, _POST_KEYS, url),
                )
            )
        return self._episodes[show_id]

    # -- the export folder ----------------------------------------------------------------------

    @property
    def from_exports(self) -> bool:
        return self.settings.downloads_from == EXPORT  # type: ignore[attr-defined]

    @property
    def exports(self) -> ExportFolder:
        return ExportFolder.of(self)

    def catalogue(self) -> dict[str, tuple[str, str | None]]:
        """Episode id -> (show id, title) of every show the account sees, for matching the rows
        of an export (which may cover shows that ``show_ids`` leaves out)."""
        if not hasattr(self, "_catalogue"):
            self.shows()
            found: dict[str, tuple[str, str | None]] = {}
            for show_id in self._all_shows:
                for _, records in self.episode_pages(show_id):
                    for record in records:
                        try:
                            episode_id = _episode_id(record)
                            title = _first_text(record, ("item_title", "title"))
                        except RecordError:
                            continue  # quarantined by the episodes stream, with its reason
                        found[episode_id] = (show_id, title)
            self._catalogue = found
        return self._catalogue

    def check(self) -> str:
        visible = f"{len(self.shows())} show(s) visible"
        if self.from_exports:
            return f"{visible}; {self.exports.describe()}"
        return visible

    # -- streams -------------------------------------------------------------------------------

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        if stream.name == EPISODES.name:
            self.shows()
            return Plan(list(self._shows), None)
        if self.from_exports:
            return self.exports.plan(state, mode)
        if state.cursor and not _is_day(state.cursor):
            # The cursor of export files (downloads_from was export): no day reached yet.
            state = replace(state, cursor=None)
        first, last = self.day_range(state, mode)
        if mode == INCREMENTAL and state.cursor and last <= date.fromisoformat(state.cursor):
            # No day has completed since the last sync. Libsyn answers per episode, not per day:
            # asking again would cost a request per episode to land again what just landed; the
            # look-back of the next day's sync takes any revision.
            return Plan([], state.cursor)
        earliest = self.last_complete_day() - timedelta(days=STATS_WINDOW_DAYS - 1)
        notes: tuple[str, ...] = ()
        if first < earliest:
            note = (
                f"Libsyn's statistics cover about the last three months, so this {mode} sync "
                f"of downloads asks from {earliest}, not from {first}; the days before are not "
                "synced (import them from Libsyn's CSV export: docs/user/file-import.md, or "
                "read every day from the exports with downloads_from: export)"
            )
            log.warning("libsyn: tenant %s: %s", self.tenant_id, note)
            notes = (note,)
            first = earliest
        if first > last:
            return Plan([], state.cursor)
        slices: dict[str, None] = {}
        self.shows()
        for show_id in self._shows:
            for _, records in self.episode_pages(show_id):
                for record in records:
                    try:
                        item_id = _episode_id(record)
                    except RecordError:
                        continue  # quarantined by the episodes stream, with its reason
                    try:
                        released = timestamp(record, "release_date", None)
                    except RecordError:
                        released = None  # unknown: ask anyway
                    if released is not None and released.date() > last:
                        continue  # not out yet in the range: no downloads to ask for
                    slices[_slice(show_id, item_id, first, last)] = None
        # One slice per episode over the same range, kept in the run: a resumed sync asks what
        # the interrupted one planned.
        return Plan(list(slices), last.isoformat(), notes)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        if stream.name == EPISODES.name:
            show = self.show(slice_id)
            for page, records in self.episode_pages(slice_id):
                for position, record in enumerate(records):
                    yield SourceRecord(record, page.url, position, {"show": show})
            return
        if _is_api_slice(slice_id) == self.from_exports:
            # A run planned before downloads_from changed: its slices are of the other source.
            planned = API if self.from_exports else EXPORT
            raise ConnectorError(
                f"libsyn: the interrupted sync of {stream.name} was planned with downloads_from: "
                f"{planned}; run it again as earshot connectors sync --tenant {self.tenant_id} "
                "--platform libsyn --restart to plan it from downloads_from: "
                f"{self.settings.downloads_from}"  # type: ignore[attr-defined]
            )
        if self.from_exports:
            yield from self._read_export(slice_id)
            return
        show_id, item_id, first, last = _parse_slice(slice_id)
        context = {"show_id": show_id, "episode_id": item_id}
        path = f"/stats-item-three-month/{quote(item_id, safe='')}"
        for page, series in _hal_pages(self.client, path, {}, _daily_series, stop_before=first):
            for position, entry in enumerate(series):
                try:
                    day = _entry_day(entry)
                except RecordError:
                    day = None  # rows() quarantines it with the reason
                if day is not None and not first <= day <= last:
                    continue
                yield SourceRecord(entry, page.url, position, context)

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        record = item.record
        if stream.name == EPISODES.name:
            show = item.context["show"]
            yield {
                "episode_id": _episode_id(record),
                "show_id": _show_id(show),
                "show_name": _first_text(show, ("show_title", "title")),
                "title": _first_text(record, ("item_title", "title")),
                "published_at": timestamp(record, "release_date", None),
                "duration_s": _duration(record),
                "file_bytes": None,
                "bitrate_kbps": None,
            }
            return
        if item.context.get("columns") is not None:
            yield from self._export_rows(item)
            return
        day = _entry_day(record)
        downloads = _entry_count(record)
        if downloads == 0:
            return  # a quiet day is no row, as with every other host
        yield {
            "platform": self.platform,
            "show_id": item.context["show_id"],
            "episode_id": item.context["episode_id"],
            "date": day,
            "downloads": downloads,
            "reported_at": None,
        }

    # -- exports -------------------------------------------------------------------------------

    def _read_export(self, name: str) -> Iterator[SourceRecord]:
        uniques = _uniques_only(self.exports.folder / name)
        if uniques is not None:
            # Said apart from the generic missing column: taking uniques for downloads would be
            # the easy, wrong fix.
            raise ApiChangedError(
                f"libsyn: export {name} counts {uniques!r} but has no total downloads column "
                "('Downloads' or 'Total Downloads'). Unique downloads are not the downloads every "
                "other host reports, so Earshot does not land them as downloads; export "
                "Libsyn's downloads report with total downloads. Nothing of this file landed"
            )
        yield from self.exports.read(name, EXPORT_COLUMNS, one_of=[("episode_id", "episode")])

    def _export_rows(self, item: SourceRecord) -> Iterator[dict[str, Any]]:
        check_row(item)
        day = day_cell(item, "date")
        downloads = count_cell(item, "count")
        episode_id = episode_id_of_row(item, self.catalogue, "Libsyn account", "Item ID")
        known = self.catalogue().get(episode_id)
        if known is None:
            raise field_error(
                item.context["columns"].get("episode_id", "episode"),
                f"episode {episode_id} is in no show this Libsyn account sees",
            )
        show_id = known[0]
        if show_id not in self._shows or downloads == 0:
            # Another show than show_ids names: not synced. A quiet day is no row, as from the
            # API.
            return
        yield {
            "platform": self.platform,
            "show_id": show_id,
            "episode_id": episode_id,
            "date": day,
            "downloads": downloads,
            "reported_at": None,
        }


# -- paging --------------------------------------------------------------------------------------


def _hal_pages(
    client: ApiClient,
    path: str,
    params: dict[str, Any],
    select: Callable[[Any, str], list[Any]],
    stop_before: date | None = None,
) -> Iterator[tuple[Page, list[Any]]]:
    """The pages of a HAL listing: ``page`` from 2 on, until an empty or not-found page,
    ``page_count``, a repeated page or (``stop_before``) a newest-first series that reached that
    day."""
    previous: str | None = None
    for number_ in range(1, MAX_PAGES + 1):
        query = dict(params)
        if number_ > 1:
            query["page"] = number_
        if number_ == 1:
            page = client.get(path, params=query or None)
        else:
            response = client.rest.get(path, params=query)
            if response.status_code == 404:
                return  # a server that answers a page past the last as not found
            url = redact_url(response.url)
            client.raise_for_problem(response, url)
            page = Page([client.parse(response, url)], url, response)
        body = page.records[0]
        records = select(body, page.url)
        fingerprint = json.dumps(records, sort_keys=True, default=str)
        if not records or fingerprint == previous:
            return
        yield page, records
        previous = fingerprint
        page_count = body.get("page_count") if isinstance(body, dict) else None
        known = isinstance(page_count, int | str) and str(page_count).isdigit()
        if known and number_ >= int(str(page_count)):
            return
        if stop_before is not None and _passed(records, stop_before):
            return
    raise ConnectorError(f"libsyn: {path} has more than {MAX_PAGES} pages; stopped")


def _passed(series: list[Any], first: date) -> bool:
    """Whether a newest-first page of a daily series reaches ``first``: later pages are then
    older still."""
    days = []
    for entry in series:
        try:
            days.append(_entry_day(entry))
        except RecordError:
            continue
    newest_first = all(a >= b for a, b in zip(days, days[1:], strict=False))
    return bool(days) and newest_first and days[-1] <= first


# -- shapes --------------------------------------------------------------------------------------


def _embedded(body: Any, url: str) -> dict[str, Any]:
    embedded = body.get("_embedded") if isinstance(body, dict) else None
    if not isinstance(embedded, dict):
        raise ApiChangedError(
            f"libsyn: {url} answered without an _embedded object; the API has probably changed"
        )
    return embedded


def _embedded_list(body: Any, keys: tuple[str, ...], url: str) -> list[Any]:
    """The records under ``_embedded``: the first of ``keys`` present (a single object counts as
    a list of one), else the only list there is."""
    embedded = _embedded(body, url)
    for key in keys:
        if key in embedded:
            value = embedded[key]
            if isinstance(value, dict):
                return [value]
            if isinstance(value, list):
                return value
            raise ApiChangedError(
                f"libsyn: {url}: _embedded.{key} should be a list, got {type(value).__name__}"
            )
    lists = [v for v in embedded.values() if isinstance(v, list)]
    if len(lists) == 1:
        return lists[0]
    raise ApiChangedError(
        f"libsyn: {url}: _embedded has none of {', '.join(keys)} (it has "
        f"{', '.join(sorted(embedded)) or 'nothing'}); the API has probably changed"
    )


def _daily_series(body: Any, url: str) -> list[Any]:
    """The per-day entries of a statistics answer, as the source sent them: ``{date, downloads}``
    objects, or one-day ``{date: count}`` objects cut from a map."""
    embedded = _embedded(body, url)
    series = _find_series(embedded.get(_STATS_KEY, embedded), url, depth=0)
    if series is None:
        raise ApiChangedError(
            f"libsyn: {url} has no daily series of downloads (looked for a list of "
            f"{{date, downloads}} or a {{date: count}} map under _embedded.{_STATS_KEY}."
            f"{_SERIES_KEY}); the API has changed or does not give per-day figures. "
            f"{_USE_EXPORTS}"
        )
    return series


def _find_series(node: Any, url: str, depth: int) -> list[Any] | None:
    if isinstance(node, list):
        if node and all(isinstance(e, dict) for e in node):
            if all(any(k in e for k in _DAY_KEYS) for e in node):
                return node
            if all("month" in e for e in node):
                raise _monthly(url)
        return None
    if not isinstance(node, dict):
        return None
    if node and all(isinstance(k, str) and _DAY.fullmatch(k) for k in node):
        return [{k: v} for k, v in node.items()]
    if node and all(isinstance(k, str) and _MONTH.fullmatch(k) for k in node):
        raise _monthly(url)
    if _SERIES_KEY in node:
        inner = node[_SERIES_KEY]
        if inner in ([], {}):
            return []  # an episode without downloads in the window
        found = _find_series(inner, url, depth + 1)
        if found is not None:
            return found
    if depth >= 3:
        return None
    for key, value in node.items():
        if key != _SERIES_KEY and isinstance(value, dict | list):
            found = _find_series(value, url, depth + 1)
            if found is not None:
                return found
    return None


def _monthly(url: str) -> ApiChangedError:
    return ApiChangedError(
        f"libsyn: {url} answered monthly totals, not downloads per day; daily figures cannot be "
        f"had from this endpoint. {_USE_EXPORTS}"
    )


_USE_EXPORTS = (
    "Read them from Libsyn's CSV exports instead: set downloads_from: export in the tenant's "
    "libsyn settings and drop the dashboard's downloads exports in "
    "$EARSHOT_HOME/exports/<tenant>/libsyn/ (or export_dir); see docs/user/connectors/libsyn.md"
)


# -- fields --------------------------------------------------------------------------------------


def _first(record: Any, names: tuple[str, ...], required: bool) -> Any:
    for name in names:
        value = get(record, name, None)
        if value is not None:
            return value
    if required:
        raise field_error(names[0], f"missing (nor {', '.join(names[1:])})")
    return None


def _first_text(record: Any, names: tuple[str, ...], required: bool = False) -> str | None:
    value = _first(record, names, required)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise field_error(names[0], f"expected text, got {type(value).__name__}")
    return str(value)


def _episode_id(record: Any) -> str:
    value = _first_text(record, ("item_id", "id"), required=True)
    assert value is not None
    return value


def _show_id(show: Any) -> str | None:
    try:
        return _first_text(show, ("show_id", "id"))
    except RecordError:
        return None


def _duration(record: Any) -> float | None:
    """Seconds, from a number or an ``H:MM:SS`` / ``MM:SS`` text."""
    for name in ("duration", "item_duration"):
        value = get(record, name, None)
        if value is None or value == "":
            continue
        if isinstance(value, str) and ":" in value:
            parts = value.strip().split(":")
            if len(parts) > 3 or not all(p.strip().isdigit() for p in parts):
                raise field_error(name, f"not seconds or H:MM:SS: {value!r}")
            seconds = 0
            for part in parts:
                seconds = seconds * 60 + int(part)
            return float(seconds)
        return number(record, name)
    return None


def _entry_day(entry: Any) -> date:
    if not isinstance(entry, dict):
        raise field_error("date", f"expected an object, got {type(entry).__name__}")
    for key in _DAY_KEYS:
        if key in entry:
            return parse_day(entry[key], key)
    if len(entry) == 1:
        key = next(iter(entry))
        return parse_day(key, "date")
    raise field_error("date", "missing")


def _entry_count(entry: dict[str, Any]) -> int:
    if any(key in entry for key in _DAY_KEYS):
        for key in _COUNT_KEYS:
            if key in entry:
                return count(entry, key)
        raise field_error("downloads", "missing")
    # one day of a {date: count} map
    value = next(iter(entry.values()))
    return count({"downloads": value}, "downloads")


# -- slices --------------------------------------------------------------------------------------


def _slice(show_id: str, item_id: str, first: date, last: date) -> str:
    return "/".join([quote(show_id, safe=""), quote(item_id, safe=""), str(first), str(last)])


def _parse_slice(slice_id: str) -> tuple[str, str, date, date]:
    show, item, first, last = slice_id.split("/")
    return unquote(show), unquote(item), date.fromisoformat(first), date.fromisoformat(last)


def _is_api_slice(slice_id: str) -> bool:
    # An export slice is a file name, which has no slash; an API slice has three.
    return slice_id.count("/") == 3


def _is_day(cursor: str) -> bool:
    try:
        date.fromisoformat(cursor)
    except ValueError:
        return False
    return True


def _uniques_only(path: Path) -> str | None:
    """The unique-downloads header cell of an export that has no total downloads column."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next((row for row in csv.reader(handle) if any(c.strip() for c in row)), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return None  # ExportFolder.read says what is wrong with the file
    keys = {header_key(title): title for title in reversed(header)}
    totals = next(c for c in EXPORT_COLUMNS if c.name == "count").aliases
    if any(header_key(alias) in keys for alias in totals):
        return None
    return next((keys[k] for k in map(header_key, UNIQUES) if k in keys), None)
