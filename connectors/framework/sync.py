"""Run a connector's streams for one tenant: plan, fetch, validate, land, checkpoint.

Per slice: every record of the slice is fetched, turned into canonical rows (a record that cannot
be is quarantined with its reason and the record as it arrived), and the slice's rows and
quarantined records land together in one landing transaction. Only then is the slice
checkpointed (``state.py``). A slice in which *every* record fails on the same field is not a bad
record but a changed API: the sync stops with :class:`ApiChangedError` naming the field, and
nothing of that slice lands.

Landing keeps the record as the source sent it (``_record``), the redacted URL it came from
(``_source_file``) and its position in the page (``_source_row``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa

from connectors.framework.connector import FULL, INCREMENTAL, Connector, SourceRecord, Stream
from connectors.framework.errors import ApiChangedError, RecordError
from connectors.framework.records import as_json
from connectors.framework.state import StateStore, StreamState, new_run
from warehouse.entities import ENTITIES
from warehouse.landing import LandingZone

MODES = (FULL, INCREMENTAL)


@dataclass
class StreamReport:
    """What one stream's sync did."""

    platform: str
    stream: str
    mode: str
    resumed: bool = False
    slices_planned: int = 0
    slices_skipped: int = 0
    slices_landed: int = 0
    records: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    # Rows an incremental sync found unchanged since it last landed them (not landed again).
    rows_unchanged: int = 0
    cursor: str | None = None
    seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def format(self) -> str:
        resumed = f", resumed ({self.slices_skipped} slices already landed)" if self.resumed else ""
        line = (
            f"{self.platform}/{self.stream} ({self.mode}{resumed}): "
            f"{self.slices_landed} of {self.slices_planned} slices, {self.records} records, "
            f"{self.rows_landed} rows landed, {self.rows_unchanged} unchanged, "
            f"{self.rows_quarantined} quarantined, "
            f"cursor {self.cursor or '-'}, {self.seconds:.1f} s"
        )
        for note in self.notes:
            line += f"\n    note: {note}"
        for reason, n in self.reasons.most_common(5):
            line += f"\n    quarantined {n} x {reason}"
        return line


@dataclass
class SyncReport:
    tenant_id: str
    platform: str
    streams: list[StreamReport] = field(default_factory=list)
    requests: int = 0
    throttled: int = 0
    server_errors: int = 0
    paced_s: float = 0.0

    def format(self) -> str:
        head = (
            f"{self.tenant_id} {self.platform}: {self.requests} requests "
            f"({self.throttled} throttled, {self.server_errors} server errors retried), "
            f"{self.paced_s:.1f} s waited for the rate limit"
        )
        return "\n".join([head] + ["  " + s.format() for s in self.streams])


SliceHook = Callable[[Stream, str], None]


def sync_connector(
    connector: Connector,
    zone: LandingZone,
    *,
    streams: Iterable[str] | None = None,
    mode: str = INCREMENTAL,
    restart: bool = False,
    after_slice: SliceHook | None = None,
) -> SyncReport:
    """Sync ``streams`` (default all) of ``connector`` into ``zone``.

    ``mode`` ``full`` asks for everything from the start date; ``incremental`` from the cursor
    less the look-back. A run that was interrupted is resumed whatever the mode, unless
    ``restart``. ``after_slice`` is called after each checkpoint (progress logging).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    store = StateStore(zone)
    report = SyncReport(connector.tenant_id, connector.platform)
    wanted = list(streams) if streams is not None else [s.name for s in connector.streams]
    try:
        for name in wanted:
            stream = connector.stream(name)
            report.streams.append(
                _sync_stream(connector, zone, store, stream, mode, restart, after_slice)
            )
    finally:
        if connector._client is not None:
            counter = connector._client.counter
            report.requests = counter.requests
            report.throttled = counter.throttled
            report.server_errors = counter.server_errors
            report.paced_s = connector._client.pacer.waited_s if connector._client.pacer else 0.0
    return report


def _sync_stream(
    connector: Connector,
    zone: LandingZone,
    store: StateStore,
    stream: Stream,
    mode: str,
    restart: bool,
    after_slice: SliceHook | None,
) -> StreamReport:
    started = time.monotonic()
    state = store.load(connector.tenant_id, connector.platform, stream.name)
    report = StreamReport(connector.platform, stream.name, mode)
    if state.run is not None and not restart:
        run = state.run
        report.resumed = True
        report.mode = run.mode
    else:
        run = new_run(mode)
        plan = connector.plan(stream, state, mode)
        run.slices = plan.slices
        run.target_cursor = plan.target_cursor
        report.notes.extend(plan.notes)
        state.run = run
        store.save(state)
    done = set(run.done)
    report.slices_planned = len(run.slices)
    report.slices_skipped = sum(1 for s in run.slices if s in done)
    for slice_id in run.slices:
        if slice_id in done:
            continue
        landed, quarantined, records, reasons, unchanged = land_records(
            connector,
            zone,
            stream,
            connector.fetch(stream, slice_id),
            label=f"slice {slice_id}",
            cursor=f"{stream.name}:{slice_id}",
            state=state,
            skip_unchanged=run.mode == INCREMENTAL,
            slice_id=slice_id,
        )
        report.rows_unchanged += unchanged
        report.records += records
        report.rows_landed += landed
        report.rows_quarantined += quarantined
        report.reasons.update(reasons)
        report.slices_landed += 1
        run.done.append(slice_id)
        store.save(state)
        if after_slice is not None:
            after_slice(stream, slice_id)
    _forget_old_keys(state, stream, connector.settings.lookback_days)
    _finish(store, state)
    report.cursor = state.cursor
    report.seconds = time.monotonic() - started
    return report


def _finish(store: StateStore, state: StreamState) -> None:
    assert state.run is not None
    if state.run.target_cursor is not None:
        state.cursor = state.run.target_cursor
    state.last_success_at = datetime.now(UTC).isoformat(timespec="seconds")
    state.run = None
    store.save(state)


def land_records(
    connector: Connector,
    zone: LandingZone,
    stream: Stream,
    items: Iterable[SourceRecord],
    *,
    label: str,
    cursor: str,
    state: StreamState | None = None,
    skip_unchanged: bool = False,
    slice_id: str | None = None,
) -> tuple[int, int, int, Counter[str], int]:
    """Validate ``items`` into ``stream``'s rows and land them in one landing transaction, bad
    records to quarantine with their reason. Returns (rows landed, rows quarantined, records
    read, reasons, rows skipped as unchanged).

    A sync passes each slice's records with the stream's ``state``: rows whose digest equals the
    one last landed under their key are skipped when ``skip_unchanged``, and the digests of what
    landed are recorded in the state (saved by the caller with the checkpoint). A webhook
    delivery passes its records without a state: what a source pushed always lands.
    ``label`` names the records in errors (``slice 2026-10-01``, ``webhook delivery ...``).
    """
    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    failed_fields: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    records = 0
    for item in items:
        records += 1
        raw = as_json(item.record)
        try:
            produced = list(connector.rows(stream, item))
        except RecordError as exc:
            reason = f"{connector.platform} {stream.name}: {exc}"
            bad.append(_quarantined(item, reason, raw))
            reasons[str(exc)] += 1
            failed_fields[getattr(exc, "field", str(exc))] += 1
            continue
        for row in produced:
            good.append({**row, "_source_file": item.url, "_source_row": item.position + 1})
            good[-1]["_record"] = raw
    if records >= 2 and not good and len(failed_fields) == 1:
        field_name, _ = failed_fields.popitem()
        sample = next(iter(reasons))
        raise ApiChangedError(
            f"{connector.platform} {stream.name}, {label}: every one of {records} "
            f"records failed on {field_name!r} ({sample}); the API has probably changed. Nothing "
            "of it landed; the slices before it did and stay checkpointed"
        )
    entity = ENTITIES[stream.entity]
    digests = {}
    unchanged = 0
    if entity.key:
        kept = []
        for row in good:
            key = "|".join(str(row[c]) for c in entity.key)
            digest = _row_digest(row, entity.schema.names)
            known = state.landed.get(key) if state is not None else None
            if skip_unchanged and known is not None and known.split("@")[0] == digest:
                unchanged += 1
                continue
            # Keys without a date carry the slice that landed them, so old ones can be dropped.
            dated = "date" in entity.key or slice_id is None
            digests[key] = digest if dated else f"{digest}@{slice_id}"
            kept.append(row)
        good = kept
    extracted = datetime.now(UTC)
    with zone.transaction(connector.tenant_id) as tx:
        if good:
            table = _table(good, entity.schema)
            tx.write_batch(
                connector.platform,
                stream.entity,
                table,
                cursor=cursor,
                extracted_at=extracted,
            )
        if bad:
            tx.write_quarantine(
                connector.platform,
                stream.entity,
                pa.Table.from_pylist(
                    bad,
                    schema=pa.schema(
                        [
                            ("_source_file", pa.string()),
                            ("_source_row", pa.int64()),
                            ("reason", pa.string()),
                            ("raw_record", pa.string()),
                        ]
                    ),
                ),
                extracted_at=extracted,
            )
    # Recorded with the slice's checkpoint (the caller saves both together, after the commit).
    if state is not None:
        state.landed.update(digests)
    return len(good), len(bad), records, reasons, unchanged


def _row_digest(row: dict[str, Any], columns: list[str]) -> str:
    values = json.dumps([row[c] for c in columns], default=str, ensure_ascii=False)
    return hashlib.blake2b(values.encode(), digest_size=8).hexdigest()


# Days before the newest landed day whose row digests are kept: well past any look-back.
KEEP_DIGEST_DAYS = 45


def _forget_old_keys(state: StreamState, stream: Stream, lookback_days: int) -> None:
    """Drop the digests of days long past the look-back (the state stays small); an old day
    asked for again (a full sync, a new start date) is simply landed again."""
    key = ENTITIES[stream.entity].key
    if not state.landed:
        return
    if "date" in key:
        position = key.index("date")
        days = {k: k.split("|")[position] for k in state.landed}
    else:
        # A record's key (an order id) carries no day: its digest carries the day slice that
        # landed it ("<digest>@2026-10-01"); a digest without a dated slice is kept.
        days = {k: _slice_day(v) for k, v in state.landed.items()}
        if not any(days.values()):
            return
    newest = max(d for d in days.values() if d)
    horizon = (
        date.fromisoformat(newest) - timedelta(days=lookback_days + KEEP_DIGEST_DAYS)
    ).isoformat()
    state.landed = {k: v for k, v in state.landed.items() if not days[k] or days[k] >= horizon}


def _slice_day(digest: str) -> str:
    """The ISO day of the slice a digest was landed by, "" when it was not a day slice."""
    _, _, slice_id = digest.partition("@")
    try:
        return date.fromisoformat(slice_id[:10]).isoformat()
    except ValueError:
        return ""


def _quarantined(item: SourceRecord, reason: str, raw: str) -> dict[str, Any]:
    return {
        "_source_file": item.url,
        "_source_row": item.position + 1,
        "reason": reason,
        "raw_record": raw,
    }


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    lineage = pa.schema(
        [("_source_file", pa.string()), ("_source_row", pa.int64()), ("_record", pa.string())]
    )
    full = pa.schema(list(schema) + list(lineage))
    return pa.Table.from_pylist(rows, schema=full)


__all__ = ["FULL", "INCREMENTAL", "MODES", "SyncReport", "StreamReport", "sync_connector"]
