"""Spotify for Creators (formerly Anchor): daily plays per episode from the dashboard's CSV export.

Facts (docs/user/connectors/spotify.md): Spotify for Creators has no public analytics API (only
unofficial clients of the dashboard's private APIs, which this connector does not use); the Web
API gives the catalogue only. The dashboard exports CSV, whose exact columns are not published,
so the tenant drops exports in the export folder (``connectors/framework/exports.py``) and this
connector accepts the plausible headers:

* date: ``Date`` / ``Day``, as ``YYYY-MM-DD`` or ``MM/DD/YYYY``;
* episode: ``Episode`` / ``Episode name`` / ``Episode title``, and an optional id column
  ``Episode ID`` / ``Episode URI`` (``spotify:episode:<id>`` or an ``open.spotify.com/episode/``
  link are read as ``<id>``); a file needs at least one of the two;
* count: ``Plays`` / ``Streams`` / ``Starts`` / ``Downloads`` (the first of these the header has,
  or the header named by the setting ``count_column``).

``episode_id`` is the id column when the file has one, otherwise the episode title: matching
Spotify's figures with the catalogue of another host by episode needs the id column or titles that
match that catalogue. The show is the setting ``show_id`` (exports are per show). The
``episodes`` stream is the distinct episodes of all exports with an id column (title and id;
publication time and duration are not in the exports).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import field_validator

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.exports import (
    Column,
    ExportFolder,
    ExportSettings,
    cell,
    check_row,
    count_cell,
    day_cell,
    has,
)
from connectors.framework.records import field_error
from connectors.framework.state import StreamState

EPISODES = Stream("episodes", "episodes", "the episodes named in the exports that carry their id")
DOWNLOADS = Stream(
    "host_downloads_daily",
    "host_downloads_daily",
    "plays per episode and day, from the dashboard's CSV exports",
)
# Episodes are drawn from every export at once: one slice, planned when any file changed.
ALL_EXPORTS = "all-exports"

COUNT_ALIASES = ("Plays", "Streams", "Starts", "Downloads")
_ID = re.compile(r"(?:spotify:episode:|https?://open\.spotify\.com/episode/)([A-Za-z0-9]+)")


class SpotifySettings(ExportSettings):
    # The Spotify show the exports are of (its id, as in spotify:show:<id>); required.
    show_id: str
    # The show's name, for the episodes stream.
    show_name: str | None = None
    # The header of the count column, when it is none of Plays, Streams, Starts, Downloads or
    # when the export has several of them.
    count_column: str | None = None

    @field_validator("show_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


class Spotify(Connector):
    platform = "spotify"
    display_name = "Spotify for Creators"
    settings_model = SpotifySettings
    credentials = ()
    streams = (EPISODES, DOWNLOADS)

    @property
    def exports(self) -> ExportFolder:
        return ExportFolder.of(self)

    @property
    def base_url(self) -> str:
        # No API: where the data comes from is the export folder.
        return str(self.exports.folder)

    def columns(self) -> list[Column]:
        configured = self.settings.count_column  # type: ignore[attr-defined]
        counts = (configured,) if configured else COUNT_ALIASES
        return [
            Column("date", ("Date", "Day")),
            Column("episode", ("Episode", "Episode name", "Episode title"), required=False),
            Column("episode_id", ("Episode ID", "Episode URI"), required=False),
            Column("count", counts),
        ]

    def check(self) -> str:
        # The folder itself is shown as the connector's address (base_url).
        return f"{self.exports.check()} export file(s)"

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        if stream.name == EPISODES.name:
            return self.exports.plan(state, mode, single_slice=ALL_EXPORTS)
        return self.exports.plan(state, mode)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        if stream.name == DOWNLOADS.name:
            yield from self._read(slice_id)
            return
        # The last export (in name order) that names an episode gives its title.
        latest: dict[str, SourceRecord] = {}
        for name in self.exports.files():
            for item in self._read(name):
                if not has(item, "episode_id"):
                    break
                try:
                    check_row(item)
                    episode_id = _episode_id(item)
                except ValueError:
                    continue  # the downloads stream quarantines this row
                latest[episode_id] = item
        for episode_id in sorted(latest):
            item = latest[episode_id]
            yield SourceRecord(item.record, item.url, item.position, {**item.context})

    def _read(self, name: str) -> Iterator[SourceRecord]:
        return self.exports.read(name, self.columns(), one_of=[("episode_id", "episode")])

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        check_row(item)
        show_id = self.settings.show_id  # type: ignore[attr-defined]
        if stream.name == EPISODES.name:
            yield {
                "episode_id": _episode_id(item),
                "show_id": show_id,
                "show_name": self.settings.show_name,  # type: ignore[attr-defined]
                "title": cell(item, "episode", required=False) if has(item, "episode") else None,
                "published_at": None,
                "duration_s": None,
                "file_bytes": None,
                "bitrate_kbps": None,
            }
            return
        episode_id = _episode_id(item) if has(item, "episode_id") else cell(item, "episode")
        yield {
            "platform": self.platform,
            "show_id": show_id,
            "episode_id": episode_id,
            "date": day_cell(item, "date"),
            "downloads": count_cell(item, "count"),
            "reported_at": None,
        }


def _episode_id(item: SourceRecord) -> str:
    """The id in the id column: a bare id, a ``spotify:episode:`` URI or an episode link."""
    raw = cell(item, "episode_id")
    assert raw is not None
    match = _ID.match(raw)
    if match:
        return match[1]
    if raw.lower().startswith("spotify:") or "/" in raw or any(c.isspace() for c in raw):
        raise field_error(item.context["columns"]["episode_id"], f"not an episode id: {raw!r}")
    return raw
