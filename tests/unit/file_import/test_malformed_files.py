"""Malformed export files: each gives a clear message naming file, row/line, column and reason,
and never changes what an earlier import landed."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.files import FileReport, ImportReport, import_directory, import_file
from connectors.files.report import EMPTY, IGNORED, LANDED, REFUSED, UNRECOGNISED
from tests.unit.file_import.exports import (
    ORDERS_HEADER,
    TENANT,
    landing_snapshot,
    order_line,
    orders_csv,
    write_text,
)
from warehouse.landing import LandingZone

GOOD_ROWS = 30


@pytest.fixture
def prior(zone: LandingZone, tmp_path: Path) -> dict[str, bytes]:
    """A good import of orders and placements landed before each bad file."""
    good = tmp_path / "earlier"
    write_text(
        good / "orders-earlier.csv", orders_csv([order_line(i) for i in range(1, GOOD_ROWS + 1)])
    )
    write_text(
        good / "placements.csv",
        "placement_id,campaign_id,episode_id,position,read_type,ad_start_s,ad_end_s\n"
        "p1,c1,e1,pre,host,0,30\n",
    )
    report = import_directory(TENANT, good, zone)
    assert report.ok, report.format()
    assert zone.read(TENANT, "files", "orders").num_rows == GOOD_ROWS
    return landing_snapshot(zone)


def assert_prior_intact(zone: LandingZone, prior: dict[str, bytes]) -> None:
    after = landing_snapshot(zone)
    assert {k: v for k, v in after.items() if k in prior} == prior
    orders = zone.read(TENANT, "files", "orders")
    earlier = [r for r in orders.to_pylist() if r["_source_file"] == "orders-earlier.csv"]
    assert len(earlier) == GOOD_ROWS


def only(report: ImportReport) -> FileReport:
    """The one file of an ``import_file`` report."""
    [file_report] = report.files
    return file_report


def quarantined(zone: LandingZone, source_file: str) -> list[dict]:
    rows = zone.read_quarantine(TENANT).to_pylist()
    return sorted(
        (r for r in rows if r["_source_file"] == source_file), key=lambda r: r["_source_row"]
    )


# -- whole file refused --------------------------------------------------------------------------


def test_missing_required_column_refuses_the_file(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    header = ORDERS_HEADER.replace("ts,", "")
    lines = [",".join(p for j, p in enumerate(order_line(i).split(",")) if j != 1) for i in (1, 2)]
    path = write_text(export_dir / "orders-2.csv", orders_csv(lines, header=header))

    report = import_file(TENANT, path, zone)

    f = only(report)
    assert f.status == REFUSED and not report.ok
    assert str(f.refusal).startswith("orders-2.csv line 1, column ts: missing required column ts")
    assert f.refusal.column == "ts"
    assert f.rows_landed == 0
    assert landing_snapshot(zone) == prior
    assert_prior_intact(zone, prior)


def test_empty_file_is_refused(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    path = export_dir / "orders.csv"
    path.write_bytes(b"")
    f = only(import_file(TENANT, path, zone))
    assert f.status == REFUSED
    assert str(f.refusal).startswith("orders.csv: the file is empty (0 bytes)")
    assert landing_snapshot(zone) == prior
    assert_prior_intact(zone, prior)


def test_non_utf8_line_refuses_the_whole_file_even_after_earlier_chunks(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    lines = [order_line(i).encode() for i in range(100, 110)]
    lines[6] = lines[6].replace(b"Mozilla/5.0", b"Mozilla/5.0 caf\xe9")  # Latin-1, line 8
    path = export_dir / "orders.csv"
    path.write_bytes(ORDERS_HEADER.encode() + b"\n" + b"\n".join(lines) + b"\n")

    # Chunks of 2 rows: the rows before the bad line were already processed when it is found.
    f = only(import_file(TENANT, path, zone, chunk_rows=2))

    assert f.status == REFUSED
    assert f.refusal.line == 8
    assert str(f.refusal).startswith("orders.csv line 8: not valid UTF-8 (byte 0xe9 at position")
    assert landing_snapshot(zone) == prior
    assert_prior_intact(zone, prior)


def test_non_utf8_header_is_line_1(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    path = export_dir / "orders.csv"
    path.write_bytes(b"order_id,ts,r\xe9venue\n")
    f = only(import_file(TENANT, path, zone))
    assert f.status == REFUSED and f.refusal.line == 1
    assert str(f.refusal).startswith("orders.csv line 1: not valid UTF-8 (byte 0xe9 at position 14")
    assert landing_snapshot(zone) == prior
    assert_prior_intact(zone, prior)


def test_a_line_with_too_many_fields_refuses_the_file(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    lines = [order_line(i) for i in range(200, 206)]
    lines[3] = lines[3] + ",surplus"
    path = write_text(export_dir / "orders.csv", orders_csv(lines))
    f = only(import_file(TENANT, path, zone))
    assert f.status == REFUSED
    assert str(f.refusal).startswith("orders.csv line 5: expected 7 fields, found 8")
    assert landing_snapshot(zone) == prior
    assert_prior_intact(zone, prior)


def test_unreadable_parquet_is_refused(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    path = export_dir / "orders.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    f = only(import_file(TENANT, path, zone))
    assert f.status == REFUSED
    assert str(f.refusal).startswith("orders.parquet: is not a readable Parquet file")
    assert landing_snapshot(zone) == prior
    assert_prior_intact(zone, prior)


def test_parquet_column_of_an_impossible_type_is_refused(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    table = pa.table(
        {
            "ts": pa.array(["2026-03-01T00:00:00Z"]),
            "ip": ["192.0.2.1"],
            "episode_id": ["e1"],
            "status": [True],
            "bytes_sent": [10],
        }
    )
    path = export_dir / "download_requests.parquet"
    pq.write_table(table, path)
    f = only(import_file(TENANT, path, zone))
    assert f.status == REFUSED and f.refusal.column == "status"
    assert "download_requests.parquet, column status: column status has type bool" in str(f.refusal)
    assert landing_snapshot(zone) == prior
    assert_prior_intact(zone, prior)


# -- bad rows to quarantine ----------------------------------------------------------------------


def test_bad_timestamp_row_is_quarantined_and_named(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    lines = [order_line(i) for i in range(300, 320)]
    lines[16] = order_line(316, ts="yesterday")  # data row 17
    path = write_text(export_dir / "orders.csv", orders_csv(lines))

    report = import_file(TENANT, path, zone)

    f = only(report)
    assert f.status == LANDED and not report.ok
    assert (f.rows_read, f.rows_landed, f.rows_quarantined) == (20, 19, 1)
    assert "orders.csv row 17, column ts: 'yesterday' is not an ISO-8601 timestamp with offset" in (
        f.messages
    )
    [row] = quarantined(zone, "orders.csv")
    assert row["_source_row"] == 17
    assert row["reason"] == "column ts: 'yesterday' is not an ISO-8601 timestamp with offset"
    assert json.loads(row["raw_record"])["order_id"] == "o316"
    landed = {r["order_id"] for r in zone.read(TENANT, "files", "orders").to_pylist()}
    assert "o316" not in landed and {"o300", "o319"} <= landed
    assert_prior_intact(zone, prior)


def test_naive_timestamp_is_ambiguous(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    lines = [order_line(400), order_line(401, ts="2026-03-02T10:00:00")]
    path = write_text(export_dir / "orders.csv", orders_csv(lines))
    f = only(import_file(TENANT, path, zone))
    assert f.rows_landed == 1
    assert f.messages == [
        "orders.csv row 2, column ts: '2026-03-02T10:00:00' has no UTC offset (ambiguous): "
        "write it with Z or an offset such as +02:00"
    ]
    assert_prior_intact(zone, prior)


def test_wrong_type_and_missing_required_value(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    lines = [order_line(500), order_line(501, revenue="12,50"), order_line(502, revenue="")]
    lines[0] = lines[0].replace("o500,", ",")  # no order_id
    path = write_text(export_dir / "orders.csv", orders_csv(lines, header=ORDERS_HEADER))
    # "12,50" splits into two fields: quote it as a spreadsheet would.
    path.write_text(path.read_text().replace("12,50", '"12,50"'))

    f = only(import_file(TENANT, path, zone))

    assert (f.rows_landed, f.rows_quarantined) == (0, 3)
    assert f.messages == [
        "orders.csv row 1, column order_id: missing value (required column)",
        "orders.csv row 2, column revenue: '12,50' is not a number",
        "orders.csv row 3, column revenue: missing value (required column)",
    ]
    assert_prior_intact(zone, prior)


def test_invalid_values_of_logs_and_placements(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    write_text(
        export_dir / "download_requests.csv",
        "ts,ip,user_agent,episode_id,method,status,bytes_sent,range\n"
        "2026-03-01T10:00:00Z,192.0.2.1,UA,e1,GET,200,1000,bytes=0-\n"
        "2026-03-01T10:00:01Z,192.0.2.1,UA,e1,GET,2OO,1000,\n"
        "2026-03-01T10:00:02Z,192.0.2.1,UA,e1,GET,206,-5,\n",
    )
    write_text(
        export_dir / "placements.csv",
        "placement_id,campaign_id,episode_id,position,read_type,ad_start_s,ad_end_s\n"
        "p2,c1,e1,middle,host,0,30\n"
        "p3,c1,e1,mid,baked,0,30\n"
        "p4,c1,e1,post,produced,1800,1830\n",
    )
    report = import_directory(TENANT, export_dir, zone)
    messages = [m for f in report.files for m in f.messages]
    assert messages == [
        "download_requests.csv row 2, column status: '2OO' is not an integer",
        "download_requests.csv row 3, column bytes_sent: '-5' is negative",
        "placements.csv row 1, column position: 'middle' is not one of pre, mid, post",
        "placements.csv row 2, column read_type: 'baked' is not one of host, produced",
    ]
    assert report.by_entity()["download_requests"].rows_landed == 1
    assert report.by_entity()["placements"].rows_landed == 1
    assert_prior_intact(zone, prior)


def test_exact_duplicate_rows_are_quarantined(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    line = "2026-03-01T10:00:00Z,192.0.2.1,UA,e1,GET,200,1000,"
    other = "2026-03-01T10:00:05Z,192.0.2.1,UA,e1,GET,200,1000,"
    write_text(
        export_dir / "download_requests.csv",
        "ts,ip,user_agent,episode_id,method,status,bytes_sent,range\n"
        + "\n".join([line, other, line, line])
        + "\n",
    )
    # Chunks of one row: repeats are found across chunks too.
    report = import_directory(TENANT, export_dir, zone, chunk_rows=1)
    f = report.files[0]
    assert (f.rows_landed, f.rows_quarantined, f.rows_repeated) == (2, 2, 2)
    assert "4 rows read, 2 landed (2 file(s), 2 batch(es)), 2 quarantined (2 as repeats)" in (
        report.format()
    )
    assert f.messages == [
        "download_requests.csv row 3: duplicate of row 1",
        "download_requests.csv row 4: duplicate of row 1",
    ]
    assert [r["reason"] for r in quarantined(zone, "download_requests.csv")] == [
        "duplicate of row 1",
        "duplicate of row 1",
    ]
    assert_prior_intact(zone, prior)


def test_repeated_keys_are_quarantined(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    lines = [order_line(600), order_line(601), order_line(600, revenue="99")]
    path = write_text(export_dir / "orders.csv", orders_csv(lines))
    f = only(import_file(TENANT, path, zone))
    assert f.messages == ["orders.csv row 3: duplicate of row 1 (same order_id)"]
    revenue = {
        r["order_id"]: r["revenue"]
        for r in zone.read(TENANT, "files", "orders").to_pylist()
        if r["_source_file"] == "orders.csv" and r["order_id"] == "o600"
    }
    assert revenue == {"o600": 19.99}  # the first occurrence lands
    assert_prior_intact(zone, prior)


# -- nothing to land, or not data ----------------------------------------------------------------


def test_header_only_file_lands_nothing_and_is_not_an_error(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    path = write_text(export_dir / "orders.csv", ORDERS_HEADER + "\n")
    report = import_file(TENANT, path, zone)
    assert only(report).status == EMPTY
    assert report.ok
    assert "header only" in report.format()
    assert landing_snapshot(zone) == prior
    assert_prior_intact(zone, prior)


def test_unknown_names_are_reported_and_truth_and_hidden_files_skipped(
    zone: LandingZone, prior: dict[str, bytes], export_dir: Path
) -> None:
    write_text(export_dir / "ordrs.csv", orders_csv([order_line(1)]))
    write_text(export_dir / "README.txt", "exported by the shop\n")
    write_text(export_dir / ".DS_Store", "x")
    write_text(export_dir / "_truth" / "orders.csv", "not for import\n")
    report = import_directory(TENANT, export_dir, zone)
    status = {f.path.name: f.status for f in report.files}
    assert status == {"ordrs.csv": UNRECOGNISED, "README.txt": IGNORED}
    assert not report.ok
    assert "ordrs.csv: NOT IMPORTED: unknown file name" in report.format()
    assert report.handled_files() == []
    assert landing_snapshot(zone) == prior
    assert_prior_intact(zone, prior)
