"""The sync runner on an in-memory source: checkpoints, unchanged rows, changed APIs, quarantine."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import ApiChangedError
from connectors.framework.records import count, text
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StateStore, StreamState
from connectors.framework.sync import (
    FULL,
    INCREMENTAL,
    KEEP_DIGEST_DAYS,
    land_records,
    sync_connector,
)
from warehouse.landing import LandingZone

TENANT = "sync_co"
DOWNLOADS = Stream("host_downloads_daily", "host_downloads_daily", "test downloads")
FIRST = date(2026, 10, 1)


class MemorySource(Connector):
    """One request per episode over the plan's whole range (like Podbean or Simplecast)."""

    platform = "memory"
    display_name = "Memory"
    streams = (DOWNLOADS,)

    def __init__(self, figures: dict[tuple[str, date], Any], today: date) -> None:
        super().__init__(TENANT, ConnectorSettings(start_date=FIRST), {}, today)
        self.figures = figures
        self.asked: list[str] = []

    def check(self) -> str:
        return "ok"

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        first, last = self.day_range(state, mode)
        episodes = sorted({e for e, _ in self.figures})
        return Plan([f"{e}:{first}:{last}" for e in episodes], last.isoformat())

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        self.asked.append(slice_id)
        episode, first, last = slice_id.split(":")
        for position, ((e, day), n) in enumerate(sorted(self.figures.items())):
            if e == episode and first <= day.isoformat() <= last:
                yield SourceRecord({"episode": e, "day": day.isoformat(), "n": n}, "mem", position)

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        yield {
            "platform": self.platform,
            "show_id": "s1",
            "episode_id": text(item.record, "episode"),
            "date": date.fromisoformat(item.record["day"]),
            "downloads": count(item.record, "n"),
            "reported_at": None,
        }


def landed(zone: LandingZone) -> list[dict]:
    if not zone.files(TENANT, "memory", "host_downloads_daily"):
        return []
    return zone.read(TENANT, "memory", "host_downloads_daily").to_pylist()


def figures(days: int) -> dict[tuple[str, date], int]:
    return {(e, FIRST + timedelta(days=d)): 10 + d for e in ("a", "b") for d in range(days)}


def test_an_incremental_sync_lands_only_what_changed(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    data = figures(10)
    sync_connector(MemorySource(data, FIRST + timedelta(days=10)), zone, mode=FULL)
    assert len(landed(zone)) == 20
    # A day later: the look-back (2 days) is asked again, one figure was revised, one day is new.
    data[("a", FIRST + timedelta(days=9))] = 99
    data[("a", FIRST + timedelta(days=10))] = 5
    data[("b", FIRST + timedelta(days=10))] = 6
    source = MemorySource(data, FIRST + timedelta(days=11))
    report = sync_connector(source, zone, mode=INCREMENTAL)
    stream = report.streams[0]
    assert all(":2026-10-09:2026-10-11" in s for s in source.asked)
    assert (stream.rows_landed, stream.rows_unchanged) == (3, 3)
    assert len(landed(zone)) == 23
    # A full sync lands everything again, changed or not (whole slices, their own files).
    full = sync_connector(MemorySource(data, FIRST + timedelta(days=11)), zone, mode=FULL)
    assert full.streams[0].rows_landed == 22 and full.streams[0].rows_unchanged == 0


def test_digests_of_old_days_are_forgotten(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    days = KEEP_DIGEST_DAYS + 10
    sync_connector(MemorySource(figures(days), FIRST + timedelta(days=days)), zone, mode=FULL)
    state = StateStore(zone).load(TENANT, "memory", DOWNLOADS.name)
    kept_days = {key.split("|")[2] for key in state.landed}
    newest = FIRST + timedelta(days=days - 1)
    assert max(kept_days) == newest.isoformat()
    assert min(kept_days) == (newest - timedelta(days=2 + KEEP_DIGEST_DAYS)).isoformat()


def test_every_record_failing_on_one_field_is_a_changed_api(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    data = {("a", FIRST): "12", ("a", FIRST + timedelta(days=1)): "x", ("b", FIRST): "7"}
    source = MemorySource(data, FIRST + timedelta(days=2))
    report = sync_connector(source, zone, mode=FULL)
    # one bad record among good ones: quarantined with its reason, the rest lands
    assert report.streams[0].rows_quarantined == 1 and len(landed(zone)) == 2
    quarantined = zone.read_quarantine(TENANT).to_pylist()
    assert "n: expected a whole number, got 'x'" in quarantined[0]["reason"]

    # every record of a slice without "n": the source renamed it
    other = MemorySource(figures(3), FIRST + timedelta(days=3))
    other.fetch = lambda stream, slice_id: (  # type: ignore[method-assign]
        SourceRecord({"episode": "a", "day": "2026-10-01", "count": 1}, "mem", i) for i in range(3)
    )
    with pytest.raises(ApiChangedError, match=r"every one of 3 records failed on 'n'"):
        sync_connector(other, LandingZone(tmp_path / "other"), mode=FULL)


def test_an_interrupted_run_resumes_its_own_plan(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    source = MemorySource(figures(5), FIRST + timedelta(days=5))

    def stop_after_first(stream: Stream, slice_id: str) -> None:
        raise KeyboardInterrupt  # a kill right after the first checkpoint

    with pytest.raises(KeyboardInterrupt):
        sync_connector(source, zone, mode=FULL, after_slice=stop_after_first)
    # resumed a day later: the same ranges as planned, the first slice not asked again
    later = MemorySource(figures(5), FIRST + timedelta(days=8))
    report = sync_connector(later, zone, mode=INCREMENTAL)
    assert report.streams[0].resumed and report.streams[0].slices_skipped == 1
    assert later.asked == ["b:2026-10-01:2026-10-05"]
    assert len(landed(zone)) == 10


ORDERS = Stream("orders", "orders", "test orders")


class MemoryStore(Connector):
    """Orders changed per day slice (like a store's updated_at window)."""

    platform = "memory"
    display_name = "Memory store"
    streams = (ORDERS,)

    def __init__(self, orders: dict[str, tuple[date, float]], today: date) -> None:
        super().__init__(TENANT, ConnectorSettings(start_date=FIRST), {}, today)
        self.orders = orders

    def check(self) -> str:
        return "ok"

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        return self.day_plan(state, mode)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        for position, (order_id, (day, revenue)) in enumerate(sorted(self.orders.items())):
            if day.isoformat() == slice_id:
                yield SourceRecord(
                    {"id": order_id, "day": slice_id, "total": revenue}, "m", position
                )

    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        day = date.fromisoformat(item.record["day"])
        yield {
            "order_id": text(item.record, "id"),
            "ts": datetime(day.year, day.month, day.day, 12),
            "ip": None,
            "user_agent": None,
            "customer_id": None,
            "revenue": float(item.record["total"]),
            "currency": "USD",
            "discount_codes": None,
            "landing_url": None,
            "referrer": None,
            "survey_answer": None,
        }


def test_digests_of_records_carry_their_slice_and_old_ones_are_forgotten(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    days = KEEP_DIGEST_DAYS + 10
    orders = {f"o{d}": (FIRST + timedelta(days=d), 10.0 + d) for d in range(days)}
    sync_connector(MemoryStore(orders, FIRST + timedelta(days=days)), zone, mode=FULL)
    state = StateStore(zone).load(TENANT, "memory", ORDERS.name)
    newest = FIRST + timedelta(days=days - 1)
    kept = {key: value.split("@")[1] for key, value in state.landed.items()}
    assert min(kept.values()) == (newest - timedelta(days=2 + KEEP_DIGEST_DAYS)).isoformat()
    assert kept[f"o{days - 1}"] == newest.isoformat()
    # An order changed on a recent day lands again; the unchanged ones of the look-back do not.
    orders["o0"] = (newest + timedelta(days=1), 1.0)
    report = sync_connector(MemoryStore(orders, newest + timedelta(days=2)), zone, mode=INCREMENTAL)
    assert (report.streams[0].rows_landed, report.streams[0].rows_unchanged) == (1, 2)


def test_records_land_without_a_state_as_a_webhook_delivers_them(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    source = MemoryStore({}, FIRST)
    items = [SourceRecord({"id": "w1", "day": "2026-10-01", "total": 5}, "webhook", 0)]
    landed_rows, quarantined, records, _, unchanged = land_records(
        source, zone, ORDERS, items, label="webhook delivery d1", cursor="webhook:d1"
    )
    assert (landed_rows, quarantined, records, unchanged) == (1, 0, 1, 0)
    [row] = zone.read(TENANT, "memory", "orders").to_pylist()
    assert row["order_id"] == "w1" and row["_cursor"] == "webhook:d1"
    bad = [SourceRecord({"day": "2026-10-01", "total": 5}, "webhook", i) for i in range(2)]
    with pytest.raises(ApiChangedError, match="webhook delivery d2"):
        land_records(source, zone, ORDERS, bad, label="webhook delivery d2", cursor="webhook:d2")
