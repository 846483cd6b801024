"""One table's rows as local files, CSV and/or Parquet, written batch by batch.

Files are written to a local folder first and uploaded only once every table of the export has
been read and checked (serving/exports/export.py): an error half-way leaves nothing in the
tenant's bucket. Both formats are written in the same pass over the rows.

CSV follows RFC 4180: a header line, comma-separated, CRLF line ends, UTF-8 without a byte order
mark. Text and timestamp fields are always quoted (quotes doubled inside), numbers, booleans and
dates never; so a null is an empty field and an empty string is ``""``. Timestamps are ISO 8601
(``2024-05-01T13:45:00.000000``, UTC without an offset as in the warehouse, or ending in ``Z``
when the column carries a time zone), dates ``YYYY-MM-DD``, booleans ``true``/``false``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("csv", "parquet")
PARQUET_COMPRESSION = "zstd"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
_HASH_CHUNK = 1 << 20


class ExportFormatError(ValueError):
    """An export format that is not one of FORMATS."""


def normalise_formats(formats: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
    """The requested formats in canonical order; at least one, each known."""
    requested = (formats,) if isinstance(formats, str) else tuple(formats)
    unknown = sorted(set(requested) - set(FORMATS))
    if unknown:
        raise ExportFormatError(
            f"unknown export format(s) {', '.join(unknown)}: choose from {', '.join(FORMATS)}"
        )
    if not requested:
        raise ExportFormatError(f"no export format asked for: choose from {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in requested)


@dataclass(frozen=True)
class WrittenFile:
    format: str
    path: Path
    bytes: int
    sha256: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def csv_header(names: list[str]) -> bytes:
    """The header line, quoted as RFC 4180 asks (only when needed); pyarrow quotes every name."""

    def field(name: str) -> str:
        if any(ch in name for ch in ',"\r\n'):
            return '"' + name.replace('"', '""') + '"'
        return name

    return (",".join(field(n) for n in names) + "\r\n").encode("utf-8")


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_timestamp(f.type) else f for f in schema]
    )


def _csv_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Timestamps as ISO 8601 text ('T' between date and time; pyarrow writes a space)."""
    columns = []
    for column in batch.columns:
        if pa.types.is_timestamp(column.type):
            suffix = "Z" if column.type.tz is not None else ""
            column = pc.strftime(column, format=f"%Y-%m-%dT%H:%M:%S{suffix}")
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


class TableFiles:
    """The files of one table: ``write`` each batch, then ``close`` for their sizes and hashes."""

    def __init__(self, folder: Path, stem: str, schema: pa.Schema, formats: tuple[str, ...]):
        self.schema = schema
        self.paths = {fmt: folder / f"{stem}.{fmt}" for fmt in formats}
        self._csv: pacsv.CSVWriter | None = None
        self._csv_sink = None
        self._parquet: pq.ParquetWriter | None = None
        if "csv" in formats:
            self._csv_schema = _csv_schema(schema)
            # Kept open across write() calls and closed in close()/abort(), not a with-block.
            self._csv_sink = open(self.paths["csv"], "wb")  # noqa: SIM115
            self._csv_sink.write(csv_header(schema.names))
            self._csv = pacsv.CSVWriter(
                self._csv_sink,
                self._csv_schema,
                write_options=pacsv.WriteOptions(
                    include_header=False, quoting_style="needed", eol="\r\n"
                ),
            )
        if "parquet" in formats:
            self._parquet = pq.ParquetWriter(
                self.paths["parquet"], schema, compression=PARQUET_COMPRESSION
            )

    def write(self, batch: pa.RecordBatch) -> None:
        if self._csv is not None:
            self._csv.write_batch(_csv_batch(batch, self._csv_schema))
        if self._parquet is not None:
            self._parquet.write_batch(batch)

    def close(self) -> list[WrittenFile]:
        self._close_writers()
        return [
            WrittenFile(fmt, path, path.stat().st_size, file_sha256(path))
            for fmt, path in self.paths.items()
        ]

    def abort(self) -> None:
        """Close without reporting (after an error); the caller's folder is discarded."""
        self._close_writers()

    def _close_writers(self) -> None:
        if self._csv is not None:
            self._csv.close()
            self._csv = None
        if self._csv_sink is not None:
            self._csv_sink.close()
            self._csv_sink = None
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
