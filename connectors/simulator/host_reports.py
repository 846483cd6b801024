"""The hosting platform's own daily downloads per episode, as its analytics would report them.

A host counts the listens it served: here, the *human* listens of a UTC day (the host's own bot
list knows the simulator's bots and Apple Watch repeats) whose bytes reach the IAB threshold
(ID3 header plus one minute of audio), once per address + user agent + episode and day. That
is close to what Earshot counts from the same log, but no two certified counters agree exactly,
so the reported figure carries a seeded disagreement (docs/developer/simulator.md):

* most episode-days: ``reported = true + trunc(true * e)`` with ``e ~ Normal(0, 1.2%)`` clipped
  to +/-3% (truncation toward zero keeps the difference within 3% of the true count);
* ``MISREPORT_SHARE`` of the episode-days (at least one when there are any): off by 8-25%, up or
  down, and always by more than 5% of the reported figure, so a reconciliation must flag them.

The true count, the reported one and whether the day was mis-reported go to the ground truth
(``_truth/host_downloads.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.simulator import text
from connectors.simulator.catalog import Catalog
from connectors.simulator.listening import LISTEN_HUMAN, DayTraffic
from connectors.simulator.seeding import generator

PLATFORM = "simulated_host"
NOISE_SD = 0.012
NOISE_LIMIT = 0.03
MISREPORT_SHARE = 0.02
MISREPORT_RANGE = (0.08, 0.25)
# The host publishes a day's figures early the next morning (UTC).
REPORT_DELAY = timedelta(days=1, hours=6)
# Statuses whose body bytes count towards a download (HEAD, 304 and errors deliver no audio).
BODY_STATUSES = (200, 206)


@dataclass
class HostTally:
    """True host counts per (day, episode), added one day of traffic at a time."""

    catalog: Catalog
    start_date: date
    days: list[int] = field(default_factory=list)
    counts: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._threshold = self.catalog.valid_download_bytes()

    def add(self, day: int, traffic: DayTraffic, listen_base: int) -> None:
        """Count the host's downloads of one day from its requests (vectorised, no row loop)."""
        counts = host_day_counts(traffic, listen_base, self.catalog, self._threshold)
        self.days.append(day)
        self.counts.append(counts)

    def truth(self) -> pa.Table:
        """(episode, date, true count) of every episode-day the host counted a download on."""
        if not self.counts:
            return _truth_table(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
        grid = np.vstack(self.counts)  # days x episodes
        day_idx, episode_idx = np.nonzero(grid)
        day = np.asarray(self.days, dtype=np.int64)[day_idx]
        return _truth_table(day, episode_idx.astype(np.int64), grid[day_idx, episode_idx])

    def report(self, seed: int, tenant_id: str) -> tuple[pa.Table, pa.Table]:
        """The host's report (the ``host_downloads_daily`` columns) and its ground truth."""
        truth = self.truth()
        true = truth.column("true_downloads").to_numpy().astype(np.int64)
        reported, misreported = disagree(true, generator(seed, tenant_id, "host_reports"))
        day = truth.column("day").to_numpy()
        episode = truth.column("episode").to_numpy()
        dates = pa.array([self.start_date + timedelta(days=int(d)) for d in day], pa.date32())
        midnight = datetime.combine(self.start_date, time())
        reported_at = pa.array(
            [midnight + timedelta(days=int(d)) + REPORT_DELAY for d in day], pa.timestamp("us")
        )
        episode_ids = self.catalog.episode_id.take(pa.array(episode))
        show_ids = text.choose(self.catalog.show_id, self.catalog.episode_show[episode])
        n = len(true)
        report = pa.table(
            {
                "platform": pa.array([PLATFORM] * n, pa.string()),
                "show_id": show_ids.cast(pa.string()),
                "episode_id": episode_ids.cast(pa.string()),
                "date": dates,
                "downloads": pa.array(reported, pa.int64()),
                "reported_at": reported_at,
            }
        )
        truth_out = pa.table(
            {
                "platform": report.column("platform"),
                "episode_id": report.column("episode_id"),
                "date": dates,
                "true_downloads": pa.array(true, pa.int64()),
                "reported_downloads": pa.array(reported, pa.int64()),
                "misreported": pa.array(misreported, pa.bool_()),
            }
        )
        return report, truth_out


def _truth_table(day: np.ndarray, episode: np.ndarray, count: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "day": pa.array(day, pa.int64()),
            "episode": pa.array(episode, pa.int64()),
            "true_downloads": pa.array(count, pa.int64()),
        }
    )


def host_day_counts(
    traffic: DayTraffic, listen_base: int, catalog: Catalog, threshold: np.ndarray
) -> np.ndarray:
    """Downloads per episode (catalogue order) the host counts for one day of ``traffic``."""
    requests = traffic.requests
    counts = np.zeros(catalog.episodes, dtype=np.int64)
    if requests.num_rows == 0 or traffic.listens == 0:
        return counts
    listen = requests.column("listen").to_numpy() - listen_base
    human = requests.column("listen_kind").to_numpy() == LISTEN_HUMAN
    status = requests.column("status").to_numpy()
    is_get = pc.equal(requests.column("method"), "GET").to_numpy(zero_copy_only=False)
    body = human & is_get & np.isin(status, BODY_STATUSES)
    delivered = np.bincount(
        listen[body],
        weights=requests.column("bytes_sent").to_numpy()[body].astype(np.float64),
        minlength=traffic.listens,
    )
    # One row per human listen: its first request holds its episode, address and user agent.
    rows = np.flatnonzero(human)
    first_listen, first_at = np.unique(listen[rows], return_index=True)
    first = rows[first_at]
    episode = pc.index_in(
        requests.column("episode_id").take(pa.array(first)), value_set=catalog.episode_id
    ).to_numpy(zero_copy_only=False)
    valid = delivered[first_listen] >= threshold[episode]
    if not valid.any():
        return counts
    # Once per address + user agent + episode and day (the IAB unique key).
    ip = _codes(requests.column("ip").take(pa.array(first[valid])))
    ua = _codes(requests.column("user_agent").take(pa.array(first[valid])))
    key = np.stack([ip, ua, episode[valid].astype(np.int64)], axis=1)
    unique_episode = np.unique(key, axis=0)[:, 2]
    return np.bincount(unique_episode, minlength=catalog.episodes).astype(np.int64)


def _codes(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Small integer codes of a text column (equal text, equal code)."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def disagree(true: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The host's figure for each true count, and which ones are mis-reported (> 5% off)."""
    true = np.asarray(true, dtype=np.int64)
    n = true.size
    error = np.clip(rng.normal(0.0, NOISE_SD, size=n), -NOISE_LIMIT, NOISE_LIMIT)
    # Toward zero, so the figure is never more than 3% of the true count away from it.
    reported = true + np.trunc(true * error).astype(np.int64)
    misreported = np.zeros(n, dtype=bool)
    if n:
        misreported = rng.random(n) < MISREPORT_SHARE
        if not misreported.any():
            misreported[rng.integers(0, n)] = True
    size = rng.uniform(*MISREPORT_RANGE, size=n)
    up = rng.random(n) < 0.5
    # The smallest gap strictly more than 5% of the reported figure, in integers: up by d,
    # d / (true + d) > 1/20 <=> d > true / 19; down by d, d / (true - d) > 1/20 <=> d > true / 21.
    min_up = true // 19 + 1
    min_down = true // 21 + 1
    gap_up = np.maximum(np.rint(true * size).astype(np.int64), min_up)
    gap_down = np.maximum(np.rint(true * size).astype(np.int64), min_down)
    # Never down to zero: a host does not report a day it served nothing on.
    up |= true - gap_down < 1
    off = np.where(up, true + gap_up, true - gap_down)
    reported = np.where(misreported, off, reported)
    return reported, misreported
