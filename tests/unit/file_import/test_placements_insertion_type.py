"""The optional `insertion_type` column of placements: older exports without it still import,
its values are checked when present, and landed files from before it load together with newer
ones (the raw loader reads them by column name)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.files import import_directory
from tests.unit.file_import.exports import TENANT, write_text
from warehouse.connection import DuckDBWarehouse
from warehouse.landing import LandingZone
from warehouse.raw_loader import load_entity

OLD_HEADER = "placement_id,campaign_id,episode_id,position,read_type,ad_start_s,ad_end_s"
NEW_HEADER = (
    "placement_id,campaign_id,episode_id,position,read_type,insertion_type,ad_start_s,ad_end_s"
)


def _landed_placements(zone: LandingZone) -> dict[str, str | None]:
    table = zone.read(TENANT, "files", "placements")
    return dict(
        zip(
            table.column("placement_id").to_pylist(),
            table.column("insertion_type").to_pylist(),
            strict=True,
        )
    )


def test_an_export_without_the_column_imports_with_unknown_insertion_type(
    zone: LandingZone, export_dir: Path
) -> None:
    write_text(
        export_dir / "placements.csv",
        f"{OLD_HEADER}\np1,c1,e1,pre,host,0,30\np2,c1,e1,post,produced,1800,1830\n",
    )
    report = import_directory(TENANT, export_dir, zone)
    assert [m for f in report.files for m in f.messages] == []
    assert report.by_entity()["placements"].rows_landed == 2
    assert _landed_placements(zone) == {"p1": None, "p2": None}


def test_values_are_dynamic_or_baked_in_and_blank_is_unknown(
    zone: LandingZone, export_dir: Path
) -> None:
    write_text(
        export_dir / "placements.csv",
        f"{NEW_HEADER}\n"
        "p1,c1,e1,pre,host,dynamic,0,30\n"
        "p2,c1,e1,mid,host,baked_in,900,960\n"
        "p3,c1,e1,post,produced,,1800,1830\n"
        "p4,c1,e2,pre,host,Dynamic,0,30\n"
        "p5,c1,e2,mid,host,baked-in,900,960\n",
    )
    report = import_directory(TENANT, export_dir, zone)
    assert [m for f in report.files for m in f.messages] == [
        "placements.csv row 4, column insertion_type: 'Dynamic' is not one of dynamic, baked_in",
        "placements.csv row 5, column insertion_type: 'baked-in' is not one of dynamic, baked_in",
    ]
    assert _landed_placements(zone) == {"p1": "dynamic", "p2": "baked_in", "p3": None}


def test_files_landed_before_the_column_load_with_newer_ones(
    tmp_path: Path, zone: LandingZone, export_dir: Path
) -> None:
    write_text(export_dir / "placements.csv", f"{NEW_HEADER}\np1,c1,e1,pre,host,baked_in,0,30\n")
    import_directory(TENANT, export_dir, zone)
    (key,) = zone.files(TENANT, "files", "placements")
    assert zone.root is not None
    # A file landed by an earlier release: the same layout without the new column.
    landed = pq.read_table(zone.root / key)
    old = landed.drop_columns(["insertion_type"])
    old = old.set_column(
        old.schema.get_field_index("placement_id"), "placement_id", pa.array(["p0"])
    )
    old_path = (zone.root / key).with_name("old-batch.parquet")
    pq.write_table(old, old_path)
    keys = [key, old_path.relative_to(zone.root).as_posix()]

    wh = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    try:
        assert load_entity(wh, TENANT, "placements", zone.storage, keys).rows == 2
        rows = wh.fetch("select placement_id, insertion_type from raw.placements order by 1")
    finally:
        wh.close()
    assert [tuple(r) for r in rows] == [("p0", None), ("p1", "baked_in")]
