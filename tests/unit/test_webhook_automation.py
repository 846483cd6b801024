"""The webhook_arrivals sensor: a tenant run when deliveries have landed, once per change."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from connectors.webhooks.deliveries import Delivery
from connectors.webhooks.inbox import Inbox
from pipelines.resources import LandingResource
from pipelines.webhook_automation import webhook_arrivals
from warehouse.landing import LandingZone


def _landed(zone: LandingZone, tenant: str, key: str) -> None:
    """A delivery that went through the inbox and was processed (counted as landed, moved to
    done), as processor._land_group does it."""
    inbox = Inbox(zone)
    delivery = Delivery("shopify", tenant, "orders/create", key, {"id": 1}, {}, "2026-11-26")
    assert inbox.put(delivery)
    [item] = [i for i in inbox.pending(tenant, "shopify") if i.document.get("key") == key]
    inbox.mark_landed(tenant, 1)
    inbox.finish(item)


def _evaluate(landing: LandingResource, instance: dg.DagsterInstance, cursor: str | None):
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"landing": landing}
    ) as context:
        return webhook_arrivals(context)


def test_a_tenant_run_follows_landed_deliveries_once(tmp_path: Path) -> None:
    landing = LandingResource(kind="local", root=str(tmp_path / "landing"))
    zone = landing.zone()
    instance = dg.DagsterInstance.ephemeral()
    assert not _evaluate(landing, instance, None).run_requests

    _landed(zone, "acme", "d1")
    _landed(zone, "acme", "d2")
    first = _evaluate(landing, instance, None)
    [request] = first.run_requests
    assert request.partition_key == "acme" and request.run_key == "webhooks:acme:2"
    assert json.loads(first.cursor) == {"acme": 2}
    # the tenant becomes a partition if it was not one yet
    assert first.dynamic_partitions_requests[0].partition_keys == ["acme"]

    assert not _evaluate(landing, instance, first.cursor).run_requests
    _landed(zone, "globex", "d3")
    later = _evaluate(landing, instance, first.cursor)
    assert [r.partition_key for r in later.run_requests] == ["globex"]
