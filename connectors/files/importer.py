"""Land export files (CSV or Parquet) for one tenant; bad rows to quarantine, bad files refused.

Each file is imported in its own landing transaction: its batches and quarantined rows land
together when the whole file has been read, or not at all when the file is refused part-way (a
line that is not UTF-8 near the end refuses the rows before it too) or when landing it would take
the tenant over a quota (the zone's quota guard, ``warehouse/quotas.py``, refuses the commit).
Files are read in chunks of ``chunk_rows`` rows, so memory is bounded by the chunk size plus 24
bytes per distinct row for finding repeats (see ``duplicates.py``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from connectors.files.columns import rule
from connectors.files.conversion import ColumnTypeError, Problem, convert_column
from connectors.files.duplicates import DuplicateTracker
from connectors.files.naming import ExportFile, classify, export_files
from connectors.files.readers import Chunk, open_export
from connectors.files.report import (
    EMPTY,
    IGNORED,
    LANDED,
    REFUSED,
    UNRECOGNISED,
    FileRefused,
    FileReport,
    ImportReport,
    count_true,
    erasure_messages,
)
from warehouse.data_subjects import ErasureFilter
from warehouse.entities import ENTITIES
from warehouse.landing import LandingTransaction, LandingZone
from warehouse.quotas import QuotaExceeded
from warehouse.row_hashes import row_hashes
from warehouse.settings import validate_tenant_id

SOURCE = "files"
CHUNK_ROWS = 1_000_000
# Row-level messages kept in a report per file; every quarantined row keeps its reason anyway.
MAX_ROW_MESSAGES = 20


@dataclass
class _ChunkResult:
    landed: pa.Table
    quarantined: pa.Table
    repeated: int
    messages: list[str]
    # Hashes of the landed rows over all entity columns, when already computed.
    content_hashes: tuple[np.ndarray, np.ndarray] | None


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _raw_record(row: dict[str, object]) -> str:
    """A row as it arrived, as a JSON object (the columns that were read)."""
    return json.dumps({k: _json_value(v) for k, v in row.items()}, ensure_ascii=False)


def _convert(
    entity: str, raw: pa.Table, file_name: str
) -> tuple[pa.Table, list[tuple[str, Problem]]]:
    """The chunk in the entity's types, and every column's problems."""
    spec = ENTITIES[entity]
    values: list[pa.Array] = []
    problems: list[tuple[str, Problem]] = []
    for field in spec.schema:
        if field.name not in raw.column_names:
            values.append(pa.nulls(raw.num_rows, field.type))
            continue
        try:
            converted = convert_column(
                raw.column(field.name).combine_chunks(),
                field.type,
                field.name,
                rule(entity, field.name),
            )
        except ColumnTypeError as exc:
            raise FileRefused(file_name, str(exc), column=field.name) from exc
        values.append(converted.values)
        problems.extend((field.name, p) for p in converted.problems)
    return pa.table(values, schema=spec.schema), problems


def _process_chunk(
    entity: str, chunk: Chunk, file_name: str, tracker: DuplicateTracker
) -> _ChunkResult:
    spec = ENTITIES[entity]
    raw = chunk.table
    n = raw.num_rows
    rows = np.arange(chunk.first_row, chunk.first_row + n, dtype=np.int64)
    typed, problems = _convert(entity, raw, file_name)

    bad = np.zeros(n, dtype=bool)
    for _, problem in problems:
        bad |= problem.mask
    good = np.flatnonzero(~bad)
    candidates = typed if good.size == n else typed.filter(pa.array(~bad))

    # Repeats among the rows that converted: by key when the entity has one, else whole rows.
    key = list(spec.key) or spec.schema.names
    h1, h2 = row_hashes(candidates, key)
    first = tracker.first_rows(h1, h2, rows[good])
    repeat = first > 0
    if repeat.any():
        keep = ~repeat
        landed = candidates.filter(pa.array(keep))
        landed_rows = rows[good][keep]
        h1, h2 = h1[keep], h2[keep]
    else:
        landed = candidates
        landed_rows = rows[good]
    landed = landed.append_column(
        "_source_file", pa.repeat(pa.scalar(file_name, pa.string()), len(landed_rows))
    ).append_column("_source_row", pa.array(landed_rows, pa.int64()))

    # Reasons and raw values, built only for the rows that did not land.
    same = f" (same {', '.join(spec.key)})" if spec.key else ""
    repeated_from = dict(zip(good[repeat].tolist(), first[repeat].tolist(), strict=True))
    order = np.union1d(np.flatnonzero(bad), good[repeat]).astype(np.int64)
    raw_rows = raw.take(pa.array(order)).to_pylist() if order.size else []
    reasons = []
    for index, raw_row in zip(order.tolist(), raw_rows, strict=True):
        if bad[index]:
            reasons.append(
                "; ".join(
                    f"column {name}: {problem.explain(raw_row.get(name))}"
                    for name, problem in problems
                    if problem.mask[index]
                )
            )
        else:
            reasons.append(f"duplicate of row {repeated_from[index]}{same}")
    messages = [
        f"{file_name} row {int(rows[index])}"
        + (", " if reason.startswith("column ") else ": ")
        + reason
        for index, reason in zip(order[:MAX_ROW_MESSAGES].tolist(), reasons, strict=False)
    ]
    quarantined = pa.table(
        {
            "_source_file": pa.repeat(pa.scalar(file_name, pa.string()), len(order)),
            "_source_row": pa.array(rows[order], pa.int64()),
            "reason": pa.array(reasons, pa.string()),
            "raw_record": pa.array([_raw_record(r) for r in raw_rows], pa.string()),
        }
    )
    return _ChunkResult(
        landed=landed,
        quarantined=quarantined,
        repeated=int(repeat.sum()),
        messages=messages,
        # Without a key the repeat check hashed every entity column: the batch id can reuse it.
        content_hashes=None if spec.key else (h1, h2),
    )


def _erased(
    erasures: ErasureFilter, result: _ChunkResult
) -> tuple[pa.Array | None, pa.Array | None]:
    """Which landed and quarantined rows belong to erased data subjects (None: no erasures)."""
    if erasures.empty:
        return None, None
    drop = (
        erasures.erased_mask(result.landed.column("ip"))
        if "ip" in result.landed.column_names
        else None
    )
    return drop, erasures.record_erased_mask(result.quarantined.column("raw_record"))


def _import_rows(
    tx: LandingTransaction,
    export: ExportFile,
    entity: str,
    report: FileReport,
    chunk_rows: int,
    extracted_at: datetime,
    erasures: ErasureFilter,
) -> None:
    reader = open_export(export, entity)
    report.extra_columns = list(reader.header.extra)
    if reader.header.extra:
        report.messages.append(
            f"{export.path.name}: ignored column(s) not in {entity}: "
            + ", ".join(reader.header.extra)
        )
    tracker = DuplicateTracker()
    row_messages = 0
    for chunk in reader.chunks(chunk_rows):
        result = _process_chunk(entity, chunk, export.path.name, tracker)
        report.rows_read += chunk.table.num_rows
        last_row = chunk.first_row + chunk.table.num_rows - 1
        cursor = f"{export.path.name}#rows={chunk.first_row}-{last_row}"
        drop, drop_quarantined = _erased(erasures, result)
        report.landed += tx.write_batch(
            SOURCE,
            entity,
            result.landed,
            cursor=cursor,
            extracted_at=extracted_at,
            content_hashes=result.content_hashes,
            drop=drop,
        )
        report.quarantine += tx.write_quarantine(
            SOURCE, entity, result.quarantined, extracted_at=extracted_at, drop=drop_quarantined
        )
        erased, erased_quarantined = count_true(drop), count_true(drop_quarantined)
        report.rows_erased += erased + erased_quarantined
        report.rows_landed += result.landed.num_rows - erased
        report.rows_quarantined += result.quarantined.num_rows - erased_quarantined
        report.rows_repeated += result.repeated
        take = max(0, MAX_ROW_MESSAGES - row_messages)
        report.messages += result.messages[:take]
        row_messages += len(result.messages[:take])
    report.messages += erasure_messages(
        export.path.name, report.rows_erased, erasures.stale_entries
    )
    if report.rows_quarantined > row_messages:
        report.messages.append(
            f"{export.path.name}: {report.rows_quarantined:,} rows quarantined in all "
            f"(first {row_messages} shown); each one's reason is in the quarantine"
        )


def _import_export(
    tenant_id: str,
    export: ExportFile,
    landing: LandingZone,
    chunk_rows: int,
    extracted_at: datetime,
    erasures: ErasureFilter,
) -> FileReport:
    started = time.perf_counter()
    if export.ignored:
        return FileReport(export.path, None, IGNORED, messages=[export.ignored])
    if export.entity is None:
        return FileReport(export.path, None, UNRECOGNISED, messages=[export.problem or ""])
    report = FileReport(export.path, export.entity, LANDED)
    try:
        with landing.transaction(tenant_id) as tx:
            _import_rows(tx, export, export.entity, report, chunk_rows, extracted_at, erasures)
    except OSError as exc:
        # The file vanished or cannot be opened: a property of the file, like any refusal.
        refusal = FileRefused(export.path.name, f"cannot be read: {exc.strerror or exc}")
        report = FileReport(export.path, export.entity, REFUSED, refusal=refusal)
        report.messages.append(str(refusal))
    except FileRefused as refusal:
        report = FileReport(export.path, export.entity, REFUSED, refusal=refusal)
        report.messages.append(str(refusal))
    except QuotaExceeded as exceeded:
        # Refused at commit by the zone's quota guard: the transaction rolled back, so nothing of
        # the file landed. Not a crash: the other files are still tried (a smaller one may fit),
        # and the file stays in the inbox until the quota is raised.
        refusal = FileRefused(export.path.name, str(exceeded))
        report = FileReport(
            export.path, export.entity, REFUSED, refusal=refusal, quota_exceeded=exceeded
        )
        report.messages.append(str(exceeded))
    else:
        if report.rows_read == 0:
            report.status = EMPTY
    report.seconds = time.perf_counter() - started
    return report


def import_file(
    tenant_id: str,
    path: Path,
    landing: LandingZone,
    *,
    entity: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    extracted_at: datetime | None = None,
) -> ImportReport:
    """Land one export file; ``entity`` overrides the entity its name gives."""
    validate_tenant_id(tenant_id)
    path = Path(path)
    moment = extracted_at or datetime.now(UTC)
    report = ImportReport(tenant_id=tenant_id, source=path)
    erasures = ErasureFilter.load(landing, tenant_id)
    report.files.append(
        _import_export(tenant_id, classify(path, entity), landing, chunk_rows, moment, erasures)
    )
    return report


def import_directory(
    tenant_id: str,
    directory: Path,
    landing: LandingZone,
    *,
    chunk_rows: int = CHUNK_ROWS,
    extracted_at: datetime | None = None,
) -> ImportReport:
    """Land every export file directly in ``directory`` (see docs/user/file-import.md)."""
    validate_tenant_id(tenant_id)
    directory = Path(directory)
    if not directory.is_dir():
        raise NotADirectoryError(f"{directory} is not a folder")
    moment = extracted_at or datetime.now(UTC)
    report = ImportReport(tenant_id=tenant_id, source=directory)
    exports, folders = export_files(directory)
    # Rows of erased data subjects never land again, whatever export brings them back.
    erasures = ErasureFilter.load(landing, tenant_id)
    for export in exports:
        report.files.append(
            _import_export(tenant_id, export, landing, chunk_rows, moment, erasures)
        )
    for folder in folders:
        report.files.append(
            FileReport(folder, None, IGNORED, messages=["a folder: sub-folders are not read"])
        )
    return report
