"""Raise a tenant's alerts and send each to its rule's channels, through the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from serving.alerts.rules import Alert, warehouse_alerts
from serving.channels import build_senders
from serving.outbox import DeliveryOutcome, Sender, deliver, retry_failed
from serving.settings import ServingSettings
from warehouse.connection import Warehouse


@dataclass
class AlertRun:
    tenant_id: str
    alerts: list[Alert] = field(default_factory=list)
    outcomes: list[DeliveryOutcome] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return sum(o.status == "delivered" for o in self.outcomes)

    @property
    def failed(self) -> list[DeliveryOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def describe(self) -> str:
        skipped = sum(o.status == "skipped" for o in self.outcomes)
        return (
            f"{len(self.alerts)} alerts raised; {self.delivered} deliveries sent, "
            f"{len(self.failed)} failed, {skipped} already delivered"
        )


def send_alerts(
    wh: Warehouse, tenant_id: str, alerts: list[Alert], senders: Mapping[str, Sender]
) -> list[DeliveryOutcome]:
    outcomes = []
    for alert in alerts:
        chosen = {name: senders[name] for name in alert.channels}
        outcomes += deliver(wh, tenant_id, alert.message(), chosen)
    return outcomes


def run_alerts(
    wh: Warehouse,
    tenant_id: str,
    settings: ServingSettings,
    now: datetime | None = None,
    senders: Mapping[str, Sender] | None = None,
) -> AlertRun:
    """Raise the rules' alerts and send each to the channels that have not had it (each alert
    once per channel, whatever the number of runs); then retry what earlier runs could not
    deliver and no rule raised again (a quality gate's alert, an anomaly out of the window)."""
    senders = senders if senders is not None else build_senders(tenant_id, settings.channels)
    run = AlertRun(tenant_id)
    run.alerts = warehouse_alerts(wh, tenant_id, settings, now)
    run.outcomes += send_alerts(wh, tenant_id, run.alerts, senders)
    tried = {(o.channel, o.key) for o in run.outcomes}
    run.outcomes += retry_failed(wh, tenant_id, senders, exclude=tried)
    return run
