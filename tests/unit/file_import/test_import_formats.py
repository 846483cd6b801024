"""Good files: CSV and Parquet land the same data, times become UTC, re-imports replace."""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.files import import_directory, import_file
from tests.unit.file_import.exports import (
    TENANT,
    download_requests,
    entity_columns,
    landing_snapshot,
    order_line,
    orders_csv,
    write_export_csv,
    write_export_parquet,
    write_text,
)
from warehouse.entities import ENTITIES
from warehouse.landing import LandingZone

REQUESTS = ENTITIES["download_requests"].schema


def test_csv_and_parquet_land_the_same_data(tmp_path: Path) -> None:
    table = download_requests(5_000)
    results = {}
    for fmt, writer in (("csv", write_export_csv), ("parquet", write_export_parquet)):
        zone = LandingZone(tmp_path / fmt / "landing")
        path = writer(table, tmp_path / fmt / f"download_requests.{fmt}")
        report = import_file(TENANT, path, zone, chunk_rows=2_000)
        assert report.ok, report.format()
        landed = zone.read(TENANT, "files", "download_requests").sort_by("_source_row")
        results[fmt] = (
            landed,
            sorted(zone.files(TENANT, "files", "download_requests")),
        )

    csv_rows, csv_paths = results["csv"]
    parquet_rows, parquet_paths = results["parquet"]
    assert csv_rows.num_rows == 5_000
    assert entity_columns(csv_rows, REQUESTS).equals(entity_columns(parquet_rows, REQUESTS))
    # Same content, same chunks: the same batch ids and paths, whatever the format.
    assert csv_paths == parquet_paths
    expected = table.set_column(0, "ts", table.column("ts").cast(pa.timestamp("us")))
    exported = pa.schema([REQUESTS.field(name) for name in table.column_names])
    assert csv_rows.select(exported.names).equals(expected.cast(exported))
    # An optional column the export does not have (seconds_downloaded) lands as nulls.
    assert set(REQUESTS.names) - set(exported.names) == {"seconds_downloaded"}
    assert csv_rows.column("seconds_downloaded").null_count == csv_rows.num_rows


def test_timestamps_with_offsets_land_as_utc(zone: LandingZone, export_dir: Path) -> None:
    stamps = [
        "2026-03-01T23:30:00+02:00",
        "2026-03-01T20:00:00-05:00",
        "2026-03-01T21:15:30.250Z",
        "2026-03-02 01:00:00+0530",
        "2026-03-01T22:00:00+01",
    ]
    lines = [order_line(i, ts=ts) for i, ts in enumerate(stamps, start=1)]
    report = import_file(TENANT, write_text(export_dir / "orders.csv", orders_csv(lines)), zone)
    assert report.ok, report.format()

    landed = zone.read(TENANT, "files", "orders").sort_by("_source_row")
    assert landed.schema.field("ts").type == pa.timestamp("us")
    assert landed.column("ts").to_pylist() == [
        datetime(2026, 3, 1, 21, 30),
        datetime(2026, 3, 2, 1, 0),
        datetime(2026, 3, 1, 21, 15, 30, 250000),
        datetime(2026, 3, 1, 19, 30),
        datetime(2026, 3, 1, 21, 0),
    ]
    # dt is the UTC date: the row at 20:00-05:00 belongs to 2 March.
    by_day = {f.dt.isoformat(): f.rows for f in report.landed}
    assert by_day == {"2026-03-01": 4, "2026-03-02": 1}


def test_parquet_timestamps_zone_aware_or_naive(tmp_path: Path, export_dir: Path) -> None:
    table = download_requests(4)
    local = table.column("ts").cast(pa.timestamp("ns", tz="Asia/Tokyo"))
    naive = table.column("ts").cast(pa.timestamp("us"))
    aware_file = write_export_parquet(
        table.set_column(0, "ts", local), export_dir / "download_requests-a.parquet"
    )
    naive_file = write_export_parquet(
        table.set_column(0, "ts", naive), export_dir / "download_requests-b.parquet"
    )
    landed = {}
    for name, path in (("aware", aware_file), ("naive", naive_file)):
        zone = LandingZone(tmp_path / name)
        report = import_file(TENANT, path, zone)
        assert report.ok, report.format()
        landed[name] = (report.landed, zone.read(TENANT, "files", "download_requests"))
    assert landed["aware"][1].column("ts").to_pylist() == naive.to_pylist()
    # The same rows: the same batch, so landing both files in one zone keeps one copy.
    assert [f.batch_id for f in landed["aware"][0]] == [f.batch_id for f in landed["naive"][0]]


def test_importing_the_same_file_twice_replaces_itself(zone: LandingZone, export_dir: Path) -> None:
    path = write_export_csv(download_requests(3_000), export_dir / "download_requests.csv")
    first = import_file(TENANT, path, zone, chunk_rows=1_000)
    files_after_first = zone.files(TENANT, "files", "download_requests")
    rows_first = zone.read(TENANT, "files", "download_requests")

    second = import_file(TENANT, path, zone, chunk_rows=1_000)

    assert [f.key for f in second.landed] == [f.key for f in first.landed]
    assert zone.files(TENANT, "files", "download_requests") == files_after_first
    rows_second = zone.read(TENANT, "files", "download_requests")
    assert rows_second.num_rows == rows_first.num_rows == 3_000
    same = [c for c in rows_first.column_names if c != "_extracted_at"]
    assert rows_second.select(same).equals(rows_first.select(same))


def test_parts_gzip_free_column_order_and_extra_columns(
    zone: LandingZone, export_dir: Path
) -> None:
    header = "Revenue,TS,order_id,coupon_note,ip,currency"
    lines = ["10.5,2026-03-01T10:00:00Z,o1,spring,192.0.2.1,EUR"]
    write_text(export_dir / "orders-001.csv", orders_csv(lines, header=header))
    with gzip.open(export_dir / "orders-002.csv.gz", "wt", encoding="utf-8") as handle:
        handle.write(orders_csv([order_line(2)]))
    report = import_directory(TENANT, export_dir, zone)

    assert report.ok, report.format()
    assert [(f.path.name, f.rows_landed) for f in report.files] == [
        ("orders-001.csv", 1),
        ("orders-002.csv.gz", 1),
    ]
    assert report.files[0].extra_columns == ["coupon_note"]
    assert "ignored column(s) not in orders: coupon_note" in report.format()
    rows = {r["order_id"]: r for r in zone.read(TENANT, "files", "orders").to_pylist()}
    assert rows["o1"]["revenue"] == 10.5 and rows["o1"]["customer_id"] is None
    assert report.by_entity()["orders"].files == 2
    assert sorted(p.name for p in report.handled_files()) == ["orders-001.csv", "orders-002.csv.gz"]


def test_chunk_size_does_not_change_what_lands(tmp_path: Path) -> None:
    table = download_requests(2_500, seed=11)
    # A few exact repeats, far apart, so small chunks have to find them across chunks.
    table = pa.concat_tables([table, table.slice(10, 3), table.slice(2_000, 2)])
    path = write_export_parquet(table, tmp_path / "download_requests.parquet")
    landed = {}
    for chunk_rows in (7, 1_000, 100_000):
        zone = LandingZone(tmp_path / f"landing-{chunk_rows}")
        report = import_file(TENANT, path, zone, chunk_rows=chunk_rows)
        assert report.rows_quarantined == 5, report.format()
        assert (
            report.files[0].messages[0] == "download_requests.parquet row 2501: duplicate of row 11"
        )
        landed[chunk_rows] = entity_columns(
            zone.read(TENANT, "files", "download_requests").sort_by("_source_row"), REQUESTS
        )
    assert landed[7].num_rows == 2_500
    assert landed[7].equals(landed[1_000]) and landed[1_000].equals(landed[100_000])


def test_report_format_lists_every_file(zone: LandingZone, export_dir: Path) -> None:
    write_text(export_dir / "orders.csv", orders_csv([order_line(1), order_line(2, ts="soon")]))
    (export_dir / "campaigns.csv").write_bytes(b"")
    text = import_directory(TENANT, export_dir, zone).format()
    assert text.splitlines()[0] == f"File import for tenant {TENANT} from {export_dir}"
    assert "campaigns.csv: REFUSED: campaigns.csv: the file is empty (0 bytes)" in text
    assert "orders.csv: orders: 2 rows read, 1 landed" in text
    assert "orders.csv row 2, column ts: 'soon' is not an ISO-8601 timestamp with offset" in text
    assert text.splitlines()[-1] == (
        "Total: 2 rows read, 1 landed, 1 quarantined; 1 file(s) not imported"
    )
    assert landing_snapshot(zone)


def test_parquet_written_by_pandas_with_nullable_ints(zone: LandingZone, export_dir: Path) -> None:
    # pandas turns an integer column with a gap into floats: 200.0 is still the integer 200.
    table = pa.table(
        {
            "ts": ["2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "2026-03-01T10:00:02Z"],
            "ip": ["192.0.2.1"] * 3,
            "episode_id": pa.array([1, 2, 3], pa.int64()),
            "status": pa.array([200.0, 206.0, 200.5]),
            "bytes_sent": pa.array([10, 20, 30], pa.int32()),
        }
    )
    pq.write_table(table, export_dir / "download_requests.parquet")
    report = import_directory(TENANT, export_dir, zone)
    landed = zone.read(TENANT, "files", "download_requests").sort_by("_source_row")
    assert landed.column("status").to_pylist() == [200, 206]
    assert landed.column("episode_id").to_pylist() == ["1", "2"]
    assert report.files[0].messages == [
        "download_requests.parquet row 3, column status: 200.5 is not an integer"
    ]
