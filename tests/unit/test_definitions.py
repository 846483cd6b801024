"""Every definition loads, and the graph has the shape the design promises."""

from __future__ import annotations

import dagster as dg

from warehouse.entities import ENTITIES


def test_definitions_load_and_graph_shape() -> None:
    from pipelines.definitions import defs

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for entity in (
        "episodes",
        "campaigns",
        "placements",
        "download_requests",
        "orders",
        "site_events",
    ):
        assert f"landing/files/{entity}" in keys
        assert f"raw/{entity}" in keys
        assert f"staging/stg_files__{entity}" in keys
    for mart in (
        "fct_attribution_credits",
        "fct_campaign_performance",
        "rpt_attribution_model_comparison",
    ):
        assert f"marts/{mart}" in keys
    # Staging reads the raw tables the loader writes.
    staging = dg.AssetKey(["staging", "stg_files__orders"])
    assert dg.AssetKey(["raw", "orders"]) in graph.get(staging).parent_keys


def test_every_asset_is_partitioned_by_tenant() -> None:
    from pipelines.definitions import defs
    from pipelines.partitions import tenant_partitions

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.partitions_def == tenant_partitions, key


def test_landing_checks_block_and_writers_share_one_pool() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    check_keys = graph.asset_check_keys
    landing_checks = [
        k for k in check_keys if k.asset_key.path[0] == "landing" and k.name != "freshness"
    ]
    # one per landing entity of the file imports, one per connector stream
    from connectors.registry import CONNECTORS

    streams = sum(len(cls.streams) for cls in CONNECTORS.values())
    assert len(landing_checks) == len(ENTITIES) + streams
    for key in landing_checks:
        assert graph.get_check_spec(key).blocking, key
    # dbt tests with severity error become blocking checks too.
    dbt_checks = [k for k in check_keys if k.asset_key.path[0] in ("staging", "marts")]
    assert dbt_checks and any(graph.get_check_spec(k).blocking for k in dbt_checks)
    pools = {
        node.pool
        for node in defs.resolve_implicit_global_asset_job_def().graph.node_defs
        if any(part in node.name for part in ("raw_tables", "earshot_dbt_models"))
    }
    assert pools == {"warehouse"}


def test_every_connector_stream_is_an_asset_that_raw_loads() -> None:
    from connectors.registry import CONNECTORS
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    assert CONNECTORS, "the connectors are registered"
    # What each landed entity must reach when its platform syncs: the sync job runs everything
    # downstream of the platform's streams.
    reaches = {
        "episodes": ("marts", "rpt_download_reconciliation"),
        "host_downloads_daily": ("marts", "rpt_download_reconciliation"),
        "host_download_events": ("marts", "rpt_host_listening_mix"),
        "orders": ("marts", "fct_attribution_credits"),
        "site_events": ("marts", "rpt_signal_performance"),
        "leads": ("marts", "fct_leads"),
        "web_traffic_daily": ("marts", "rpt_web_traffic_daily"),
    }
    job_names = {job.name for job in defs.resolve_all_job_defs()}
    for cls in CONNECTORS.values():
        if not cls.streams:
            # push-only (webhooks): nothing to sync, so no sync job
            assert f"sync_{cls.platform}" not in job_names
            continue
        for stream in cls.streams:
            key = dg.AssetKey(["landing", cls.platform, stream.name])
            assert key in graph.get(dg.AssetKey(["raw", stream.entity])).parent_keys
            checks = {k.name for k in graph.asset_check_keys if k.asset_key == key}
            assert checks == {"expectation_suite", "freshness"}, (key, checks)
            assert not graph.get_check_spec(dg.AssetCheckKey(key, "freshness")).blocking
        job = defs.resolve_job_def(f"sync_{cls.platform}")
        selected = job.asset_layer.selected_asset_keys
        for stream in cls.streams:
            assert dg.AssetKey(list(reaches[stream.entity])) in selected, (cls.platform, stream)
    # the tenant pipeline leaves syncing to the connectors' own schedule
    tenant_job = defs.resolve_job_def("tenant_pipeline")
    assert not any(
        k.path[1] in CONNECTORS
        for k in tenant_job.asset_layer.selected_asset_keys
        if k.path[0] == "landing"
    )
    sensors = {s.name for s in defs.sensors}
    assert {"connector_schedule", "connector_freshness", "webhook_arrivals"} <= sensors
