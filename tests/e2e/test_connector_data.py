"""A hosting connector's data in the warehouse: landed with its source records, staged into the
canonical episodes and host figures, reconciled like a file export's (both engines). Every
tenant of the session pipeline has a Buzzsprout account and a YouTube channel (tests/conftest.py);
the checks here are on the first tenant."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.conftest import CONNECTED_PLATFORM, TENANTS, BuiltPipeline
from tests.support.warehouse_query import sql

pytestmark = pytest.mark.e2e
CONNECTED_TENANT = TENANTS[0]


def test_connector_rows_reach_raw_with_their_source_records(pipeline: BuiltPipeline) -> None:
    raw = sql(
        pipeline,
        f"""
        select episode_id, _record, _source_file, _tenant_id
        from raw.episodes where _source = '{CONNECTED_PLATFORM}'
        """,
    )
    export = pq.read_table(pipeline.exports[CONNECTED_TENANT] / "episodes.parquet").to_pandas()
    raw = raw[raw["_tenant_id"] == CONNECTED_TENANT]
    assert sorted(raw["episode_id"]) == sorted(export["episode_id"])
    records = [json.loads(r) for r in raw["_record"]]
    assert all(r["guid"] == f"Buzzsprout{r['id']}" for r in records)
    # the lineage URL is the request, with nothing secret in it
    assert raw["_source_file"].str.contains("/episodes.json").all()
    assert not raw["_source_file"].str.contains("token").any()


def test_the_api_listing_keeps_the_export_file_facts(pipeline: BuiltPipeline) -> None:
    staged = sql(
        pipeline,
        f"""
        select episode_id, file_bytes, bitrate_kbps, duration_s
        from staging.stg_files__episodes where tenant_id = '{CONNECTED_TENANT}'
        """,
    )
    export = pq.read_table(pipeline.exports[CONNECTED_TENANT] / "episodes.parquet").to_pandas()
    merged = export.merge(staged, on="episode_id", validate="1:1", suffixes=("", "_staged"))
    assert len(merged) == len(export)
    assert (merged["file_bytes"] == merged["file_bytes_staged"].astype("int64")).all()
    assert (merged["bitrate_kbps"] == merged["bitrate_kbps_staged"].astype(float)).all()


def test_connector_figures_reconcile_like_the_export(pipeline: BuiltPipeline) -> None:
    recon = sql(
        pipeline,
        f"""
        select platform, episode_id, download_date, host_downloads, earshot_downloads
        from marts.rpt_download_reconciliation where tenant_id = '{CONNECTED_TENANT}'
        """,
    )
    recon["download_date"] = pd.to_datetime(recon["download_date"]).dt.date
    api = recon[recon["platform"] == CONNECTED_PLATFORM]
    export = recon[recon["platform"] == "simulated_host"]
    assert len(api) > 0 and len(api) == len(export)
    merged = api.merge(export, on=["episode_id", "download_date"], validate="1:1")
    assert (merged["host_downloads_x"].astype(int) == merged["host_downloads_y"].astype(int)).all()
    assert (
        merged["earshot_downloads_x"].astype(int) == merged["earshot_downloads_y"].astype(int)
    ).all()
    assert merged["earshot_downloads_x"].astype(int).sum() > 0


def test_raw_rows_add_up_to_the_host_daily_figures(pipeline: BuiltPipeline) -> None:
    mix = sql(
        pipeline,
        f"""
        select show_id, download_date, dimension, dimension_value, downloads,
            share_of_downloads
        from marts.rpt_host_listening_mix where tenant_id = '{CONNECTED_TENANT}'
        """,
    )
    host = sql(
        pipeline,
        f"""
        select show_id, report_date as download_date, sum(downloads) as downloads
        from staging.stg_files__host_downloads_daily
        where tenant_id = '{CONNECTED_TENANT}' and platform = '{CONNECTED_PLATFORM}'
        group by show_id, report_date
        """,
    )
    assert len(mix) > 0
    for frame in (mix, host):
        frame["download_date"] = pd.to_datetime(frame["download_date"]).dt.date
        frame["downloads"] = frame["downloads"].astype(int)
    for dimension, rows in mix.groupby("dimension"):
        totals = rows.groupby(["show_id", "download_date"])["downloads"].sum().reset_index()
        merged = host.merge(totals, on=["show_id", "download_date"], how="outer", validate="1:1")
        assert (merged["downloads_x"] == merged["downloads_y"]).all(), dimension
        shares = rows.groupby(["show_id", "download_date"])["share_of_downloads"].sum()
        assert ((shares.astype(float) - 1.0).abs() < 1e-9).all(), dimension
    assert "unknown" in set(mix.loc[mix["dimension"] == "app", "dimension_value"])


def test_youtube_views_are_reported_as_views_not_reconciled(pipeline: BuiltPipeline) -> None:
    from tests.fakes.catalog import catalog_from_export
    from tests.fakes.youtube import youtube_catalog

    export = catalog_from_export(pipeline.exports[CONNECTED_TENANT])
    first = min(day for _, day in export.downloads)
    last = max(day for _, day in export.downloads)
    videos = youtube_catalog(first, (last - first).days + 1, seed=7)
    views = sql(
        pipeline,
        f"""
        select video_id, view_date, views, video_title, channel_id
        from marts.fct_video_views_daily where tenant_id = '{CONNECTED_TENANT}'
        """,
    )
    views["view_date"] = pd.to_datetime(views["view_date"]).dt.date
    got = {(r.video_id, r.view_date): int(r.views) for r in views.itertuples()}
    assert got == videos.expected_downloads(first, last)
    titles = {e.episode_id: e.title for e in videos.episodes}
    assert all(titles[r.video_id] == r.video_title for r in views.itertuples())
    assert set(views["channel_id"]) == {videos.shows[0].show_id}
    reconciled = sql(
        pipeline,
        "select count(*) as n from marts.rpt_download_reconciliation where platform = 'youtube'",
    )
    assert int(reconciled["n"].iloc[0]) == 0
