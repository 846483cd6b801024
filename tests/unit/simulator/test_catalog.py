"""Invariants of the published catalogue and the bought placements."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq

from connectors.simulator.simulation import SimulationSummary


def _read(summary: SimulationSummary, entity: str) -> pd.DataFrame:
    return pq.read_table(summary.files[entity][0]).to_pandas()


def test_placements_reference_existing_campaigns_and_episodes(
    parquet_world: SimulationSummary,
) -> None:
    placements = _read(parquet_world, "placements")
    campaigns = _read(parquet_world, "campaigns")
    episodes = _read(parquet_world, "episodes")
    assert len(placements) > 0
    assert placements["campaign_id"].isin(campaigns["campaign_id"]).all()
    assert placements["episode_id"].isin(episodes["episode_id"]).all()
    assert placements["placement_id"].is_unique
    # Every campaign bought something, and an episode has at most one ad per position.
    assert set(placements["campaign_id"]) == set(campaigns["campaign_id"])
    assert not placements.duplicated(["episode_id", "position"]).any()
    assert set(placements["position"]) <= {"pre", "mid", "post"}
    assert set(placements["read_type"]) <= {"host", "produced"}
    assert (placements["cost"] > 0).all()
    assert placements["promo_code"].str.fullmatch(r"[A-Z]+\d+[A-Z]*").all()


def test_file_bytes_are_id3_plus_audio(parquet_world: SimulationSummary) -> None:
    episodes = _read(parquet_world, "episodes")
    truth = pd.read_csv(parquet_world.out_dir / "_truth" / "episodes.csv")
    merged = episodes.merge(truth, on="episode_id", validate="one_to_one")
    assert len(merged) == len(episodes)
    audio = merged["duration_s"] * merged["bitrate_kbps"] * 1000 / 8
    assert (merged["file_bytes"] == merged["id3_bytes"] + audio).all()
    assert set(merged["bitrate_kbps"]) <= {64.0, 96.0, 128.0}
    assert (merged["id3_bytes"] > 0).all()


def test_ads_fit_inside_their_episode(parquet_world: SimulationSummary) -> None:
    placements = _read(parquet_world, "placements")
    episodes = _read(parquet_world, "episodes")
    merged = placements.merge(episodes, on="episode_id")
    assert (merged["ad_start_s"] >= 0).all()
    assert (merged["ad_start_s"] < merged["ad_end_s"]).all()
    assert (merged["ad_end_s"] <= merged["duration_s"]).all()


def test_flights_and_publish_times_lie_in_the_period(
    parquet_world: SimulationSummary, config
) -> None:
    campaigns = _read(parquet_world, "campaigns")
    episodes = _read(parquet_world, "episodes")
    assert (campaigns["start_date"] >= config.start_date).all()
    assert (campaigns["end_date"] <= config.end_date).all()
    assert (campaigns["start_date"] <= campaigns["end_date"]).all()
    assert (campaigns["budget"] > 0).all()
    period_end = pd.Timestamp(config.period_end).tz_convert(None)
    assert (episodes["published_at"] < period_end).all()
