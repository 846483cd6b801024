"""The ML stage end to end: `earshot ml run` for both session tenants on each engine, then the
registry, the gate and every family's tables against the simulated worlds' truth."""

from __future__ import annotations

import json
import re
import subprocess

import pandas as pd
import pytest

from tests.conftest import TENANTS, BuiltPipeline
from tests.support.warehouse_query import sql

# One ML run per engine and tenant for the whole session (the pipelines are session-wide too).
_RUNS: dict[str, dict[str, subprocess.CompletedProcess[str]]] = {}
# The session's tiny worlds are too small for these families: they say so (NotEnoughData), the
# gate fails and blocks their scoring, and the run reports it. The demo preset trains them.
TOO_SMALL = {
    "churn": r"an honest verdict needs at least 100 of each",
    "roi": r"\d+ mature placements with a cost; training and evaluating needs at least",
    "forecasts": r"Poisson noise alone would give a perfect forecast a conversions WAPE of",
}
# Tables that may rightly be empty for a tenant: the tiny worlds plant no anomaly.
MAY_BE_EMPTY = {"anomalies"}


@pytest.fixture
def ml_pipeline(pipeline: BuiltPipeline) -> BuiltPipeline:
    if pipeline.warehouse not in _RUNS:
        _RUNS[pipeline.warehouse] = {
            tenant: pipeline.earshot("ml", "run", "--tenant", tenant, check=False)
            for tenant in TENANTS
        }
    return pipeline


def _versions(pipeline: BuiltPipeline) -> pd.DataFrame:
    return sql(
        pipeline,
        "select tenant_id, model_name, model_version, promoted, metric, metrics,"
        " baseline_metrics, verdict, training_rows, holdout_rows from ml.model_versions",
    )


def test_every_model_is_trained_gated_and_promoted(ml_pipeline: BuiltPipeline) -> None:
    from models_ml.families import FAMILIES

    for tenant, run in _RUNS[ml_pipeline.warehouse].items():
        failed = [line for line in run.stdout.splitlines() if "failed check:" in line]
        assert sorted(line.split()[2] for line in failed) == sorted(
            f"ml/{name}_model" for name in TOO_SMALL
        ), f"{tenant}\n{run.stdout}\n{run.stderr}"
        for name, reason in TOO_SMALL.items():
            (line,) = [line for line in failed if f"ml/{name}_model" in line]
            assert re.search(reason, line), line
        assert run.returncode == (1 if TOO_SMALL else 0)
    versions = _versions(ml_pipeline)
    for tenant in TENANTS:
        mine = versions[versions.tenant_id == tenant]
        assert set(mine.model_name) == set(FAMILIES) - set(TOO_SMALL), tenant
        for row in mine.itertuples():
            assert row.promoted, f"{tenant} {row.model_version}: {row.verdict}"
            ours = json.loads(row.metrics)[row.metric]
            theirs = json.loads(row.baseline_metrics)[row.metric]
            assert ours != theirs and row.holdout_rows > 0 and row.training_rows > 0
            assert "beats" in row.verdict


def test_a_model_that_cannot_be_judged_scores_nothing(ml_pipeline: BuiltPipeline) -> None:
    from models_ml.families import FAMILIES

    tables = sql(
        ml_pipeline,
        "select table_name from information_schema.tables where table_schema = 'ml'",
    )
    for name in TOO_SMALL:
        for table in FAMILIES[name].tables:
            assert table not in set(tables.table_name), f"ml.{table} was written"


def test_every_scored_row_names_the_serving_version(ml_pipeline: BuiltPipeline) -> None:
    from models_ml.families import FAMILIES

    versions = _versions(ml_pipeline)
    for family in FAMILIES.values():
        if family.name in TOO_SMALL:
            continue
        for table in family.tables:
            scored = sql(
                ml_pipeline,
                f"select tenant_id, model_version, count(*) as n from ml.{table} group by 1, 2",
            )
            for tenant in TENANTS:
                serving = versions[
                    (versions.tenant_id == tenant)
                    & (versions.model_name == family.name)
                    & versions.promoted
                ].model_version.max()
                mine = scored[scored.tenant_id == tenant]
                if table in MAY_BE_EMPTY and mine.empty:
                    continue
                assert list(mine.model_version) == [serving], f"ml.{table} {tenant}"
                assert int(mine.n.iloc[0]) > 0, f"ml.{table} {tenant}"


def test_sponsor_reads_and_their_faults_match_the_truth(ml_pipeline: BuiltPipeline) -> None:
    from models_ml.transcripts.backtest import read_detection, topic_overlap

    for tenant in TENANTS:
        truth_dir = ml_pipeline.exports[tenant] / "_truth"
        reads_truth = pd.read_csv(truth_dir / "transcript_reads.csv")
        detected = sql(
            ml_pipeline,
            "select episode_id, start_s, end_s, promo_code, placement_id from ml.sponsor_reads"
            f" where tenant_id = '{tenant}'",
        )
        found = read_detection(detected, reads_truth)
        assert found["precision"] >= 0.9 and found["recall"] >= 0.9, (tenant, found)
        compliance = sql(
            ml_pipeline,
            f"select placement_id, status from ml.read_compliance where tenant_id = '{tenant}'",
        )
        placements = pd.read_parquet(ml_pipeline.exports[tenant] / "placements.parquet")
        assert sorted(compliance.placement_id) == sorted(placements.placement_id)
        expected = reads_truth.set_index("placement_id")["fault"].replace({"none": "ok"})
        judged = compliance.set_index("placement_id")["status"]
        assert (judged.sort_index() == expected.sort_index()).all(), tenant
        assert set(expected) - {"ok"}, f"{tenant}: the world injected no fault to find"
        insights = sql(
            ml_pipeline,
            "select episode_id, topics, sentiment, summary from ml.episode_insights"
            f" where tenant_id = '{tenant}'",
        )
        assert insights.sentiment.between(-1, 1).all()
        assert (insights.summary.str.len() > 0).all()
        topics_truth = pd.read_csv(truth_dir / "transcript_topics.csv")
        assert topic_overlap(insights, topics_truth) >= 0.8, tenant


def test_anomalies_are_judged_on_floods_and_well_formed(ml_pipeline: BuiltPipeline) -> None:
    versions = _versions(ml_pipeline)
    for tenant in TENANTS:
        (row,) = versions[
            (versions.tenant_id == tenant) & (versions.model_name == "anomalies")
        ].itertuples()
        assert row.metric == "f1_at_fp_budget"
        ours, theirs = json.loads(row.metrics), json.loads(row.baseline_metrics)
        assert ours["recall_flood_at_fp_budget"] > theirs["recall_flood_at_fp_budget"], tenant
    anomalies = sql(ml_pipeline, "select * from ml.anomalies")
    assert list(anomalies.columns) == [
        "anomaly_id", "tenant_id", "detected_at_day", "metric", "entity_type", "entity_id",
        "scope_type", "scope_id", "observed", "expected", "expected_low", "expected_high",
        "score", "severity", "kind", "explanation", "model_version",
    ]  # fmt: skip
    assert anomalies.anomaly_id.is_unique
    assert set(anomalies.metric) <= {"downloads", "conversions", "spend", "traffic_share"}
    assert set(anomalies.severity) <= {"critical", "high", "medium", "low"}
    assert set(anomalies.kind) <= {"spike", "drop", "concentration"}
    assert (anomalies.score > 1).all()
    assert (anomalies.expected_low <= anomalies.expected).all()
    assert (anomalies.expected <= anomalies.expected_high).all()
    # The tiny worlds plant no anomaly: a handful of low alerts at most.
    assert (anomalies.groupby("tenant_id").size() <= 5).all()
