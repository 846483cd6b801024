"""The durable webhook inbox, kept in the landing zone's storage (a folder, or S3)::

    <tenant>/_webhooks/<platform>/pending/<name>.json   received, not yet landed
    <tenant>/_webhooks/<platform>/done/<name>.json      landed
    <tenant>/_webhooks/<platform>/failed/<name>.json    given up on, with the reasons
    <tenant>/_webhooks/landed.json                      how many deliveries have landed so far

``<name>`` is a digest of the platform's delivery key: keys come from senders and are never
used as paths. A delivery is written (atomically: a local file is fsynced and renamed, an S3
object is one PUT) before the receiver acknowledges it, so an acknowledged delivery is never
lost; a key already pending, done or failed is a redelivery and is not stored again.

``landed.json`` changes whenever a drain lands deliveries of the tenant: one small read tells
the Dagster sensor whether there is anything new, without listing every done delivery.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from connectors.webhooks.deliveries import Delivery
from warehouse.landing import LandingZone

ROOT = "_webhooks"
PENDING = "pending"
DONE = "done"
FAILED = "failed"
STATES = (PENDING, DONE, FAILED)
LANDED_MARKER = "landed.json"
DOCUMENT_VERSION = 1


def file_name(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40] + ".json"


@dataclass
class Stored:
    """A delivery in the inbox: where it is and its document."""

    path: str
    document: dict[str, Any]

    @property
    def received_at(self) -> str:
        return str(self.document.get("received_at", ""))


class Inbox:
    def __init__(self, zone: LandingZone) -> None:
        self.zone = zone
        self.storage = zone.storage

    def folder(self, tenant: str, platform: str, state: str) -> str:
        return f"{tenant}/{ROOT}/{platform}/{state}"

    def put(self, delivery: Delivery) -> bool:
        """Store ``delivery`` as pending; False (nothing written) when its key is known."""
        self.zone.check_scope(delivery.tenant)
        name = file_name(delivery.key)
        for state in STATES:
            if self.storage.exists(
                f"{self.folder(delivery.tenant, delivery.platform, state)}/{name}"
            ):
                return False
        document = {
            "version": DOCUMENT_VERSION,
            **asdict(delivery),
            "attempts": 0,
            "errors": [],
            "group": None,
        }
        self._write(f"{self.folder(delivery.tenant, delivery.platform, PENDING)}/{name}", document)
        return True

    def _write(self, path: str, document: dict[str, Any]) -> None:
        data = json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")
        with self.storage.open_write(path) as handle:
            handle.write(data)

    def _read(self, path: str) -> dict[str, Any]:
        with self.storage.open_read(path) as handle:
            return json.loads(handle.read())

    # -- processing ------------------------------------------------------------------------------

    def tenants(self) -> list[str]:
        return [t for t in self.zone.tenants() if self.storage.list_children(f"{t}/{ROOT}")]

    def platforms(self, tenant: str) -> list[str]:
        return sorted(self.storage.list_children(f"{tenant}/{ROOT}"))

    def pending(self, tenant: str, platform: str) -> list[Stored]:
        """Pending deliveries, oldest first (ties by name: a stable order)."""
        items = [
            Stored(path, self._read(path))
            for path in self.storage.list_files(
                self.folder(tenant, platform, PENDING), suffix=".json"
            )
        ]
        return sorted(items, key=lambda s: (s.received_at, s.path))

    def stamp(self, item: Stored, group: str) -> None:
        """Record the group of deliveries ``item`` lands with (kept across a crash)."""
        item.document["group"] = group
        self._write(item.path, item.document)

    def finish(self, item: Stored) -> None:
        self.storage.move(item.path, item.path.replace(f"/{PENDING}/", f"/{DONE}/"))

    def fail(self, item: Stored, reason: str, max_attempts: int) -> bool:
        """Count a failed attempt; True when it was the last and the delivery moved to failed/."""
        item.document["attempts"] = int(item.document.get("attempts", 0)) + 1
        item.document["errors"] = [*item.document.get("errors", []), reason][-10:]
        item.document["group"] = None
        self._write(item.path, item.document)
        if item.document["attempts"] >= max_attempts:
            self.storage.move(item.path, item.path.replace(f"/{PENDING}/", f"/{FAILED}/"))
            return True
        return False

    def requeue_failed(self, tenant: str, platform: str) -> int:
        """Move every failed delivery back to pending with its attempts reset."""
        moved = 0
        for path in self.storage.list_files(self.folder(tenant, platform, FAILED), suffix=".json"):
            document = self._read(path)
            document["attempts"] = 0
            self._write(path, document)
            self.storage.move(path, path.replace(f"/{FAILED}/", f"/{PENDING}/"))
            moved += 1
        return moved

    def counts(self, tenant: str) -> dict[str, dict[str, int]]:
        """Deliveries per platform and state."""
        return {
            platform: {
                state: len(
                    self.storage.list_files(self.folder(tenant, platform, state), suffix=".json")
                )
                for state in STATES
            }
            for platform in self.platforms(tenant)
        }

    def failed_count(self, tenant: str) -> int:
        """Deliveries given up on, over every platform (only failed/ folders are listed)."""
        return sum(
            len(self.storage.list_files(self.folder(tenant, platform, FAILED), suffix=".json"))
            for platform in self.platforms(tenant)
        )

    def landed_marker(self, tenant: str) -> int:
        """How many deliveries of ``tenant`` have landed so far; 0 before the first."""
        path = f"{tenant}/{ROOT}/{LANDED_MARKER}"
        if not self.storage.exists(path):
            return 0
        return int(self._read(path).get("landed", 0))

    def mark_landed(self, tenant: str, deliveries: int) -> int:
        """Add ``deliveries`` to the tenant's landed counter (written atomically); the new
        count. Drains run one at a time (processor.drain_lock), so nothing races the update."""
        landed = self.landed_marker(tenant) + deliveries
        self._write(f"{tenant}/{ROOT}/{LANDED_MARKER}", {"landed": landed})
        return landed

    def failed(self, tenant: str, platform: str) -> list[Stored]:
        return [
            Stored(path, self._read(path))
            for path in self.storage.list_files(
                self.folder(tenant, platform, FAILED), suffix=".json"
            )
        ]
