"""A million download requests through the importer, as CSV and as Parquet.

The test checks that everything lands; it prints the rows per second it saw (it never asserts on
time: the figure depends on the machine and on what else runs on it).
"""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.files import import_file
from tests.unit.file_import.exports import (
    TENANT,
    download_requests,
    write_export_csv,
    write_export_parquet,
)
from warehouse.landing import LandingZone

ROWS = 1_000_000


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> tuple[pa.Table, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("million")
    table = download_requests(ROWS, seed=2026)
    return table, {
        "csv": write_export_csv(table, folder / "download_requests.csv"),
        "parquet": write_export_parquet(table, folder / "download_requests.parquet"),
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_million_download_requests(
    fmt: str,
    million: tuple[pa.Table, dict[str, Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table, paths = million
    zone = LandingZone(tmp_path / "landing")
    wall, cpu = time.perf_counter(), time.process_time()
    report = import_file(TENANT, paths[fmt], zone)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

    assert report.ok, report.format()
    assert report.rows_landed == ROWS
    landed = zone.read(TENANT, "files", "download_requests").sort_by("_source_row")
    assert landed.num_rows == ROWS
    expected = table.slice(ROWS - 1).to_pylist()[0]
    got = landed.slice(ROWS - 1).to_pylist()[0]
    assert got["ts"] == expected["ts"].replace(tzinfo=None)
    assert {k: got[k] for k in ("ip", "status", "bytes_sent", "range")} == {
        k: expected[k] for k in ("ip", "status", "bytes_sent", "range")
    }
    with capsys.disabled():
        size_mb = paths[fmt].stat().st_size / 1e6
        print(
            f"\n[file import] {ROWS:,} download requests from {fmt} ({size_mb:.0f} MB): "
            f"{wall:.2f} s wall, {cpu:.2f} s CPU, {ROWS / wall:,.0f} rows/s, "
            f"{len(report.landed)} landed files"
        )
