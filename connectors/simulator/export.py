"""Writing export files: the columns of warehouse/entities.py, as Parquet or CSV, in parts.

File names follow the export-files contract (docs/developer/contracts.md): ``<entity>.<ext>``,
or ``<entity>-00001.<ext>``, ``<entity>-00002.<ext>``, ... when an entity has more rows than one
part holds. Columns are exactly the entity's, in its order and types; anything else a table
carries (internal ids used for ground truth) is dropped here. In CSV, timestamps are ISO-8601
UTC with milliseconds and ``Z``, dates ``YYYY-MM-DD``, nulls empty.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from warehouse.entities import ENTITIES

FORMATS = ("parquet", "csv")


def conform(table: pa.Table, entity: str) -> pa.Table:
    """``table`` reduced to ``entity``'s columns, in order, cast to its types. Columns added to
    the contract later (a pixel knows no order) are written empty when the world has none."""
    spec = ENTITIES[entity]
    schema = spec.schema
    for name in spec.added_columns:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, schema.field(name).type))
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise ValueError(f"{entity}: the simulator produced no column(s) {', '.join(missing)}")
    return table.select(schema.names).cast(schema)


def csv_ready(table: pa.Table) -> pa.Table:
    """Timestamps as ISO-8601 text with microseconds and Z (Arrow would write a space and no
    zone); other columns unchanged."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            micros = pc.cast(column, pa.timestamp("us"), safe=False)
            column = pc.strftime(micros, format="%Y-%m-%dT%H:%M:%SZ")
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write_csv(table: pa.Table, path: Path) -> None:
    pa_csv.write_csv(csv_ready(table), path)


def remove_previous_output(out_dir: Path) -> None:
    """Delete export files an earlier run left in ``out_dir`` (only names this writer uses), so
    that a smaller world does not leave stale parts behind."""
    pattern = re.compile(
        r"^(" + "|".join(map(re.escape, ENTITIES)) + r")(-\d{5})?\.(" + "|".join(FORMATS) + r")$"
    )
    for path in out_dir.iterdir():
        if path.is_file() and pattern.match(path.name):
            path.unlink()


class EntityWriter:
    """Streams one entity's rows into files of at most ``part_rows`` rows each."""

    def __init__(self, out_dir: Path, entity: str, file_format: str, part_rows: int) -> None:
        if file_format not in FORMATS:
            raise ValueError(f"unknown format {file_format!r}; expected one of {FORMATS}")
        if entity not in ENTITIES:
            raise ValueError(f"unknown entity {entity!r}")
        self.out_dir = out_dir
        self.entity = entity
        self.file_format = file_format
        self.part_rows = part_rows
        self.schema = ENTITIES[entity].schema
        self.rows = 0
        self._paths: list[Path] = []
        self._writer: pq.ParquetWriter | pa_csv.CSVWriter | None = None
        self._part_filled = 0

    def _open_part(self) -> None:
        path = self.out_dir / f"{self.entity}-{len(self._paths) + 1:05d}.{self.file_format}"
        self._paths.append(path)
        if self.file_format == "parquet":
            self._writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        else:
            csv_schema = csv_ready(self.schema.empty_table()).schema
            self._writer = pa_csv.CSVWriter(path, csv_schema)
        self._part_filled = 0

    def _close_part(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def write(self, table: pa.Table) -> None:
        table = conform(table, self.entity)
        offset = 0
        while offset < table.num_rows:
            if self._writer is None:
                self._open_part()
            take = min(self.part_rows - self._part_filled, table.num_rows - offset)
            piece = table.slice(offset, take)
            if self.file_format == "csv":
                piece = csv_ready(piece)
            self._writer.write_table(piece)
            self._part_filled += take
            self.rows += take
            offset += take
            if self._part_filled >= self.part_rows:
                self._close_part()

    def close(self) -> list[Path]:
        """Finish the files; an entity that fits in one part is named ``<entity>.<ext>``."""
        if not self._paths:  # no rows at all: still write the file, with its header
            self._open_part()
        self._close_part()
        if len(self._paths) == 1:
            single = self.out_dir / f"{self.entity}.{self.file_format}"
            self._paths[0].rename(single)
            self._paths = [single]
        return list(self._paths)


def write_entity(
    out_dir: Path, entity: str, table: pa.Table, file_format: str, part_rows: int
) -> list[Path]:
    writer = EntityWriter(out_dir, entity, file_format, part_rows)
    writer.write(table)
    return writer.close()
