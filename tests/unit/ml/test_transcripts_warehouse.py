"""The transcripts family through the registry and the ml tables, on a small DuckDB warehouse
holding the four relations it reads (with their real column names).

The rows come from the simulator's catalogue and transcripts (no listening, no shop: they are
not read), with a high fault share so that every kind of fault is there to be found. Its truth
checks the output; training and scoring never see it. Another tenant's rows are there to be
left alone.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from connectors.simulator import tiny
from connectors.simulator.catalog import build_catalog
from connectors.simulator.simulation import catalog_tables
from connectors.simulator.transcripts import build_transcripts
from models_ml.runner import score_family, train_family
from models_ml.transcripts import FAMILY
from models_ml.transcripts.backtest import fault_findings, read_detection, topic_overlap
from models_ml.transcripts.family import SCHEMAS
from warehouse.connection import DuckDBWarehouse
from warehouse.landing_storage import LocalFolderStorage

TENANT, OTHER = "acme", "globex"


def _world(tenant: str, seed: int, fault_share: float) -> dict[str, pd.DataFrame]:
    config = tiny(
        seed=seed,
        tenant_id=tenant,
        start_date=date(2024, 3, 1),
        end_date=date(2024, 5, 29),
        transcript_fault_share=fault_share,
    )
    catalog = build_catalog(config)
    tables = {k: v.to_pandas() for k, v in catalog_tables(catalog).items()}
    transcripts = build_transcripts(config, catalog)
    segments = transcripts.segments.to_pandas().rename(columns={"text": "segment_text"})
    episodes = tables["episodes"].rename(columns={"title": "episode_title"})
    campaigns = tables["campaigns"].rename(columns={"name": "campaign_name"})
    return {
        "staging.stg_files__transcripts": segments,
        "staging.stg_files__episodes": episodes.drop(columns=["id3_bytes"]),
        "staging.stg_files__placements": tables["placements"],
        "marts.dim_campaigns": campaigns,
        "truth_reads": transcripts.reads.to_pandas(),
        "truth_topics": transcripts.topics.to_pandas(),
    }


def _warehouse(path: Path, worlds: dict[str, dict[str, pd.DataFrame]]) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(path)
    for schema in ("staging", "marts"):
        wh.execute(f"create schema if not exists {schema}")
    for table in [t for t in next(iter(worlds.values())) if "." in t]:
        frame = pd.concat(
            [w[table].assign(tenant_id=tenant) for tenant, w in worlds.items()], ignore_index=True
        )
        wh.conn.register("_frame", frame)
        wh.execute(f"create table {table} as select * from _frame")
        wh.conn.unregister("_frame")
    return wh


def _table(wh: DuckDBWarehouse, name: str, tenant: str) -> pd.DataFrame:
    columns = ", ".join(SCHEMAS[name].names)
    names, rows = wh.fetch_columns(f"select {columns} from ml.{name} where tenant_id = ?", [tenant])
    return pd.DataFrame([tuple(r) for r in rows], columns=names)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("transcripts")
    worlds = {TENANT: _world(TENANT, 7, fault_share=0.45), OTHER: _world(OTHER, 8, 0.1)}
    wh = _warehouse(tmp / "w.duckdb", worlds)
    store = LocalFolderStorage(tmp / "models")
    # The other tenant was scored first: its rows must survive the tenant's runs.
    train_family(wh, store, FAMILY, OTHER)
    score_family(wh, store, FAMILY, OTHER)
    outcome = train_family(wh, store, FAMILY, TENANT)
    version, written = score_family(wh, store, FAMILY, TENANT)
    yield wh, store, worlds, outcome, version, written
    wh.close()


def test_the_classifier_beats_the_keyword_baseline_and_is_promoted(world) -> None:
    _, _, _, outcome, version, _ = world
    assert outcome.promoted, outcome.describe()
    v = outcome.version
    assert v.metric == "f1" and v.baseline_name == "keyword"
    assert v.metrics["f1"] > v.baseline_metrics["f1"] + 0.02
    assert v.metrics["f1"] >= 0.9
    assert v.holdout_rows > 0 and v.details["holdout_episodes"] >= 3
    assert version.model_version == v.model_version


def test_reads_are_found_where_they_were_said(world) -> None:
    wh, _, worlds, _, version, written = world
    reads = _table(wh, "sponsor_reads", TENANT)
    assert written["sponsor_reads"] == len(reads) > 0
    assert set(reads["model_version"]) == {version.model_version}
    truth = worlds[TENANT]["truth_reads"]
    scores = read_detection(reads, truth)
    assert scores["precision"] >= 0.9 and scores["recall"] >= 0.9, scores
    # What a read says is read from its text: the code said (the wrong one too) and the URL.
    said = truth.dropna(subset=["start_s"]).merge(
        reads, on=["episode_id", "start_s", "end_s"], suffixes=("_true", "")
    )
    assert len(said) >= 0.9 * len(reads)
    assert (said["promo_code"] == said["promo_code_said"]).all()
    assert (said["vanity_url"] == said["vanity_url_said"]).all()
    assert (said["position"] == said["position_said"]).all()
    assert (said["placement_id"] == said["placement_id_true"]).all()
    assert (said["brand"] == said["brand_true"]).all()
    assert reads["confidence"].between(0.5, 1.0).all()
    shows = worlds[TENANT]["staging.stg_files__episodes"].set_index("episode_id")["show_id"]
    assert (reads["show_id"] == reads["episode_id"].map(shows)).all()


def test_every_injected_fault_is_found(world) -> None:
    wh, _, worlds, _, _, _ = world
    compliance = _table(wh, "read_compliance", TENANT)
    truth = worlds[TENANT]["truth_reads"]
    # One verdict per planned placement (every episode has a transcript).
    assert sorted(compliance["placement_id"]) == sorted(truth["placement_id"])
    findings = fault_findings(compliance, truth)
    kinds = {"missing_read", "wrong_position", "wrong_promo_code"}
    assert kinds <= set(findings.index), findings  # the world holds every kind
    merged = truth.merge(compliance, on="placement_id", suffixes=("_true", ""))
    expected = merged["fault"].replace("none", "ok")
    assert (merged["status"] == expected).all(), merged[merged["status"] != expected]
    wrong = merged[merged["fault"] == "wrong_promo_code"]
    assert (wrong["detected_promo_code"] == wrong["promo_code_said"]).all()
    assert (wrong["planned_promo_code"] != wrong["detected_promo_code"]).all()
    missing = merged[merged["fault"] == "missing_read"]
    assert missing["detected_position"].isna().all()


def test_every_episode_is_described(world) -> None:
    wh, _, worlds, _, _, _ = world
    insights = _table(wh, "episode_insights", TENANT)
    episodes = worlds[TENANT]["staging.stg_files__episodes"]
    assert sorted(insights["episode_id"]) == sorted(episodes["episode_id"])
    assert insights["sentiment"].between(-1, 1).all()
    assert (insights["summary"].str.len() > 0).all()
    assert topic_overlap(insights, worlds[TENANT]["truth_topics"]) >= 0.8
    tone = worlds[TENANT]["truth_topics"].groupby("episode_id")["tone"].first()
    joined = insights.set_index("episode_id").join(tone)
    assert joined["sentiment"].corr(joined["tone"]) >= 0.7
    # No summary repeats a sponsor read.
    assert not insights["summary"].str.contains("percent off|promo code", regex=True).any()


def test_scoring_again_replaces_the_tenants_rows_only(world) -> None:
    wh, store, _, _, _, written = world
    before = {t: _table(wh, t, OTHER) for t in FAMILY.tables}
    assert all(len(rows) > 0 for rows in before.values())
    _, again = score_family(wh, store, FAMILY, TENANT)
    assert again == written
    for table in FAMILY.tables:
        pd.testing.assert_frame_equal(_table(wh, table, OTHER), before[table])


def test_a_tenant_without_transcripts_gets_no_candidate(world, tmp_path: Path) -> None:
    wh, _, _, _, _, _ = world
    store = LocalFolderStorage(tmp_path / "models")
    outcome = train_family(wh, store, FAMILY, "initech")
    assert outcome.version is None
    assert "no transcripts" in (outcome.not_enough_data or "")
