"""Request patterns of listens, checked on one generated day with its internal listen ids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from connectors.simulator.listening import LISTEN_BOT, LISTEN_HUMAN, LISTEN_WATCH
from connectors.simulator.simulation import build_world

from .conftest import tiny_config


@pytest.fixture(scope="module")
def day_requests() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A busy day (many listens) of the tiny world, and its episodes."""
    world = build_world(tiny_config())
    model = world.listening
    traffic = model.day(40, 800, 60)
    requests = traffic.requests.to_pandas()
    catalog = world.catalog
    episodes = pd.DataFrame(
        {
            "episode_id": catalog.episode_id.to_pylist(),
            "file_bytes": catalog.file_bytes,
            "published_at": pd.to_datetime(catalog.published_ms, unit="ms"),
        }
    )
    return requests.merge(episodes, on="episode_id", validate="many_to_one"), episodes


def test_every_pattern_occurs(day_requests) -> None:
    requests, _ = day_requests
    assert {"GET", "HEAD"} == set(requests["method"])
    assert {200, 206, 304} <= set(requests["status"])
    assert (requests["range"] == "bytes=0-1").any()
    assert requests["range"].str.fullmatch(r"bytes=\d+-\d+").any()
    assert requests["range"].str.fullmatch(r"bytes=\d+-").any()  # open-ended last range
    assert set(requests["listen_kind"]) == {LISTEN_HUMAN, LISTEN_WATCH, LISTEN_BOT}


def test_head_and_304_carry_no_bytes(day_requests) -> None:
    requests, _ = day_requests
    assert (requests.loc[requests["method"] == "HEAD", "bytes_sent"] == 0).all()
    assert (requests.loc[requests["status"] == 304, "bytes_sent"] == 0).all()
    assert requests.loc[requests["status"] == 304, "range"].isna().all()


def test_probes_are_two_bytes(day_requests) -> None:
    requests, _ = day_requests
    probes = requests[requests["range"] == "bytes=0-1"]
    assert len(probes) > 0
    assert (probes["status"] == 206).all()
    assert (probes["bytes_sent"] == 2).all()


def test_range_bytes_match_their_header(day_requests) -> None:
    requests, _ = day_requests
    ranged = requests[(requests["status"] == 206) & (requests["range"] != "bytes=0-1")]
    bounds = ranged["range"].str.extract(r"bytes=(\d+)-(\d*)")
    start = bounds[0].astype(np.int64)
    end = bounds[1].replace("", np.nan).astype(float).fillna(ranged["file_bytes"] - 1)
    assert (ranged["bytes_sent"] == end.astype(np.int64) - start + 1).all()
    assert (end < ranged["file_bytes"]).all()


def test_partial_sequences_of_a_listen_add_up_to_at_most_the_file(day_requests) -> None:
    requests, _ = day_requests
    ranged = requests[(requests["status"] == 206) & (requests["range"] != "bytes=0-1")].copy()
    ranged["start"] = ranged["range"].str.extract(r"bytes=(\d+)-")[0].astype(np.int64)
    per_listen = ranged.sort_values(["listen", "start"]).groupby("listen")
    total = per_listen["bytes_sent"].sum()
    size = per_listen["file_bytes"].first()
    assert len(total) > 10
    assert (total <= size).all()
    # Ranges are contiguous from byte 0: each starts where the previous one ended.
    first_start = per_listen["start"].first()
    assert (first_start == 0).all()
    expected_next = per_listen.apply(
        lambda g: (g["start"].iloc[1:].to_numpy() == (g["start"] + g["bytes_sent"]).iloc[:-1]
                   .to_numpy()).all(),
        include_groups=False,
    )  # fmt: skip
    assert expected_next.all()
    # Some listens stop early, some reach the end of the file.
    assert (total < size).any()
    assert (total == size).any()


def test_full_gets_deliver_at_most_the_file(day_requests) -> None:
    requests, _ = day_requests
    full = requests[(requests["method"] == "GET") & (requests["status"] == 200)]
    assert (full["bytes_sent"] <= full["file_bytes"]).all()
    assert (full["bytes_sent"] == full["file_bytes"]).any()
    assert (full["bytes_sent"] < full["file_bytes"]).any()  # a stream cut short


def test_requests_come_after_publication_and_in_time_order(day_requests) -> None:
    requests, _ = day_requests
    assert (requests["ts"] >= requests["published_at"]).all()
    assert requests["ts"].is_monotonic_increasing


def test_watch_duplicates_and_bots_use_their_user_agents(day_requests) -> None:
    requests, _ = day_requests
    watch = requests[requests["listen_kind"] == LISTEN_WATCH]
    assert watch["user_agent"].str.contains("watchOS").all()
    assert (
        watch["user_agent"].str.startswith("atc/")
        | watch["user_agent"].str.startswith("(null)/(null)")
    ).all()
    assert (watch["status"] == 200).all()
    # A watch re-downloads what its household's iPhone fetched, from the same network.
    humans = requests[requests["listen_kind"] == LISTEN_HUMAN]
    pairs = set(zip(humans["household"], humans["episode_id"], strict=True))
    assert all(p in pairs for p in zip(watch["household"], watch["episode_id"], strict=True))
    bots = requests[requests["listen_kind"] == LISTEN_BOT]
    assert (bots["household"] == -1).all()
    assert (
        bots["user_agent"]
        .str.contains("bot|python-requests|curl|Wget|Go-http-client|okhttp|facebookexternalhit")
        .all()
    )
