"""The raw loader replaces one tenant's rows, keeps the others, and keeps values exact, on both
warehouses."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from warehouse.connection import Warehouse
from warehouse.entities import landed_schema
from warehouse.landing_storage import LocalFolderStorage
from warehouse.raw_loader import column_ddl, load_entity


def _orders(path: Path, tenant: str, ids: list[str], referrers: list[str | None]) -> Path:
    schema = landed_schema("orders")
    columns = {f.name: [None] * len(ids) for f in schema}
    columns.update(
        order_id=ids,
        ts=[datetime(2026, 11, 1, 12, 0, 0, 123456)] * len(ids),
        revenue=[19.99] * len(ids),
        referrer=referrers,
        _tenant_id=[tenant] * len(ids),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns, schema=schema), path)
    return path


def _landed(*paths: Path) -> tuple[LocalFolderStorage, list[str]]:
    """The files as keys of a local storage: each lies in ``<root>/<tenant>/``."""
    root = paths[0].parent.parent
    return LocalFolderStorage(root), [p.relative_to(root).as_posix() for p in paths]


def test_reload_replaces_only_that_tenant(wh: Warehouse, tmp_path: Path) -> None:
    a = _orders(tmp_path / "tenant_a" / "a.parquet", "tenant_a", ["1", "2"], ["", None])
    b = _orders(tmp_path / "tenant_b" / "b.parquet", "tenant_b", ["9"], ["https://example.com"])
    assert load_entity(wh, "tenant_a", "orders", *_landed(a)).rows == 2
    assert load_entity(wh, "tenant_b", "orders", *_landed(b)).rows == 1
    # Loading again replaces, never duplicates.
    assert load_entity(wh, "tenant_a", "orders", *_landed(a)).rows == 2
    a2 = _orders(tmp_path / "tenant_a" / "a2.parquet", "tenant_a", ["3"], ["x"])
    assert load_entity(wh, "tenant_a", "orders", *_landed(a, a2)).rows == 3
    rows = wh.fetch(
        "select _tenant_id, order_id, referrer, ts from raw.orders order by _tenant_id, order_id"
    )
    assert [(r[0], r[1]) for r in rows] == [
        ("tenant_a", "1"),
        ("tenant_a", "2"),
        ("tenant_a", "3"),
        ("tenant_b", "9"),
    ]
    # An empty string stays empty and a null stays null; microseconds survive.
    assert rows[0][2] == "" and rows[1][2] is None
    assert rows[0][3] == datetime(2026, 11, 1, 12, 0, 0, 123456)


def test_failed_load_keeps_previous_rows(wh: Warehouse, tmp_path: Path) -> None:
    a = _orders(tmp_path / "tenant_a" / "a.parquet", "tenant_a", ["1", "2"], [None, None])
    load_entity(wh, "tenant_a", "orders", *_landed(a))
    broken = tmp_path / "tenant_a" / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(Exception):  # noqa: B017 - each engine raises its own error type
        load_entity(wh, "tenant_a", "orders", *_landed(a, broken))
    assert wh.fetch("select count(*) from raw.orders")[0][0] == 2


def test_a_tenant_cannot_load_another_tenants_files(wh: Warehouse, tmp_path: Path) -> None:
    b = _orders(tmp_path / "tenant_b" / "b.parquet", "tenant_b", ["9"], [None])
    with pytest.raises(ValueError, match="into tenant tenant_a's rows"):
        load_entity(wh, "tenant_a", "orders", *_landed(b))


def _placements(path: Path, tenant: str, insertion_type: str | None, with_column: bool) -> Path:
    schema = landed_schema("placements")
    if not with_column:
        schema = schema.remove(schema.get_field_index("insertion_type"))
    columns = {f.name: [None] for f in schema}
    columns.update(placement_id=[path.stem], _tenant_id=[tenant])
    if with_column:
        columns["insertion_type"] = [insertion_type]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns, schema=schema), path)
    return path


def test_a_column_added_to_the_contract_reaches_old_tables_and_old_files(
    wh: Warehouse, tmp_path: Path
) -> None:
    # A warehouse created before placements had insertion_type, and only files landed before it.
    old_schema = landed_schema("placements")
    old_schema = old_schema.remove(old_schema.get_field_index("insertion_type"))
    wh.execute('create schema if not exists "raw"')
    wh.execute(f'create table "raw"."placements" ({column_ddl(old_schema, wh.engine)})')
    old = _placements(tmp_path / "tenant_a" / "old.parquet", "tenant_a", None, with_column=False)
    assert load_entity(wh, "tenant_a", "placements", *_landed(old)).rows == 1
    assert wh.fetch("select placement_id, insertion_type from raw.placements") == [("old", None)]
    # A newer file beside the old one: its value arrives, the old file's stays null.
    new = _placements(
        tmp_path / "tenant_a" / "new.parquet", "tenant_a", "dynamic", with_column=True
    )
    assert load_entity(wh, "tenant_a", "placements", *_landed(old, new)).rows == 2
    rows = wh.fetch("select placement_id, insertion_type from raw.placements order by 1")
    assert [tuple(r) for r in rows] == [("new", "dynamic"), ("old", None)]
