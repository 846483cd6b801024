"""The landing zone: layout, lineage, dt partitions, idempotency, atomicity, listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.unit.file_import.exports import landing_snapshot
from warehouse.entities import QUARANTINE_SCHEMA, landed_schema
from warehouse.landing import LandingZone
from warehouse.settings import InvalidTenantId

EXTRACTED = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def orders(ts: list[datetime], first: int = 1) -> pa.Table:
    n = len(ts)
    ids = [f"o{first + i}" for i in range(n)]
    return pa.table(
        {
            "order_id": ids,
            "ts": pa.array(ts, pa.timestamp("us")),
            "ip": ["198.51.100.7"] * n,
            "user_agent": ["Mozilla/5.0"] * n,
            "customer_id": [f"c{i}" for i in range(n)],
            "revenue": [10.0 + i for i in range(n)],
            "currency": ["EUR"] * n,
            "discount_codes": pa.nulls(n, pa.string()),
            "landing_url": pa.nulls(n, pa.string()),
            "referrer": pa.nulls(n, pa.string()),
            "survey_answer": pa.nulls(n, pa.string()),
        }
    )


def campaigns() -> pa.Table:
    return pa.table(
        {
            "campaign_id": ["cmp1", "cmp2"],
            "advertiser": ["Brand", "Other"],
            "name": ["Spring", "Summer"],
            "start_date": pa.array([datetime(2026, 3, 1).date(), datetime(2026, 6, 1).date()]),
            "end_date": pa.array([datetime(2026, 3, 31).date(), datetime(2026, 6, 30).date()]),
            "budget": [1000.0, 2000.0],
            "currency": ["USD", "USD"],
        }
    )


def test_write_batch_splits_by_utc_event_date_and_adds_lineage(zone: LandingZone) -> None:
    ts = [datetime(2026, 3, 1, 23, 0), datetime(2026, 3, 2, 1, 0), datetime(2026, 3, 1, 5, 0)]
    landed = zone.write_batch(
        "acme", "files", "orders", orders(ts), cursor="page-3", extracted_at=EXTRACTED
    )

    assert sorted((f.dt.isoformat(), f.rows) for f in landed) == [
        ("2026-03-01", 2),
        ("2026-03-02", 1),
    ]
    assert len({f.batch_id for f in landed}) == 1
    first = landed[0]
    assert first.key == (f"acme/files/orders/dt={first.dt.isoformat()}/{first.batch_id}.parquet")
    assert zone.storage.path(first.key).is_file()
    table = zone.read("acme", "files", "orders")
    assert table.schema == landed_schema("orders")
    rows = {r["order_id"]: r for r in table.to_pylist()}
    assert set(rows) == {"o1", "o2", "o3"}
    assert rows["o2"]["_tenant_id"] == "acme"
    assert rows["o2"]["_source"] == "files"
    assert rows["o2"]["_cursor"] == "page-3"
    assert rows["o2"]["_batch_id"] == first.batch_id
    assert rows["o2"]["_extracted_at"] == datetime(2026, 3, 10, 12, 0)
    # Without lineage from the caller, the source row is the position in the batch.
    assert [rows[k]["_source_row"] for k in ("o1", "o2", "o3")] == [1, 2, 3]
    # Within one dt file the rows keep their order.
    march_1 = pq.read_table(zone.storage.path(next(f.key for f in landed if f.dt.day == 1)))
    assert march_1.column("order_id").to_pylist() == ["o1", "o3"]


def test_zone_aware_timestamps_land_as_naive_utc_in_the_utc_date(zone: LandingZone) -> None:
    table = orders([datetime(2026, 3, 1, 12, 0)])
    local = datetime(2026, 3, 1, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    table = table.set_column(1, "ts", pa.array([local], pa.timestamp("us", tz="America/Lima")))
    [landed] = zone.write_batch("acme", "files", "orders", table, cursor="c")
    assert landed.dt.isoformat() == "2026-03-02"
    assert zone.read("acme", "files", "orders").column("ts").to_pylist() == [
        datetime(2026, 3, 2, 3, 30)
    ]


def test_same_batch_twice_replaces_itself(zone: LandingZone) -> None:
    table = orders([datetime(2026, 3, 1, 9), datetime(2026, 3, 4, 9)])
    first = zone.write_batch("acme", "files", "orders", table, cursor="a", extracted_at=EXTRACTED)
    later = EXTRACTED + timedelta(days=3)
    again = zone.write_batch("acme", "files", "orders", table, cursor="b", extracted_at=later)

    assert [f.key for f in again] == [f.key for f in first]
    assert zone.files("acme", "files", "orders") == sorted(f.key for f in first)
    landed = zone.read("acme", "files", "orders")
    assert landed.num_rows == 2
    assert set(landed.column("_extracted_at").to_pylist()) == {later.replace(tzinfo=None)}


def test_batch_id_depends_on_content_not_layout_or_lineage(zone: LandingZone) -> None:
    table = orders([datetime(2026, 3, 1, 9), datetime(2026, 3, 1, 10)])
    split = pa.Table.from_batches(table.to_batches(max_chunksize=1))
    assert split.column(0).num_chunks == 2
    named = table.append_column("_source_file", pa.array(["x.csv"] * 2)).append_column(
        "_source_row", pa.array([7, 9], pa.int64())
    )
    ids = {
        zone.write_batch("acme", "files", "orders", t, cursor="c")[0].batch_id
        for t in (table, split, named)
    }
    assert len(ids) == 1
    changed = table.set_column(5, "revenue", pa.array([10.0, 11.5]))
    assert zone.write_batch("acme", "files", "orders", changed, cursor="c")[0].batch_id not in ids


def test_entity_without_event_time_stays_in_its_first_dt_when_landed_again(
    zone: LandingZone,
) -> None:
    [first] = zone.write_batch(
        "acme", "files", "campaigns", campaigns(), cursor="c", extracted_at=EXTRACTED
    )
    assert first.dt == EXTRACTED.date()
    [again] = zone.write_batch(
        "acme", "files", "campaigns", campaigns(), cursor="c", extracted_at=EXTRACTED + timedelta(2)
    )
    assert again.key == first.key
    assert len(zone.files("acme", "files", "campaigns")) == 1


def test_landing_never_touches_other_batches(zone: LandingZone) -> None:
    zone.write_batch("acme", "files", "orders", orders([datetime(2026, 3, 1, 9)]), cursor="c")
    zone.write_batch("acme", "files", "campaigns", campaigns(), cursor="c")
    before = landing_snapshot(zone)
    zone.write_batch(
        "acme", "files", "orders", orders([datetime(2026, 3, 1, 10)], first=50), cursor="c"
    )
    after = landing_snapshot(zone)
    assert {k: v for k, v in after.items() if k in before} == before
    assert len(after) == len(before) + 1


def test_a_failed_transaction_lands_nothing(zone: LandingZone) -> None:
    zone.write_batch("acme", "files", "orders", orders([datetime(2026, 3, 1, 9)]), cursor="c")
    before = landing_snapshot(zone)
    with pytest.raises(RuntimeError, match="disk full"), zone.transaction("acme") as tx:
        tx.write_batch("files", "orders", orders([datetime(2026, 3, 5, 9)], first=9), cursor="c")
        tx.write_batch("files", "campaigns", campaigns(), cursor="c")
        raise RuntimeError("disk full")
    assert landing_snapshot(zone) == before
    assert not list((zone.root / "acme" / "_staging").iterdir())


def test_write_quarantine_layout_and_schema(zone: LandingZone) -> None:
    rows = pa.table(
        {
            "_source_file": ["orders.csv"],
            "_source_row": pa.array([17], pa.int64()),
            "reason": ["column ts: 'yesterday' is not an ISO-8601 timestamp with offset"],
            "raw_record": ['{"ts": "yesterday"}'],
        }
    )
    [landed] = zone.write_quarantine("acme", "files", "orders", rows, extracted_at=EXTRACTED)
    assert landed.quarantine
    assert landed.key == f"acme/_quarantine/files/orders/dt=2026-03-10/{landed.batch_id}.parquet"
    assert zone.quarantine_files("acme") == [landed.key]
    table = zone.read_quarantine("acme")
    assert table.schema == QUARANTINE_SCHEMA
    [row] = table.to_pylist()
    assert (row["_tenant_id"], row["_source"], row["entity"], row["_source_row"]) == (
        "acme",
        "files",
        "orders",
        17,
    )


def test_listing_and_deleting_a_tenant(zone: LandingZone) -> None:
    zone.write_batch("acme", "files", "orders", orders([datetime(2026, 3, 1, 9)]), cursor="c")
    zone.write_batch("acme", "files", "campaigns", campaigns(), cursor="c")
    zone.write_batch("globex", "files", "campaigns", campaigns(), cursor="c")
    assert zone.entities("acme") == [("files", "campaigns"), ("files", "orders")]
    assert zone.tenants() == ["acme", "globex"]

    zone.delete_tenant("acme")
    assert zone.entities("acme") == []
    assert zone.files("acme", "files", "orders") == []
    assert len(zone.files("globex", "files", "campaigns")) == 1


def test_bad_names_and_tables_are_refused(zone: LandingZone) -> None:
    table = orders([datetime(2026, 3, 1, 9)])
    with pytest.raises(InvalidTenantId):
        zone.write_batch("../etc", "files", "orders", table, cursor="c")
    with pytest.raises(ValueError, match="invalid source"):
        zone.write_batch("acme", "Files/..", "orders", table, cursor="c")
    with pytest.raises(ValueError, match="unknown entity"):
        zone.write_batch("acme", "files", "invoices", table, cursor="c")
    with pytest.raises(ValueError, match="missing column"):
        zone.write_batch("acme", "files", "orders", table.drop_columns(["revenue"]), cursor="c")
    with pytest.raises(ValueError, match="no ts"):
        zone.write_batch(
            "acme",
            "files",
            "orders",
            table.set_column(1, "ts", pa.nulls(1, pa.timestamp("us"))),
            cursor="c",
        )
    assert landing_snapshot(zone) == {}
