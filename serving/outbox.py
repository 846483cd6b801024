"""Every message Earshot sends, and what became of it: ``serving.deliveries``.

One row per (tenant, channel, message key). A message is sent at most once per channel: a re-run
that raises the same alert again finds its row delivered and sends nothing. A delivery that
failed after its retries is recorded with the reason and its payload, and the next run sends it
again (``retry_failed``) until it gets through or fails permanently (a revoked token, an unknown
channel: those need a person, and the row says why). Nothing is dropped silently: the serving
assets' check fails while a tenant has undelivered messages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from models_ml.tables import secure_table
from serving.delivery.message import Message
from serving.delivery.retry import DeliveryError, Receipt
from warehouse.connection import Warehouse

SCHEMA = "serving"
TABLE = f"{SCHEMA}.deliveries"
# Runs in which a failed, non-permanent delivery is tried again before it is left for a person.
MAX_RUNS = 5


class Sender(Protocol):
    name: str
    kind: str

    def send(self, message: Message) -> Receipt: ...


@dataclass(frozen=True)
class DeliveryOutcome:
    channel: str
    key: str
    status: str  # delivered | failed | skipped (already delivered)
    attempts: int
    detail: str
    permanent: bool = False

    def describe(self) -> str:
        return f"{self.channel}: {self.status} ({self.detail})"


def ensure_deliveries_table(wh: Warehouse) -> None:
    wh.execute(f"create schema if not exists {SCHEMA}")
    wh.execute(
        f"create table if not exists {TABLE} ("
        " delivery_id text primary key,"
        " tenant_id text not null,"
        " channel text not null,"
        " channel_kind text not null,"
        " event text not null,"
        " message_key text not null,"
        " title text not null,"
        " status text not null,"
        " permanent boolean not null,"
        " attempts integer not null,"
        " runs integer not null,"
        " last_error text,"
        " detail text,"
        " payload text not null,"
        " first_attempt_at timestamp not null,"
        " last_attempt_at timestamp not null,"
        " delivered_at timestamp"
        ")"
    )
    secure_table(wh, "deliveries", SCHEMA)


def delivery_id(tenant_id: str, channel: str, key: str) -> str:
    return hashlib.sha256(f"{tenant_id}\x1f{channel}\x1f{key}".encode()).hexdigest()[:32]


def message_payload(message: Message) -> str:
    # Attachments are not kept: a report's PDF is rebuilt from the warehouse, not stored twice.
    return json.dumps(
        {
            "title": message.title,
            "text": message.text,
            "event": message.event,
            "severity": message.severity,
            "fields": [list(pair) for pair in message.fields],
            "link": message.link,
            "key": message.key,
            "tenant_id": message.tenant_id,
        }
    )


def message_from_payload(payload: str) -> Message:
    data = json.loads(payload)
    data["fields"] = tuple(tuple(pair) for pair in data["fields"])
    return Message(**data)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def deliver(
    wh: Warehouse, tenant_id: str, message: Message, senders: Mapping[str, Sender]
) -> list[DeliveryOutcome]:
    """Send ``message`` to each channel that has not delivered it yet; record every outcome."""
    if not message.key:
        raise ValueError(f"message {message.title!r} has no key: it could be sent twice")
    ensure_deliveries_table(wh)
    outcomes = []
    for name, sender in senders.items():
        row = _row(wh, tenant_id, name, message.key)
        if row is not None and row["status"] == "delivered":
            outcomes.append(DeliveryOutcome(name, message.key, "skipped", 0, "delivered before"))
            continue
        outcomes.append(_attempt(wh, tenant_id, name, sender, message, row))
    return outcomes


def retry_failed(
    wh: Warehouse,
    tenant_id: str,
    senders: Mapping[str, Sender],
    exclude: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
) -> list[DeliveryOutcome]:
    """Send again the tenant's failed, non-permanent deliveries (fewer than MAX_RUNS tries) to
    channels that still exist, but those in ``exclude`` (channel, key): tried in this run
    already. The message is rebuilt from its recorded payload."""
    ensure_deliveries_table(wh)
    rows = wh.fetch(
        f"select channel, message_key, payload from {TABLE}"
        " where tenant_id = ? and status = 'failed' and not permanent and runs < ?"
        " order by first_attempt_at, channel",
        [tenant_id, MAX_RUNS],
    )
    outcomes = []
    for channel, key, payload in rows:
        sender = senders.get(channel)
        if sender is None or (channel, key) in exclude:
            continue
        message = message_from_payload(payload)
        outcomes.append(
            _attempt(wh, tenant_id, channel, sender, message, _row(wh, tenant_id, channel, key))
        )
    return outcomes


def undelivered(wh: Warehouse, tenant_id: str) -> list[tuple[str, str, str, str | None]]:
    """(channel, message key, title, last error) of every delivery still failed."""
    ensure_deliveries_table(wh)
    return [
        tuple(r)
        for r in wh.fetch(
            f"select channel, message_key, title, last_error from {TABLE}"
            " where tenant_id = ? and status = 'failed' order by last_attempt_at",
            [tenant_id],
        )
    ]


_ROW_COLUMNS = ("status", "attempts", "runs", "first_attempt_at")


def _row(wh: Warehouse, tenant_id: str, channel: str, key: str) -> dict | None:
    rows = wh.fetch(
        f"select {', '.join(_ROW_COLUMNS)} from {TABLE} where delivery_id = ?",
        [delivery_id(tenant_id, channel, key)],
    )
    return dict(zip(_ROW_COLUMNS, rows[0], strict=True)) if rows else None


def _attempt(
    wh: Warehouse,
    tenant_id: str,
    channel: str,
    sender: Sender,
    message: Message,
    previous: dict | None,
) -> DeliveryOutcome:
    try:
        receipt = sender.send(message)
    except DeliveryError as exc:
        outcome = DeliveryOutcome(
            channel, message.key, "failed", exc.attempts, str(exc), permanent=exc.permanent
        )
    else:
        outcome = DeliveryOutcome(
            channel, message.key, "delivered", receipt.attempts, receipt.detail
        )
    _record(wh, tenant_id, channel, sender.kind, message, outcome, previous)
    return outcome


def _record(
    wh: Warehouse,
    tenant_id: str,
    channel: str,
    kind: str,
    message: Message,
    outcome: DeliveryOutcome,
    previous: dict | None,
) -> None:
    now = _now()
    delivered = outcome.status == "delivered"
    row = {
        "delivery_id": delivery_id(tenant_id, channel, message.key),
        "tenant_id": tenant_id,
        "channel": channel,
        "channel_kind": kind,
        "event": message.event,
        "message_key": message.key,
        "title": message.title,
        "status": outcome.status,
        "permanent": outcome.permanent,
        "attempts": outcome.attempts + (previous["attempts"] if previous else 0),
        "runs": 1 + (previous["runs"] if previous else 0),
        "last_error": None if delivered else outcome.detail,
        "detail": outcome.detail if delivered else None,
        "payload": message_payload(message),
        "first_attempt_at": previous["first_attempt_at"] if previous else now,
        "last_attempt_at": now,
        "delivered_at": now if delivered else None,
    }
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    with wh.transaction():
        wh.execute(f"delete from {TABLE} where delivery_id = ?", [row["delivery_id"]])
        wh.execute(f"insert into {TABLE} ({columns}) values ({marks})", list(row.values()))
