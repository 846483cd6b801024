"""The reconciliation alert is a Dagster asset check of the mart that warns and never blocks."""

from __future__ import annotations


def test_the_alert_is_a_non_blocking_check_of_the_mart() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    checks = {k.name: k for k in graph.asset_check_keys}
    key = checks["rpt_download_reconciliation_no_alerts"]
    assert key.asset_key.path[-1] == "rpt_download_reconciliation"
    assert not graph.get_check_spec(key).blocking
    # The host figures have their landing suite like every entity, and it blocks: on the file
    # import's asset, and on every connector's stream that lands them.
    from connectors.registry import CONNECTORS

    landing = [
        k
        for k in graph.asset_check_keys
        if k.asset_key.path[0] == "landing"
        and k.asset_key.path[-1] == "host_downloads_daily"
        and k.name == "expectation_suite"
    ]
    hosts = {
        platform
        for platform, cls in CONNECTORS.items()
        if any(s.entity == "host_downloads_daily" for s in cls.streams)
    }
    assert {k.asset_key.path[1] for k in landing} == {"files", *hosts}
    assert all(graph.get_check_spec(k).blocking for k in landing)
