"""Export files as Spotify for Creators, Castos and Libsyn dashboards write them, from a
HostCatalog.

No platform publishes its export's columns, so the writers take the headers as parameters
(defaults: the plausible ones the connectors document) and write what a dashboard download looks
like: a UTF-8 byte-order mark (Spotify), CRLF line ends, titles quoted when they hold a comma or
a quote, one row per episode and day with downloads (a day without any has no row), dates as
``YYYY-MM-DD`` or the US ``MM/DD/YYYY``. Also here: a tenant configured to read export folders
(settings file, environment, landing zone), for the tests of export-reading connectors.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.framework.connector import FULL
from connectors.framework.runtime import build_connector
from connectors.framework.sync import SyncReport, sync_connector
from tests.fakes.catalog import HostCatalog
from warehouse.landing import LandingZone
from warehouse.secrets import clear_cache, env_variable

SPOTIFY_HEADER = ("Date", "Episode", "Episode URI", "Plays")
CASTOS_HEADER = ("Date", "Episode ID", "Episode", "Downloads")
# Header names a Castos export may use -> what the column holds.
_CASTOS_NAMES = {
    "date": "date",
    "day": "date",
    "episodeid": "episodeid",
    "episode": "episode",
    "episodetitle": "episode",
    "downloads": "downloads",
    "totaldownloads": "downloads",
    "podcastid": "podcastid",
}


def _csv(header: Sequence[str], rows: list[list[Any]], bom: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "") + out.getvalue()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def spotify_csv(
    catalog: HostCatalog,
    show_id: str,
    first: date,
    last: date,
    *,
    header: Sequence[str] = SPOTIFY_HEADER,
    date_format: str = "%Y-%m-%d",
    id_form: str = "uri",
) -> str:
    """One Spotify export of a show: ``header`` names date, episode[, id], count in that order
    (a header of three cells has no id column). ``id_form``: ``uri`` (spotify:episode:<id>),
    ``bare`` or ``link`` (https://open.spotify.com/episode/<id>?si=...)."""
    with_id = len(header) == 4
    rows = []
    for day in _days(first, last):
        for episode in catalog.episodes_of(show_id):
            n = catalog.downloads.get((episode.episode_id, day), 0)
            if n <= 0:
                continue
            row: list[Any] = [day.strftime(date_format), episode.title]
            if with_id:
                row.append(
                    {
                        "uri": f"spotify:episode:{episode.episode_id}",
                        "bare": episode.episode_id,
                        "link": f"https://open.spotify.com/episode/{episode.episode_id}?si=ab12",
                    }[id_form]
                )
            row.append(n)
            rows.append(row)
    return _csv(header, rows, bom=True)


def castos_csv(
    catalog: HostCatalog,
    show_ids: Sequence[str],
    first: date,
    last: date,
    *,
    header: Sequence[str] = CASTOS_HEADER,
    date_format: str = "%Y-%m-%d",
) -> str:
    """One Castos downloads export of ``show_ids``; columns are picked by ``header``'s names:
    Date (or Day), Episode ID, Episode (or Episode title), Downloads (or Total downloads) and
    optionally Podcast ID, in any order."""
    rows = []
    for day in _days(first, last):
        for show_id in show_ids:
            for episode in catalog.episodes_of(show_id):
                n = catalog.downloads.get((episode.episode_id, day), 0)
                if n <= 0:
                    continue
                values = {
                    "date": day.strftime(date_format),
                    "episodeid": episode.episode_id,
                    "episode": episode.title,
                    "downloads": n,
                    "podcastid": show_id,
                }
                rows.append([values[_CASTOS_NAMES[h.replace(" ", "").lower()]] for h in header])
    return _csv(header, rows, bom=False)


LIBSYN_HEADER = ("Date", "Item ID", "Item Title", "Downloads")
# Header names a Libsyn export may use -> what the column holds.
_LIBSYN_NAMES = {
    "date": "date",
    "day": "date",
    "itemid": "id",
    "episodeid": "id",
    "postid": "id",
    "id": "id",
    "itemtitle": "title",
    "title": "title",
    "episodetitle": "title",
    "episode": "title",
    "downloads": "downloads",
    "totaldownloads": "downloads",
    "total": "downloads",
    "uniquedownloads": "uniques",
    "showid": "showid",
}


def libsyn_uniques(downloads: int) -> int:
    """The unique downloads the fake's exports give beside ``downloads`` (always fewer)."""
    return max(1, downloads // 2)


def libsyn_csv(
    catalog: HostCatalog,
    show_ids: Sequence[str],
    first: date,
    last: date,
    *,
    header: Sequence[str] = LIBSYN_HEADER,
    date_format: str = "%Y-%m-%d",
) -> str:
    """One Libsyn downloads export of ``show_ids`` (not published: plausible columns). Columns
    are picked by ``header``'s names in any order: Date (or Day), Item ID (or Episode ID, Post
    ID, ID), Item Title (or Title, Episode Title, Episode), Downloads (or Total Downloads,
    Total), Unique Downloads (``libsyn_uniques`` of the downloads) and Show ID."""
    rows = []
    for day in _days(first, last):
        for show_id in show_ids:
            for episode in catalog.episodes_of(show_id):
                n = catalog.downloads.get((episode.episode_id, day), 0)
                if n <= 0:
                    continue
                values = {
                    "date": day.strftime(date_format),
                    "id": episode.episode_id,
                    "title": episode.title,
                    "downloads": n,
                    "uniques": libsyn_uniques(n),
                    "showid": show_id,
                }
                keys = [_LIBSYN_NAMES[re.sub(r"[\s_]+", "", h).lower()] for h in header]
                rows.append([values[k] for k in keys])
    return _csv(header, rows, bom=False)


def periods(first: date, last: date, days_per_file: int) -> list[tuple[date, date]]:
    """``first``..``last`` cut into runs of ``days_per_file`` days: one export file each."""
    out = []
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=days_per_file - 1))
        out.append((start, end))
        start = end + timedelta(days=1)
    return out


def expected_downloads(
    catalog: HostCatalog, show_ids: Sequence[str], first: date, last: date, by_title: bool = False
) -> dict[tuple[str, date], int]:
    """(episode id or title, day) -> downloads: what a sync of the exports must land."""
    return {
        (catalog.episode(e).title if by_title else e, d): n
        for (e, d), n in catalog.expected_downloads(first, last).items()
        if catalog.episode(e).show_id in show_ids
    }


@dataclass
class ExportTenant:
    """A tenant whose connector reads an export folder: settings, environment, landing zone."""

    tenant: str
    platform: str
    home: Path
    zone: LandingZone
    env: dict[str, str]

    @property
    def folder(self) -> Path:
        return self.home / "exports" / self.tenant / self.platform

    def write_settings(self, **settings: Any) -> None:
        folder = self.home / "tenants"
        folder.mkdir(parents=True, exist_ok=True)
        document = {"connectors": {self.platform: settings}}
        (folder / f"{self.tenant}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))

    def write(self, name: str, content: str, folder: Path | None = None) -> Path:
        path = (folder or self.folder) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # newline="": the CRLF the writer chose is kept as a dashboard writes it.
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(content)
        return path

    def landed(self, entity: str) -> list[dict[str, Any]]:
        if not self.zone.files(self.tenant, self.platform, entity):
            return []
        return self.zone.read(self.tenant, self.platform, entity).to_pylist()

    def quarantined(self) -> list[dict[str, Any]]:
        if not self.zone.quarantine_files(self.tenant):
            return []
        return self.zone.read_quarantine(self.tenant).to_pylist()

    def state_file(self, stream: str) -> Path:
        return self.zone.root / self.tenant / "_state" / self.platform / f"{stream}.json"

    def sync(self, mode: str = FULL, **options: Any) -> SyncReport:
        """A sync of the tenant's connector as configured (settings file, environment)."""
        connector = build_connector(self.tenant, self.platform)
        return sync_connector(connector, self.zone, mode=mode, **options)

    def downloads(self) -> dict[tuple[str, date], int]:
        """(episode id, day) -> downloads, the last landed figure of each."""
        rows = sorted(self.landed("host_downloads_daily"), key=lambda r: r["_extracted_at"])
        return {(r["episode_id"], r["date"]): r["downloads"] for r in rows}

    def cli(
        self, *args: str, env: dict[str, str] | None = None, **options: Any
    ) -> subprocess.CompletedProcess:
        """``earshot connectors <args>`` in a child process with the tenant's environment."""
        return subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "connectors", *args],
            env={**os.environ, **self.env, **(env or {})},
            capture_output=True,
            text=True,
            **options,
        )


def export_tenant(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    tenant: str = "export_co",
    secrets: dict[str, str] | None = None,
) -> ExportTenant:
    env = {
        "EARSHOT_HOME": str(tmp_path),
        "EARSHOT_TENANTS_DIR": str(tmp_path / "tenants"),
        "EARSHOT_SECRETS_BACKEND": "env",
        "EARSHOT_LANDING": "local",
        "EARSHOT_WAREHOUSE": "duckdb",
    }
    for role, value in (secrets or {}).items():
        env[env_variable(tenant, f"{platform}_{role}")] = value
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    clear_cache()
    return ExportTenant(tenant, platform, tmp_path, LandingZone(tmp_path / "landing"), env)
