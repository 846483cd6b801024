"""The host's daily downloads: its count of one day, its seeded disagreement, its export."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from connectors.simulator.host_reports import (
    MISREPORT_SHARE,
    NOISE_LIMIT,
    PLATFORM,
    REPORT_DELAY,
    disagree,
    host_day_counts,
)
from connectors.simulator.listening import LISTEN_HUMAN
from connectors.simulator.seeding import generator
from connectors.simulator.simulation import build_world
from warehouse.entities import ENTITIES

from .conftest import files_of, tiny_config


def _pandas_count(requests: pd.DataFrame, threshold: pd.Series) -> pd.Series:
    """The same count written row by row in pandas: valid human listens, once per key."""
    human = requests[requests["listen_kind"] == LISTEN_HUMAN]
    body = human[(human["method"] == "GET") & human["status"].isin([200, 206])]
    delivered = body.groupby("listen")["bytes_sent"].sum()
    first = human.groupby("listen").first()
    first["delivered"] = delivered.reindex(first.index).fillna(0)
    first["threshold"] = first["episode_id"].map(threshold)
    valid = first[first["delivered"] >= first["threshold"]]
    unique = valid.drop_duplicates(["ip", "user_agent", "episode_id"])
    return unique["episode_id"].value_counts()


def test_day_count_matches_a_row_by_row_count() -> None:
    world = build_world(tiny_config())
    catalog = world.catalog
    traffic = world.listening.day(40, 800, 60, listen_base=1_000)
    counts = host_day_counts(traffic, 1_000, catalog, catalog.valid_download_bytes())

    threshold = pd.Series(catalog.valid_download_bytes(), index=catalog.episode_id.to_pylist())
    expected = _pandas_count(traffic.requests.to_pandas(), threshold)
    got = pd.Series(counts, index=catalog.episode_id.to_pylist())
    got = got[got > 0]
    pd.testing.assert_series_equal(
        got.sort_index(), expected.sort_index(), check_names=False, check_dtype=False
    )
    # Bots, watch repeats and short listens are not downloads: fewer than the listens.
    assert 0 < counts.sum() < traffic.listens


def test_disagreement_is_small_except_for_the_misreported_days() -> None:
    true = generator(1, "acme", "test").integers(1, 5_000, size=20_000)
    reported, misreported = disagree(true, generator(7, "acme", "host_reports"))
    ok = ~misreported
    assert np.all(np.abs(reported[ok] - true[ok]) <= NOISE_LIMIT * true[ok])
    # Most days differ a little, not at all: the noise is there.
    assert np.mean(reported[ok] != true[ok]) > 0.5
    off = np.abs(reported[misreported] - true[misreported])
    assert np.all(off * 100 > 5 * reported[misreported])
    assert np.all(reported >= 1)
    assert abs(misreported.mean() - MISREPORT_SHARE) < 0.005
    # Both directions occur.
    assert (reported[misreported] > true[misreported]).any()
    assert (reported[misreported] < true[misreported]).any()


@pytest.mark.parametrize("value", [1, 2, 19, 20, 21, 40, 42, 100])
def test_misreported_small_counts_are_still_more_than_five_percent_off(value: int) -> None:
    true = np.full(400, value, dtype=np.int64)
    reported, misreported = disagree(true, generator(3, "acme", "small"))
    off = np.abs(reported - true)[misreported]
    assert misreported.any()
    assert np.all(off * 100 > 5 * reported[misreported])
    assert np.all(reported >= 1)


def test_disagreement_is_seeded() -> None:
    true = np.arange(1, 500)
    first = disagree(true, generator(7, "acme", "host_reports"))
    again = disagree(true, generator(7, "acme", "host_reports"))
    other = disagree(true, generator(8, "acme", "host_reports"))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


def test_some_day_is_always_misreported() -> None:
    _, misreported = disagree(np.array([10, 20, 30]), generator(7, "acme", "few"))
    assert misreported.sum() >= 1


def test_simulated_world_exports_the_host_report(parquet_world, config) -> None:
    [path] = files_of(parquet_world, "host_downloads_daily")
    report = pq.read_table(path)
    assert report.schema == ENTITIES["host_downloads_daily"].schema
    assert parquet_world.rows("host_downloads_daily") == report.num_rows > 0
    frame = report.to_pandas()
    assert set(frame["platform"]) == {PLATFORM}
    assert not frame.duplicated(["platform", "episode_id", "date"]).any()
    assert (frame["downloads"] >= 1).all()
    first, last = frame["date"].min(), frame["date"].max()
    assert config.start_date <= first and last <= config.end_date
    published = pd.to_datetime(frame["date"]) + REPORT_DELAY
    assert (pd.to_datetime(frame["reported_at"]) == published).all()

    truth = pa_csv.read_csv(parquet_world.out_dir / "_truth" / "host_downloads.csv").to_pandas()
    merged = frame.assign(date=frame["date"].astype(str)).merge(
        truth.assign(date=truth["date"].astype(str)), on=["episode_id", "date"], validate="1:1"
    )
    assert len(merged) == len(frame)
    assert (merged["downloads"] == merged["reported_downloads"]).all()
    assert merged["misreported"].sum() >= 1
    calm = merged[~merged["misreported"]]
    assert (abs(calm["downloads"] - calm["true_downloads"]) <= 0.03 * calm["true_downloads"]).all()
    # The host counts no more than the people listening.
    assert merged["true_downloads"].sum() <= parquet_world.human_listens


def test_host_report_covers_the_period_days(parquet_world, config) -> None:
    frame = pq.read_table(files_of(parquet_world, "host_downloads_daily")[0]).to_pandas()
    days = {config.start_date + timedelta(days=d) for d in range(config.days)}
    assert set(frame["date"]) <= days
    assert len(set(frame["date"])) > config.days // 2
