"""Transcripts: the reads of the placements where planned, the seeded faults, the truth."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow.parquet as pq
import pytest

from connectors.simulator.catalog import build_catalog
from connectors.simulator.simulation import SimulationSummary
from connectors.simulator.transcripts import (
    TOPIC_VOCABULARY,
    build_transcripts,
    discount_of,
    spoken_url,
    wrong_code,
)

from .conftest import tiny_config


def _frames(summary: SimulationSummary) -> tuple[pd.DataFrame, ...]:
    def read(entity: str) -> pd.DataFrame:
        return pd.concat(pq.read_table(p).to_pandas() for p in summary.files[entity])

    truth = pd.read_csv(summary.out_dir / "_truth" / "transcript_reads.csv")
    return read("transcripts"), read("episodes"), read("placements"), truth


def _says(text: str, code: str, url: str) -> bool:
    return code in text and (url in text or spoken_url(url) in text)


def test_every_episode_has_a_small_transcript_covering_its_audio(
    parquet_world: SimulationSummary,
) -> None:
    segments, episodes, _, _ = _frames(parquet_world)
    assert set(segments["episode_id"]) == set(episodes["episode_id"])
    duration = episodes.set_index("episode_id")["duration_s"]
    for episode, group in segments.groupby("episode_id"):
        group = group.sort_values("segment_index")
        assert group["segment_index"].tolist() == list(range(len(group)))
        assert (group["end_s"] > group["start_s"]).all()
        assert (group["start_s"].iloc[1:].to_numpy() >= group["end_s"].iloc[:-1].to_numpy()).all()
        assert group["end_s"].max() <= duration[episode]
        # A few KB of text per episode.
        assert 1_000 < group["text"].str.len().sum() < 12_000
    assert set(segments["speaker"]) <= {"host", "co_host", "announcer"}


def test_reads_are_said_as_planned_unless_faulted(parquet_world: SimulationSummary) -> None:
    segments, _, placements, truth = _frames(parquet_world)
    assert sorted(truth["placement_id"]) == sorted(placements["placement_id"])
    merged = truth.merge(placements, on=["placement_id", "episode_id"])
    for row in merged.itertuples(index=False):
        episode = segments[segments["episode_id"] == row.episode_id]
        if row.fault == "missing_read":
            assert pd.isna(row.start_s)
            assert (
                not episode["text"].map(lambda t, r=row: _says(t, r.promo_code, r.vanity_url)).any()
            )
            continue
        inside = episode[(episode["start_s"] >= row.start_s) & (episode["end_s"] <= row.end_s)]
        text = " ".join(inside["text"])
        assert _says(text, row.promo_code_said, row.vanity_url), row
        assert "brought to you by" in text or row.brand in text
        if row.fault == "none":
            assert (row.start_s, row.end_s) == (row.ad_start_s, row.ad_end_s)
            assert row.position_said == row.position and row.promo_code_said == row.promo_code
        elif row.fault == "wrong_position":
            assert row.position_said != row.position
        else:
            assert row.fault == "wrong_promo_code"
            assert row.promo_code_said not in set(placements["promo_code"])
            assert row.position_said == row.position


def test_faults_follow_the_configured_share() -> None:
    config = tiny_config(seed=3)
    catalog = build_catalog(config)
    none = build_transcripts(config.with_changes(transcript_fault_share=0.0), catalog)
    assert set(none.reads.column("fault").to_pylist()) == {"none"}
    many = build_transcripts(config.with_changes(transcript_fault_share=0.6), catalog)
    faults = pd.Series(many.reads.column("fault").to_pylist()).value_counts()
    assert {"missing_read", "wrong_position", "wrong_promo_code", "none"} == set(faults.index)
    # The faults are the only difference: with none, every read is where it was planned.
    reads = none.reads.to_pandas()
    assert (reads["position_said"] == reads["planned_position"]).all()


def test_topics_truth_names_the_title_topics(parquet_world: SimulationSummary) -> None:
    _, episodes, _, _ = _frames(parquet_world)
    topics = pd.read_csv(parquet_world.out_dir / "_truth" / "transcript_topics.csv")
    titles = episodes.set_index("episode_id")["title"]
    for episode, group in topics.groupby("episode_id"):
        named = set(re.split(r": | and ", titles[episode])[1:])
        assert set(group.loc[group["role"] == "episode", "topic"]) == named & set(TOPIC_VOCABULARY)
        assert group["tone"].between(-1, 1).all() and group["tone"].nunique() == 1
    assert topics["talk_segments"].sum() > 0


@pytest.mark.parametrize(
    ("code", "taken", "expected"),
    [("KITCHEN20", {"KITCHEN20"}, 20), ("FRONTIER20K", {"FRONTIER20K", "FRONTIER10K"}, 20)],
)
def test_a_wrong_code_is_another_discount_nobody_uses(
    code: str, taken: set[str], expected: int
) -> None:
    import numpy as np

    assert discount_of(code) == expected
    said = wrong_code(code, taken, np.random.default_rng(0))
    assert said not in taken and said != code
    assert re.sub(r"\d+", "", said) == re.sub(r"\d+", "", code)
