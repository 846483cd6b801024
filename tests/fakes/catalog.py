"""What a fake hosting platform hosts: shows, episodes and their true daily downloads.

Each fake renders the same catalogue in its own API's shapes (ids, date formats, paging), so
every connector's contract test can compare what landed with what the platform holds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq


@dataclass
class Show:
    show_id: str
    title: str
    timezone: str = "Eastern Time (US & Canada)"


@dataclass
class Episode:
    episode_id: str
    show_id: str
    title: str
    published_at: datetime  # UTC, naive
    duration_s: int
    number: int


@dataclass
class HostCatalog:
    shows: list[Show] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    # (episode id, day) -> downloads; a missing key is a day without downloads.
    downloads: dict[tuple[str, date], int] = field(default_factory=dict)

    def show(self, show_id: str) -> Show:
        return next(s for s in self.shows if s.show_id == show_id)

    def episode(self, episode_id: str) -> Episode:
        return next(e for e in self.episodes if e.episode_id == episode_id)

    def episodes_of(self, show_id: str) -> list[Episode]:
        return [e for e in self.episodes if e.show_id == show_id]

    def day_downloads(self, show_id: str, day: date) -> dict[str, int]:
        """Episode id -> downloads on ``day`` for one show (episodes with at least one)."""
        ids = {e.episode_id for e in self.episodes_of(show_id)}
        return {
            episode: n
            for (episode, d), n in sorted(self.downloads.items())
            if d == day and episode in ids and n > 0
        }

    def episode_days(self, episode_id: str, first: date, last: date) -> dict[date, int]:
        return {
            d: n
            for (episode, d), n in sorted(self.downloads.items())
            if episode == episode_id and first <= d <= last
        }

    def expected_downloads(self, first: date, last: date) -> dict[tuple[str, date], int]:
        """Every (episode, day) with downloads in the range: what a sync must land."""
        return {
            (episode, d): n
            for (episode, d), n in self.downloads.items()
            if first <= d <= last and n > 0
        }


def make_catalog(
    seed: int = 7,
    shows: int = 2,
    episodes_per_show: int = 4,
    first_day: date = date(2026, 10, 1),
    days: int = 10,
    numeric_ids: bool = False,
    id_prefix: str = "ep",
) -> HostCatalog:
    """A small catalogue with quiet days (no downloads) and episodes published mid-range."""
    rng = random.Random(seed)
    catalog = HostCatalog()
    next_id = 788_800
    for s in range(shows):
        show_id = str(1_000 + s) if numeric_ids else f"show{s + 1}"
        catalog.shows.append(Show(show_id, f"Show {s + 1}"))
        for n in range(episodes_per_show):
            next_id += 1
            episode_id = str(next_id) if numeric_ids else f"{id_prefix}{s + 1}x{n + 1}"
            published = datetime.combine(first_day, datetime.min.time()) + timedelta(
                days=rng.randint(-20, days // 2), hours=rng.randint(0, 23)
            )
            catalog.episodes.append(
                Episode(
                    episode_id,
                    show_id,
                    f"Episode {n + 1} of show {s + 1}",
                    published,
                    rng.randint(900, 4_000),
                    n + 1,
                )
            )
    quiet = {first_day + timedelta(days=rng.randint(0, days - 1)) for _ in range(2)}
    for episode in catalog.episodes:
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            if day in quiet or day < episode.published_at.date():
                continue
            n = rng.choice([0, 1, 3, 12, 40, 150])
            if n:
                catalog.downloads[(episode.episode_id, day)] = n
    return catalog


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def catalog_from_export(export: Path) -> HostCatalog:
    """The catalogue a simulated world's host serves: its episodes and its own daily figures
    (``episodes.parquet`` and ``host_downloads_daily.parquet`` of a simulator export)."""
    episodes = pq.read_table(export / "episodes.parquet").to_pylist()
    report = pq.read_table(export / "host_downloads_daily.parquet").to_pylist()
    catalog = HostCatalog()
    for row in episodes:
        if not any(s.show_id == row["show_id"] for s in catalog.shows):
            catalog.shows.append(Show(row["show_id"], row["show_name"]))
        catalog.episodes.append(
            Episode(
                row["episode_id"],
                row["show_id"],
                row["title"],
                row["published_at"],
                int(row["duration_s"]),
                len(catalog.episodes) + 1,
            )
        )
    for row in report:
        catalog.downloads[(row["episode_id"], row["date"])] = row["downloads"]
    return catalog
