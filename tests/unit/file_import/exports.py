"""Export files for the file-import tests: small hand-written ones and a large generated one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from warehouse.landing import LandingZone

TENANT = "acme"
SOURCE = "files"

ORDERS_HEADER = "order_id,ts,ip,user_agent,customer_id,revenue,currency"


def order_line(i: int, ts: str | None = None, revenue: str = "19.99") -> str:
    ts = ts or f"2026-03-{1 + i % 28:02d}T{i % 24:02d}:15:00Z"
    return f"o{i},{ts},203.0.113.{i % 250},Mozilla/5.0,c{i},{revenue},USD"


def orders_csv(lines: list[str], header: str = ORDERS_HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def landing_snapshot(zone: LandingZone) -> dict[str, bytes]:
    """Every file under the landing root and its bytes (staging excluded)."""
    return {
        str(p.relative_to(zone.root)): p.read_bytes()
        for p in sorted(zone.root.rglob("*.parquet"))
        if "_staging" not in p.parts
    }


def download_requests(n: int, seed: int = 7) -> pa.Table:
    """``n`` plausible download log lines in time order, timestamps zone-aware (UTC)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-03-01T00:00:00", "us").astype(np.int64)
    span = 7 * 24 * 3600 * 1_000_000
    ts = np.sort(start + rng.integers(0, span, n))
    octets = rng.integers(1, 255, (4096, 4))
    ips = np.array([".".join(map(str, o)) for o in octets])
    agents = np.array(
        [
            f"AppleCoreMedia/1.0.0.21{i} (iPhone; U; CPU OS 17_{i % 7} like Mac OS X)"
            for i in range(64)
        ]
    )
    ranges = np.array(["bytes=0-", "bytes=0-1", "bytes=1048576-", None], dtype=object)
    return pa.table(
        {
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "ip": pa.array(ips[rng.integers(0, len(ips), n)]),
            "user_agent": pa.array(agents[rng.integers(0, len(agents), n)]),
            "episode_id": pa.array(np.char.add("ep-", rng.integers(0, 400, n).astype(str))),
            "method": pa.array(np.where(rng.random(n) < 0.97, "GET", "HEAD")),
            "status": pa.array(rng.choice(np.array([200, 206, 304], dtype=np.int32), n)),
            "bytes_sent": pa.array(rng.integers(0, 60_000_000, n)),
            "range": pa.array(ranges[rng.integers(0, len(ranges), n)], pa.string()),
        }
    )


def write_export_csv(table: pa.Table, path: Path) -> Path:
    """CSV as an export writes it: ISO-8601 timestamps with Z (Arrow adds the microseconds)."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%SZ")
        columns.append(column)
    path.parent.mkdir(parents=True, exist_ok=True)
    pcsv.write_csv(
        pa.table(columns, names=table.column_names),
        path,
        write_options=pcsv.WriteOptions(quoting_style="needed"),
    )
    return path


def write_export_parquet(table: pa.Table, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def entity_columns(table: pa.Table, entity_schema: pa.Schema) -> pa.Table:
    """The entity's columns and ``_source_row`` of a landed table (no landing lineage)."""
    return table.select([*entity_schema.names, "_source_row"])
