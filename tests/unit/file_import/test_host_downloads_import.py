"""Host-reported daily downloads (`host_downloads_daily`) import like any other entity: CSV or
Parquet by name, required columns and non-negative downloads checked per row, repeats of the
(platform, episode, date) key quarantined, and an empty raw table when nothing was imported."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.files import import_directory
from connectors.files.naming import classify
from tests.unit.file_import.exports import TENANT, write_text
from warehouse.connection import DuckDBWarehouse
from warehouse.landing import LandingZone
from warehouse.raw_loader import load_entity

HEADER = "platform,show_id,episode_id,date,downloads,reported_at"


def _landed(zone: LandingZone) -> list[tuple]:
    table = zone.read(TENANT, "files", "host_downloads_daily").sort_by(
        [("episode_id", "ascending"), ("date", "ascending")]
    )
    return list(
        zip(
            table.column("platform").to_pylist(),
            table.column("episode_id").to_pylist(),
            table.column("date").to_pylist(),
            table.column("downloads").to_pylist(),
            table.column("reported_at").to_pylist(),
            strict=True,
        )
    )


def test_the_file_name_names_the_entity() -> None:
    for name in ("host_downloads_daily.csv", "host_downloads_daily-2.csv.gz"):
        assert classify(Path(name)).entity == "host_downloads_daily"


def test_a_host_report_lands_and_bad_rows_go_to_quarantine(
    zone: LandingZone, export_dir: Path
) -> None:
    write_text(
        export_dir / "host_downloads_daily.csv",
        f"{HEADER}\n"
        "buzzsprout,s1,e1,2026-03-01,120,2026-03-02T06:00:00Z\n"
        "buzzsprout,s1,e1,2026-03-02,95,\n"
        "buzzsprout,s1,e2,2026-03-01,-3,2026-03-02T06:00:00Z\n"
        "buzzsprout,s1,,2026-03-01,7,2026-03-02T06:00:00Z\n"
        "buzzsprout,s1,e1,2026-03-01,121,2026-03-02T07:00:00Z\n"
        "transistor,s1,e1,2026-03-01,118,2026-03-02T05:00:00+01:00\n"
        "buzzsprout,s1,e3,March 1,7,2026-03-02T06:00:00Z\n",
    )
    report = import_directory(TENANT, export_dir, zone)
    summary = report.by_entity()["host_downloads_daily"]
    assert (summary.rows_landed, summary.rows_quarantined) == (3, 4)
    messages = [m for f in report.files for m in f.messages]
    assert any("row 3, column downloads" in m for m in messages), messages
    assert any("row 4" in m and "episode_id" in m for m in messages), messages
    assert any("row 5: duplicate of row 1" in m for m in messages), messages
    assert any("row 7, column date" in m for m in messages), messages
    assert _landed(zone) == [
        ("buzzsprout", "e1", date(2026, 3, 1), 120, datetime(2026, 3, 2, 6, 0)),
        ("transistor", "e1", date(2026, 3, 1), 118, datetime(2026, 3, 2, 4, 0)),
        ("buzzsprout", "e1", date(2026, 3, 2), 95, None),
    ]


def test_parquet_without_the_optional_columns_lands(zone: LandingZone, export_dir: Path) -> None:
    pq.write_table(
        pa.table(
            {
                "platform": ["file", "file"],
                "episode_id": ["e1", "e2"],
                "date": pa.array([date(2026, 3, 1), date(2026, 3, 1)], pa.date32()),
                "downloads": pa.array([10, 0], pa.int32()),
            }
        ),
        export_dir / "host_downloads_daily.parquet",
    )
    report = import_directory(TENANT, export_dir, zone)
    assert report.ok, report.format()
    assert _landed(zone) == [
        ("file", "e1", date(2026, 3, 1), 10, None),
        ("file", "e2", date(2026, 3, 1), 0, None),
    ]


def test_a_report_without_downloads_is_refused(zone: LandingZone, export_dir: Path) -> None:
    write_text(
        export_dir / "host_downloads_daily.csv", "platform,episode_id,date\nfile,e1,2026-03-01\n"
    )
    report = import_directory(TENANT, export_dir, zone)
    assert report.refused and not report.ok
    assert "missing required column downloads" in report.files[0].messages[0]
    assert zone.files(TENANT, "files", "host_downloads_daily") == []


def test_a_revised_report_lands_beside_the_first(zone: LandingZone, export_dir: Path) -> None:
    path = export_dir / "host_downloads_daily.csv"
    write_text(path, f"{HEADER}\nbuzzsprout,s1,e1,2026-03-01,120,2026-03-02T06:00:00Z\n")
    import_directory(TENANT, export_dir, zone)
    # The same file again replaces itself; a revision of the same key is a new batch, and
    # staging keeps the latest (stg_files__host_downloads_daily).
    import_directory(TENANT, export_dir, zone)
    assert len(zone.files(TENANT, "files", "host_downloads_daily")) == 1
    write_text(path, f"{HEADER}\nbuzzsprout,s1,e1,2026-03-01,125,2026-03-03T06:00:00Z\n")
    import_directory(TENANT, export_dir, zone)
    assert sorted(r[3] for r in _landed(zone)) == [120, 125]


def test_raw_table_exists_empty_when_nothing_was_imported(
    tmp_path: Path, zone: LandingZone, export_dir: Path
) -> None:
    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    try:
        result = load_entity(wh, TENANT, "host_downloads_daily", zone.storage, [])
        assert result.rows == 0
        columns = [r[0] for r in wh.fetch("describe raw.host_downloads_daily")]
        write_text(
            export_dir / "host_downloads_daily.csv",
            f"{HEADER}\nfile,s1,e1,2026-03-01,9,\n",
        )
        import_directory(TENANT, export_dir, zone)
        keys = zone.files(TENANT, "files", "host_downloads_daily")
        assert load_entity(wh, TENANT, "host_downloads_daily", zone.storage, keys).rows == 1
        rows = wh.fetch(
            'select platform, episode_id, "date", downloads from raw.host_downloads_daily'
        )
    finally:
        wh.close()
    assert columns[:6] == ["platform", "show_id", "episode_id", "date", "downloads", "reported_at"]
    assert [tuple(r) for r in rows] == [("file", "e1", date(2026, 3, 1), 9)]
