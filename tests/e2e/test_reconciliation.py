"""Reconciliation with the host's own figures, on the simulated worlds of the session pipeline.

The simulator reports the host's downloads per episode and day with a seeded disagreement and
records, in its ground truth, the true host count and which days it mis-reported by more than
5% (connectors/simulator/host_reports.py). Each tenant's figures arrive a second time through a
connector (tests/conftest.py serves them from a fake Buzzsprout). Here the built
rpt_download_reconciliation is checked against that truth and against a hand computation from
the tables it reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from tests.conftest import CONNECTED_PLATFORM, TENANTS, BuiltPipeline
from tests.support.warehouse_query import sql

pytestmark = pytest.mark.e2e

KEY = ["tenant_id", "platform", "episode_id", "download_date"]


def _reconciliation(p: BuiltPipeline) -> pd.DataFrame:
    frame = sql(p, "select * from marts.rpt_download_reconciliation")
    frame["download_date"] = pd.to_datetime(frame["download_date"]).dt.date
    for column in ("host_downloads", "earshot_downloads", "difference"):
        frame[column] = frame[column].astype(np.int64)
    for column in ("within_tolerance", "is_alert"):
        frame[column] = frame[column].astype(bool)
    return frame


def _truth(p: BuiltPipeline) -> pd.DataFrame:
    frames = []
    for tenant in TENANTS:
        export = p.exports[tenant]
        report = pq.read_table(export / "host_downloads_daily.parquet").to_pandas()
        truth = pa_csv.read_csv(export / "_truth" / "host_downloads.csv").to_pandas()
        truth["date"] = pd.to_datetime(truth["date"]).dt.date
        merged = report.merge(truth, on=["platform", "episode_id", "date"], validate="1:1")
        frames.append(merged.assign(tenant_id=tenant))
        # The same figures again, synced from the host's API by its connector.
        frames.append(merged.assign(tenant_id=tenant, platform=CONNECTED_PLATFORM))
    out = pd.concat(frames, ignore_index=True)
    return out.rename(columns={"date": "download_date"})


def test_one_row_per_host_figure_with_the_host_numbers(pipeline: BuiltPipeline) -> None:
    recon = _reconciliation(pipeline)
    truth = _truth(pipeline)
    assert set(recon["tenant_id"]) == set(TENANTS)
    merged = truth.merge(recon, on=KEY, how="outer", validate="1:1", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged["host_downloads"] == merged["downloads"]).all()
    assert (merged["show_id_x"] == merged["show_id_y"]).all()
    assert set(recon["count_window"]) == {"calendar_day"}


def test_most_days_agree_and_the_misreported_days_are_flagged(pipeline: BuiltPipeline) -> None:
    recon = _reconciliation(pipeline)
    merged = _truth(pipeline).merge(recon, on=KEY, validate="1:1")
    for tenant, rows in merged.groupby("tenant_id"):
        # Both count IAB downloads of the same log: most episode-days within +/-5%.
        assert rows["within_tolerance"].mean() >= 0.85, (tenant, rows["within_tolerance"].mean())
        injected = rows[rows["misreported"]]
        assert len(injected) >= 1, tenant
        # Where Earshot found the host's true count, the injected error is all that differs,
        # and it is more than 5% of the host's figure by construction: flagged, every one.
        agreed = injected[injected["earshot_downloads"] == injected["true_downloads"]]
        assert len(agreed) >= 0.7 * len(injected), (tenant, len(agreed), len(injected))
        assert not agreed["within_tolerance"].any(), agreed
        # And the calm days Earshot counted exactly as the host did stay within tolerance.
        calm = rows[~rows["misreported"] & (rows["earshot_downloads"] == rows["true_downloads"])]
        assert len(calm) > 0.8 * (~rows["misreported"]).sum()
        assert calm["within_tolerance"].all()


def test_numbers_match_a_hand_query(pipeline: BuiltPipeline) -> None:
    hand = sql(
        pipeline,
        """
        select
            h.tenant_id,
            h.platform,
            h.episode_id,
            h.report_date as download_date,
            h.downloads as host,
            coalesce(f.downloads, 0) as earshot
        from staging.stg_files__host_downloads_daily as h
        left join marts.fct_episode_downloads_daily as f
            on f.tenant_id = h.tenant_id
            and f.episode_id = h.episode_id
            and f.download_date = h.report_date
            and f.count_window = 'calendar_day'
        where h.platform <> 'youtube'
        """,
    )
    hand["download_date"] = pd.to_datetime(hand["download_date"]).dt.date
    hand["host"] = hand["host"].astype(np.int64)
    hand["earshot"] = hand["earshot"].astype(np.int64)
    recon = _reconciliation(pipeline)
    merged = hand.merge(recon, on=KEY, how="outer", validate="1:1", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["earshot_downloads"] == merged["earshot"]).all()
    assert (merged["difference"] == merged["earshot"] - merged["host"]).all()
    positive = merged[merged["host"] > 0]
    expected_pct = 100.0 * (positive["earshot"] - positive["host"]) / positive["host"]
    assert np.allclose(positive["difference_pct"].astype(float), expected_pct, rtol=0, atol=1e-9)
    assert merged.loc[merged["host"] == 0, "difference_pct"].isna().all()
    within = (merged["earshot"] - merged["host"]).abs() * 100 <= 5 * merged["host"]
    assert (merged["within_tolerance"] == within).all()
    alert = ~within & (np.maximum(merged["host"], merged["earshot"]) >= 50)
    assert (merged["is_alert"] == alert).all()
    # The worlds are tiny (a handful of downloads per episode and day): differences of one
    # download are many percent, and the 50-download minimum keeps them from alerting.
    assert not merged["is_alert"].any()
    assert (~merged["within_tolerance"]).any()


def test_the_alert_runs_as_a_warning_check(pipeline: BuiltPipeline) -> None:
    logs = "\n".join(
        path.read_text(errors="replace") for path in sorted((pipeline.home / "logs").glob("*.log"))
    )
    assert "rpt_download_reconciliation_no_alerts" in logs


def test_show_roll_up_sums_the_episode_rows(pipeline: BuiltPipeline) -> None:
    episodes = _reconciliation(pipeline)
    shows = sql(pipeline, "select * from marts.rpt_download_reconciliation_show_daily")
    shows["download_date"] = pd.to_datetime(shows["download_date"]).dt.date
    group = ["tenant_id", "platform", "show_id", "download_date"]
    expected = (
        episodes.groupby(group)
        .agg(
            episodes=("episode_id", "count"),
            host=("host_downloads", "sum"),
            earshot=("earshot_downloads", "sum"),
        )
        .reset_index()
    )
    merged = expected.merge(shows, on=group, how="outer", validate="1:1", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["episodes_x"] == merged["episodes_y"].astype(np.int64)).all()
    assert (merged["host"] == merged["host_downloads"].astype(np.int64)).all()
    assert (merged["earshot"] == merged["earshot_downloads"].astype(np.int64)).all()
    within = (merged["earshot"] - merged["host"]).abs() * 100 <= 5 * merged["host"]
    assert (merged["within_tolerance"].astype(bool) == within).all()
