"""Read an export file in chunks of a fixed number of rows, with bounded memory.

Both readers check the header first (every problem found there refuses the file before a row is
read), then yield :class:`Chunk` objects: the entity's columns present in the file, named as in
``warehouse/entities.py`` (header names are matched ignoring case and surrounding blanks), and
the 1-based number of the chunk's first data row. CSV columns arrive as text, exactly as written;
Parquet columns in their own types. Chunks have exactly ``chunk_rows`` rows (the last one fewer),
whatever the format, so the same rows give the same chunks and hence the same landed batches.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from connectors.files.columns import required_columns
from connectors.files.naming import ExportFile
from connectors.files.report import FileRefused
from warehouse.entities import ENTITIES

CSV_BLOCK_BYTES = 4 << 20
# How far to read when looking for the line that is not UTF-8.
_SCAN_BYTES = 16 << 20
_MAX_HEADER_BYTES = 1 << 20


@dataclass
class Chunk:
    table: pa.Table
    first_row: int


@dataclass
class HeaderInfo:
    """The file's columns: entity column -> name in the file, and columns that are not used."""

    columns: dict[str, str]
    extra: list[str] = field(default_factory=list)


def _match_header(file: str, names: list[str], entity: str, line: int | None) -> HeaderInfo:
    wanted = set(ENTITIES[entity].schema.names)
    columns: dict[str, str] = {}
    extra = []
    seen: dict[str, str] = {}
    for original in names:
        key = original.strip().lower()
        if key in seen:
            raise FileRefused(
                file, f"the header names {key!r} twice ({seen[key]!r}, {original!r})", line=line
            )
        seen[key] = original
        if key in wanted:
            columns[key] = original
        else:
            extra.append(original)
    missing = [c for c in required_columns(entity) if c not in columns]
    if missing:
        raise FileRefused(
            file,
            f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(the header has: {', '.join(names) or 'nothing'})",
            line=line,
            column=", ".join(missing),
        )
    return HeaderInfo(columns=columns, extra=extra)


def _rechunk(batches: Iterator[pa.RecordBatch], rows: int, schema: pa.Schema) -> Iterator[pa.Table]:
    """Regroup record batches into tables of exactly ``rows`` rows (the last one fewer)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending, schema=schema)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending = rest.to_batches()
            count = rest.num_rows
    if count:
        yield pa.Table.from_batches(pending, schema=schema)


def _rename(table: pa.Table, header: HeaderInfo) -> pa.Table:
    back = {original: name for name, original in header.columns.items()}
    return table.rename_columns([back[c] for c in table.column_names])


class CsvExport:
    """A CSV export: UTF-8, comma-separated, double quotes, a header line."""

    def __init__(self, export: ExportFile, entity: str) -> None:
        self.path = export.path
        self.name = export.path.name
        self.compression = export.compression
        self.entity = entity
        if self.path.stat().st_size == 0:
            raise FileRefused(self.name, "the file is empty (0 bytes)")
        names = self._header_names()
        self.header = _match_header(self.name, names, entity, line=1)

    def _open_binary(self) -> BinaryIO:
        return gzip.open(self.path, "rb") if self.compression == "gzip" else open(self.path, "rb")

    def _header_names(self) -> list[str]:
        try:
            with self._open_binary() as handle:
                first = handle.readline(_MAX_HEADER_BYTES)
        except (OSError, EOFError) as exc:
            raise FileRefused(self.name, f"cannot be read: {exc}") from exc
        if not first.strip():
            reason = (
                "the file is empty"
                if not first
                else "the first line is empty; a CSV export starts with a header line"
            )
            raise FileRefused(self.name, reason, line=None if not first else 1)
        try:
            text = first.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FileRefused(self.name, _not_utf8(first, exc), line=1) from exc
        return next(csv.reader([text.rstrip("\r\n")]))

    def chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        originals = list(self.header.columns.values())
        ragged: list[pcsv.InvalidRow] = []

        def on_invalid_row(row: pcsv.InvalidRow) -> str:
            ragged.append(row)
            return "error"

        source = (
            pa.input_stream(str(self.path), compression="gzip")
            if self.compression == "gzip"
            else str(self.path)
        )
        try:
            reader = pcsv.open_csv(
                source,
                # One thread: the parser then knows line numbers, and it is not slower here.
                read_options=pcsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES),
                parse_options=pcsv.ParseOptions(invalid_row_handler=on_invalid_row),
                convert_options=pcsv.ConvertOptions(
                    column_types={c: pa.string() for c in originals},
                    include_columns=originals,
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                    null_values=[""],
                ),
            )
            schema = reader.schema
            first_row = 1
            for table in _rechunk(reader, chunk_rows, schema):
                yield Chunk(_rename(table, self.header), first_row)
                first_row += table.num_rows
        except pa.ArrowInvalid as exc:
            raise self._refusal(exc, ragged) from exc

    def _refusal(self, exc: pa.ArrowInvalid, ragged: list[pcsv.InvalidRow]) -> FileRefused:
        if ragged:
            row = ragged[0]
            return FileRefused(
                self.name,
                f"expected {row.expected_columns} fields, found {row.actual_columns} "
                "(a separator or quote problem, or a cut-off line): the columns of the rows "
                "after it cannot be trusted",
                line=row.number if row.number and row.number > 0 else None,
            )
        if "UTF8" in str(exc) or "UTF-8" in str(exc):
            line, reason = self._find_non_utf8()
            return FileRefused(self.name, reason, line=line)
        return FileRefused(self.name, f"cannot be read as CSV: {exc}")

    def _find_non_utf8(self) -> tuple[int | None, str]:
        """The first line that is not UTF-8 (read in blocks that end on a line break)."""
        lines_before = 0
        carry = b""
        with self._open_binary() as handle:
            while True:
                block = handle.read(_SCAN_BYTES)
                data = carry + block
                cut = data.rfind(b"\n") + 1 if block else len(data)
                piece, carry = data[:cut], data[cut:]
                try:
                    piece.decode("utf-8")
                except UnicodeDecodeError as exc:
                    line = lines_before + piece.count(b"\n", 0, exc.start) + 1
                    start = piece.rfind(b"\n", 0, exc.start) + 1
                    return line, _not_utf8(piece[start:], exc, offset=start)
                lines_before += piece.count(b"\n")
                if not block:
                    return None, "is not valid UTF-8"


def _not_utf8(line: bytes, exc: UnicodeDecodeError, offset: int = 0) -> str:
    position = exc.start - offset
    byte = line[position] if 0 <= position < len(line) else None
    detail = f" (byte 0x{byte:02x} at position {position + 1} of the line)" if byte else ""
    return f"not valid UTF-8{detail}: save the file as UTF-8"


class ParquetExport:
    """A Parquet export."""

    def __init__(self, export: ExportFile, entity: str) -> None:
        self.path = export.path
        self.name = export.path.name
        self.entity = entity
        if self.path.stat().st_size == 0:
            raise FileRefused(self.name, "the file is empty (0 bytes)")
        try:
            self.file = pq.ParquetFile(self.path)
        except (pa.ArrowException, OSError) as exc:
            raise FileRefused(self.name, f"is not a readable Parquet file: {exc}") from exc
        names = self.file.schema_arrow.names
        self.header = _match_header(self.name, names, entity, line=None)

    def chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        originals = list(self.header.columns.values())
        schema = pa.schema([self.file.schema_arrow.field(c) for c in originals])
        try:
            batches = self.file.iter_batches(batch_size=chunk_rows, columns=originals)
            first_row = 1
            for table in _rechunk(batches, chunk_rows, schema):
                yield Chunk(_rename(table, self.header), first_row)
                first_row += table.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise FileRefused(self.name, f"is not a readable Parquet file: {exc}") from exc


def open_export(export: ExportFile, entity: str) -> CsvExport | ParquetExport:
    """Open an export file and check its header; raises :class:`FileRefused`."""
    if export.format == "parquet":
        return ParquetExport(export, entity)
    return CsvExport(export, entity)
