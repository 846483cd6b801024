"""The IAB delivery rule by insertion type: the catalogue's mix, the byte thresholds at their
exact edges, the exposures the listening model records, and pre >= mid >= post following from
the bytes listeners fetch (not from any rule that orders positions)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from connectors.simulator import demo
from connectors.simulator.catalog import INSERTION_TYPES, POSITIONS, Catalog, build_catalog
from connectors.simulator.listening import LISTEN_HUMAN
from connectors.simulator.network import NET_HOME
from connectors.simulator.simulation import SimulationSummary, build_world

from .conftest import END, START, tiny_config

DYNAMIC, BAKED_IN = INSERTION_TYPES.index("dynamic"), INSERTION_TYPES.index("baked_in")


def test_placements_mix_dynamic_and_baked_in_ads() -> None:
    config = demo(seed=3, tenant_id="acme", start_date=START, end_date=END, campaigns=20)
    catalog = build_catalog(config)
    dynamic_share = float(np.mean(catalog.placement_insertion == DYNAMIC))
    assert catalog.placements > 200
    assert 0.5 < dynamic_share < 0.7
    # Baked-in ads sit at every position, as dynamic ones do.
    for kind in (DYNAMIC, BAKED_IN):
        positions = set(catalog.placement_position[catalog.placement_insertion == kind].tolist())
        assert positions == {0, 1, 2}


def test_the_export_carries_the_insertion_type(parquet_world: SimulationSummary) -> None:
    placements = pq.read_table(parquet_world.files["placements"][0]).to_pandas()
    assert set(placements["insertion_type"]) == {"dynamic", "baked_in"}
    assert placements["insertion_type"].notna().all()


def _hand_catalog() -> Catalog:
    """The tiny world's catalogue with episode 0 made 1,000 ID3 bytes + 1,000 s at 128 kbps
    (16,000 bytes a second; 16,001,000 bytes) and four placements on it."""
    base = build_world(tiny_config()).catalog
    id3, bitrate, duration = base.id3_bytes.copy(), base.bitrate_kbps.copy(), base.duration_s.copy()
    file_bytes = base.file_bytes.copy()
    id3[0], bitrate[0], duration[0], file_bytes[0] = 1_000, 128, 1_000, 16_001_000
    return dataclasses.replace(
        base,
        id3_bytes=id3,
        bitrate_kbps=bitrate,
        duration_s=duration,
        file_bytes=file_bytes,
        placement_episode=np.zeros(5, np.int32),
        placement_insertion=np.array([DYNAMIC, BAKED_IN, BAKED_IN, BAKED_IN, BAKED_IN], np.int8),
        ad_start_s=np.array([0.0, 0.0, 250.0, 249.9, 970.0]),
        ad_end_s=np.array([30.0, 30.0, 280.0, 279.9, 1_000.0]),
    )


def test_required_bytes_at_hand_computed_edges() -> None:
    need = _hand_catalog().ad_delivery_bytes()
    assert need.tolist() == [
        481_000,  # dynamic pre-roll: 1,000 + 30 * 16,000, the bytes up to its end
        4_001_000,  # baked-in pre-roll: a quarter of the episode, 1,000 + 0.25 * 16,000,000
        4_481_000,  # baked-in at exactly 25% (250 s) is not in the first quarter: to its end
        4_001_000,  # baked-in at 249.9 s is: a quarter, before its end (4,479,400)
        16_001_000,  # baked-in post-roll ending with the file: the whole file
    ]


@pytest.fixture(scope="module")
def world():
    return build_world(tiny_config())


def _listens(catalog: Catalog, episode: int, ts: int, got: list[int]) -> dict[str, np.ndarray]:
    n = len(got)
    return {
        "episode": np.full(n, episode, np.int64),
        "ts": np.full(n, ts, np.int64),
        "household": np.arange(n, dtype=np.int64),
        "net": np.full(n, NET_HOME, np.int8),
        "kind": np.full(n, LISTEN_HUMAN, np.int8),
    }


@pytest.mark.parametrize("insertion", ["dynamic", "baked_in"])
def test_a_listen_exposes_exactly_at_the_required_bytes(world, insertion: str) -> None:
    model = world.listening
    catalog = model.catalog
    kind = INSERTION_TYPES.index(insertion)
    # A pre-roll of that kind; its bytes needed, and the IAB one-minute threshold below them.
    candidates = np.flatnonzero(
        (catalog.placement_insertion == kind) & (catalog.placement_position == 0)
    )
    assert candidates.size
    p = int(candidates[0])
    episode = int(catalog.placement_episode[p])
    need = int(catalog.ad_delivery_bytes()[p])
    threshold = int(catalog.valid_download_bytes()[episode])
    if insertion == "baked_in":
        assert need > int(catalog.ad_end_bytes()[p])  # a quarter of the episode is more
    got = [need - 1, need, max(need, threshold)]
    ts = int(catalog.flight_start_ms[catalog.placement_campaign[p]])
    exposures = model._exposures(_listens(catalog, episode, ts, got), np.array(got, np.int64))
    mine = exposures["exposure_placement"] == p
    exposed = set(exposures["exposure_household"][mine].tolist())
    expected = {i for i, g in enumerate(got) if g >= need and g >= threshold}
    assert exposed == expected
    assert 0 not in exposed


def _day_pairs(world, days: range) -> tuple[pd.DataFrame, int]:
    """Every (human listen, placement of its episode in flight) pair of some days, with the
    bytes the listen fetched from the start of the file, read back from its requests; and the
    simulator's own count of exposures."""
    model = world.listening
    catalog = model.catalog
    frames, simulated = [], 0
    for day in days:
        traffic = model.day(day, 600, 0, listen_base=day * 10_000)
        simulated += int(traffic.exposure_placement.size)
        req = traffic.requests.to_pandas()
        req = req[req["listen_kind"] == LISTEN_HUMAN]
        body = req["status"].isin([200, 206]) & (req["range"] != "bytes=0-1")
        got = req[body].groupby("listen")["bytes_sent"].sum().rename("got")
        first = req.groupby("listen").agg(ts=("ts", "min"), episode_id=("episode_id", "first"))
        frames.append(first.join(got).fillna({"got": 0}).reset_index())
    listens = pd.concat(frames, ignore_index=True)
    placements = pd.DataFrame(
        {
            "episode_id": catalog.episode_id.take(catalog.placement_episode).to_pylist(),
            "position": [POSITIONS[k] for k in catalog.placement_position],
            "need": catalog.ad_delivery_bytes(),
            "threshold": catalog.valid_download_bytes()[catalog.placement_episode],
            "start": catalog.flight_start_ms[catalog.placement_campaign],
            "end": catalog.flight_end_ms[catalog.placement_campaign],
        }
    )
    pairs = listens.merge(placements, on="episode_id")
    ts_ms = pairs["ts"].astype("int64") // 1000
    pairs = pairs[(ts_ms >= pairs["start"]) & (ts_ms < pairs["end"])]
    pairs = pairs[pairs["got"] >= pairs["threshold"]]  # valid downloads only
    pairs = pairs.assign(delivered=pairs["got"] >= pairs["need"])
    return pairs, simulated


def test_exposures_follow_from_the_bytes_and_pre_beats_mid_beats_post(world) -> None:
    pairs, simulated = _day_pairs(world, range(20, 60, 2))
    # The simulator's exposures are exactly what the rule gives on the bytes its requests carry.
    assert int(pairs["delivered"].sum()) == simulated > 0
    rate = pairs.groupby("position")["delivered"].mean()
    assert set(rate.index) == {"pre", "mid", "post"}
    assert rate["pre"] >= rate["mid"] >= rate["post"]
    assert rate["post"] < 1.0  # some listens stop before the end
