"""Drain the inbox: each pending delivery through its platform's connector into landing.

Per tenant and platform, one drain:

1. reads the pending deliveries, oldest first;
2. stamps each with the *group* it lands with (rewriting its inbox document), unless it already
   carries one from a drain that crashed: a stamped group is landed again as the same group;
3. asks the connector for each delivery's stream and records (``webhook_records``: the payload
   itself, or the object fetched from the API for a thin notification); a delivery whose
   records cannot be had (API down) counts a failed attempt and stays pending, one with a
   topic the connector does not receive or one the connector calls unusable (``RecordError``:
   no object id, the object was deleted) moves to ``failed/`` at once;
4. lands each stream's records of the group in one landing transaction (``land_records``:
   validation, quarantine of bad records);
5. only then adds them to the tenant's landed marker (``Inbox.landed_marker``, which the
   Dagster sensor watches) and moves the group's deliveries to ``done/``.

A crash between 4 and 5 leaves the deliveries pending with their group stamp; the next drain
lands the same group again. Landing's batch id is a digest of the rows' content, so when the
connector returns the same rows (payload-carried objects: Shopify, WooCommerce, Meta) the
batch replaces the file it wrote before and no row is duplicated. A thin notification is
fetched again and may land a newer version of the object, as any update would.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from connectors.framework.connector import Connector, SourceRecord, Stream
from connectors.framework.errors import RecordError
from connectors.framework.runtime import build_connector
from connectors.framework.sync import land_records
from connectors.webhooks.inbox import Inbox, Stored
from warehouse.landing import LandingZone
from warehouse.settings import paths

log = logging.getLogger(__name__)
DEFAULT_MAX_ATTEMPTS = 5

ConnectorFactory = Callable[[str, str], Connector]
# Test hook: called after a stream's group has landed and before its deliveries move to done/.
LandedHook = Callable[[str, str, Stream], None]


@dataclass
class DrainReport:
    tenant: str
    platform: str
    deliveries: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    done: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def format(self) -> str:
        line = (
            f"{self.tenant} {self.platform}: {self.deliveries} deliveries, {self.done} done "
            f"({self.rows_landed} rows landed, {self.rows_quarantined} quarantined), "
            f"{self.retrying} to retry, {self.failed} failed"
        )
        for error in self.errors[:5]:
            line += f"\n    {error}"
        return line


def default_factory(folder: Path | None = None) -> ConnectorFactory:
    def build(tenant: str, platform: str) -> Connector:
        return build_connector(tenant, platform, folder)

    return build


@contextlib.contextmanager
def drain_lock() -> Iterator[None]:
    """One drain at a time on this machine (the receiver's thread and ``earshot webhooks
    drain``): two drains of the same deliveries would each land them."""
    lock = paths().home / "webhooks-drain.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def drain(
    zone: LandingZone,
    *,
    tenant: str | None = None,
    platform: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    factory: ConnectorFactory | None = None,
    after_landing: LandedHook | None = None,
) -> list[DrainReport]:
    """Drain the pending deliveries of ``tenant`` (default every tenant) and ``platform``."""
    inbox = Inbox(zone)
    build = factory or default_factory()
    reports = []
    with drain_lock():
        for t in [tenant] if tenant else inbox.tenants():
            for p in [platform] if platform else inbox.platforms(t):
                items = inbox.pending(t, p)
                if items:
                    reports.append(
                        _drain_platform(
                            inbox, zone, t, p, items, max_attempts, build, after_landing
                        )
                    )
    return reports


def _groups(items: list[Stored]) -> list[list[Stored]]:
    """Groups stamped by a drain that did not finish, each as it was, then the rest as one."""
    stamped: dict[str, list[Stored]] = {}
    fresh: list[Stored] = []
    for item in items:
        group = item.document.get("group")
        if group:
            stamped.setdefault(str(group), []).append(item)
        else:
            fresh.append(item)
    return list(stamped.values()) + ([fresh] if fresh else [])


def _drain_platform(
    inbox: Inbox,
    zone: LandingZone,
    tenant: str,
    platform: str,
    items: list[Stored],
    max_attempts: int,
    build: ConnectorFactory,
    after_landing: LandedHook | None,
) -> DrainReport:
    report = DrainReport(tenant, platform, deliveries=len(items))
    try:
        connector = build(tenant, platform)
    except Exception as exc:  # settings, credentials: every delivery waits for a fix
        reason = f"cannot build the {platform} connector: {exc}"
        report.errors.append(reason)
        for item in items:
            _failed(inbox, item, reason, max_attempts, report)
        return report
    for group in _groups(items):
        _land_group(inbox, zone, connector, group, max_attempts, after_landing, report)
    return report


def _land_group(
    inbox: Inbox,
    zone: LandingZone,
    connector: Connector,
    group: list[Stored],
    max_attempts: int,
    after_landing: LandedHook | None,
    report: DrainReport,
) -> None:
    name = group[0].document.get("group") or uuid.uuid4().hex
    for item in group:
        if item.document.get("group") != name:
            inbox.stamp(item, name)
    by_stream: dict[str, tuple[Stream, list[Stored], list[SourceRecord]]] = {}
    for item in group:
        document = item.document
        if document["topic"] not in connector.webhook_topics:
            # Checked here once for every platform: a topic the connector does not map can
            # never become records, however often it is asked.
            _failed(
                inbox,
                item,
                f"unusable delivery: {connector.display_name} receives no webhook topic "
                f"{document['topic']!r} (only {', '.join(connector.webhook_topics) or 'none'})",
                1,
                report,
            )
            continue
        try:
            stream, records = connector.webhook_records(document["topic"], document["payload"])
        except RecordError as exc:
            # The delivery itself is unusable (no object id, the object is gone): asking again
            # cannot help, so it is set aside at once with its reason.
            _failed(inbox, item, f"unusable delivery: {exc}", 1, report)
            continue
        except Exception as exc:  # the API is down, the credentials were refused: retried
            _failed(inbox, item, f"{type(exc).__name__}: {exc}", max_attempts, report)
            continue
        entry = by_stream.setdefault(stream.name, (stream, [], []))
        entry[1].append(item)
        entry[2].extend(records)
    for stream_name in sorted(by_stream):
        stream, stored, records = by_stream[stream_name]
        try:
            landed, quarantined, _, _, _ = land_records(
                connector,
                zone,
                stream,
                records,
                label=f"webhook deliveries of group {name}",
                cursor=f"webhook:{name}",
            )
        except Exception as exc:
            reason = f"landing {stream.name} failed: {type(exc).__name__}: {exc}"
            report.errors.append(reason)
            for item in stored:
                _failed(inbox, item, reason, max_attempts, report)
            continue
        report.rows_landed += landed
        report.rows_quarantined += quarantined
        if after_landing is not None:
            after_landing(connector.tenant_id, connector.platform, stream)
        # Before the moves to done/: a crash in between lands the group again and raises the
        # marker twice (one more tenant run), never leaves landed rows without a run.
        inbox.mark_landed(connector.tenant_id, len(stored))
        for item in stored:
            inbox.finish(item)
            report.done += 1


def _failed(
    inbox: Inbox, item: Stored, reason: str, max_attempts: int, report: DrainReport
) -> None:
    log.warning(
        "webhook delivery %s of %s failed: %s",
        item.path.rsplit("/", 1)[-1],
        item.document.get("platform"),
        reason,
    )
    if inbox.fail(item, reason, max_attempts):
        report.failed += 1
    else:
        report.retrying += 1
    if reason not in report.errors:
        report.errors.append(reason)
