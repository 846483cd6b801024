"""One tenant's export: its marts and ML tables as CSV and Parquet under its own S3 prefix.

The order of the steps is what makes an export safe to read and to re-run:

1. Read every table (one snapshot), check every row's tenant, write local files. Any error
   here leaves the bucket untouched.
2. Remove the previous manifest of the same export id, if any: from now until step 5 the export
   reads as incomplete.
3. Upload the files, each with its SHA-256. Keys depend only on the export id and the table, so
   a re-run replaces the same objects.
4. Delete objects under the export's folder that this run did not produce (a table dropped
   since the previous attempt), so the folder holds exactly what the manifest lists.
5. Upload ``manifest.json``: its presence means the export is complete.
6. Point ``latest.json`` at this export, unless it already points at one with a later as-of day.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from serving.exports.files import CONTENT_TYPES, FORMATS, TableFiles, WrittenFile
from serving.exports.files import normalise_formats as _formats
from serving.exports.isolation import verify_tenant_rows
from serving.exports.manifest import (
    MANIFEST_NAME,
    ColumnEntry,
    ExportManifest,
    FileEntry,
    TableEntry,
    redact_settings,
)
from serving.exports.readers import BATCH_ROWS, TenantReader, open_tenant_reader
from serving.exports.tables import TableRef, exportable_tables
from serving.exports.targets import ExportTarget
from serving.exports.upload import delete_keys, get_json, list_keys, put_file, put_json
from warehouse.connection import Warehouse
from warehouse.settings import validate_tenant_id

log = logging.getLogger(__name__)

_EXPORT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ExportError(ValueError):
    """An export asked for with arguments it cannot run with."""


def validate_export_id(export_id: str) -> str:
    """An export id is one key segment: letters, digits, '.', '_', '-' (default: YYYY-MM-DD)."""
    if not isinstance(export_id, str) or not _EXPORT_ID.match(export_id) or ".." in export_id:
        raise ExportError(
            f"export id {export_id!r} must be 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (the default is the as-of day, YYYY-MM-DD)"
        )
    return export_id


def earshot_version() -> str:
    try:
        return metadata.version("earshot")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class _LocalTable:
    entry: TableEntry
    files: list[WrittenFile]


def export_tenant(
    wh: Warehouse,
    tenant_id: str,
    target: ExportTarget,
    s3_client: Any,
    *,
    export_id: str | None = None,
    as_of: date | None = None,
    formats: tuple[str, ...] | list[str] = FORMATS,
    settings: dict[str, Any] | None = None,
    as_tenant_role: bool | None = None,
    engine: str | None = None,
    work_dir: Path | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ExportManifest:
    """Export ``tenant_id``'s marts (and ``ml`` tables) to ``target``; return the manifest.

    ``export_id`` defaults to the as-of day (``as_of``, default today in UTC), so a re-run the
    same day replaces the same keys. ``settings`` (the tenant's attribution settings, promoted
    model versions, ...) go into the manifest as given, with credential-like keys redacted.
    ``as_tenant_role`` (PostgreSQL): None reads as the tenant's read-only role when possible,
    True requires it, False never uses it; the manifest's ``row_level_security`` says what was
    done. ``engine``, when given, must be ``wh.engine`` (the manifest records ``wh.engine``).
    Local files go to a temporary folder (under ``work_dir`` if given), removed after.

    Callers exporting several tenants should first check their targets with
    :func:`serving.exports.targets.check_disjoint`.
    """
    validate_tenant_id(tenant_id)
    if engine is not None and engine != wh.engine:
        raise ExportError(f"engine {engine!r} given for a {wh.engine} warehouse")
    chosen = _formats(formats)
    generated = datetime.now(UTC)
    day = as_of or generated.date()
    export_id = validate_export_id(export_id or day.isoformat())
    folder = target.export_folder(export_id)
    selection = exportable_tables(wh)
    for skipped in selection.skipped:
        log.info(
            "export %s/%s: skipping %s.%s: %s",
            tenant_id,
            export_id,
            skipped.schema,
            skipped.table or "*",
            skipped.reason,
        )

    with tempfile.TemporaryDirectory(prefix="earshot-export-", dir=work_dir) as tmp:
        with open_tenant_reader(
            wh, tenant_id, as_tenant_role=as_tenant_role, batch_rows=batch_rows
        ) as reader:
            local = [
                _read_table(reader, ref, tenant_id, Path(tmp), chosen, folder)
                for ref in selection.tables
            ]
            reader_rls, reader_note = reader.row_level_security, reader.note
        all_rls = bool(local) and all(t.entry.row_level_security for t in local)
        manifest = ExportManifest(
            tenant_id=tenant_id,
            export_id=export_id,
            as_of=day.isoformat(),
            generated_at=generated.strftime("%Y-%m-%dT%H:%M:%SZ"),
            engine=wh.engine,
            formats=list(chosen),
            bucket=target.bucket,
            prefix=target.prefix,
            row_level_security=reader_rls and all_rls,
            row_level_security_note=_rls_note(reader_rls, reader_note, local),
            earshot_version=earshot_version(),
            settings=redact_settings(settings or {}),
            tables=[t.entry for t in local],
            skipped=[s.to_dict() for s in selection.skipped],
            manifest_key=folder + MANIFEST_NAME,
        )
        _publish(s3_client, target, manifest, local)
    log.info(
        "export %s/%s: %d tables, %d files to %s (row-level security: %s)",
        tenant_id,
        export_id,
        len(manifest.tables),
        len(manifest.files),
        target.uri(folder),
        manifest.row_level_security,
    )
    return manifest


def _read_table(
    reader: TenantReader,
    ref: TableRef,
    tenant_id: str,
    folder: Path,
    formats: tuple[str, ...],
    export_folder: str,
) -> _LocalTable:
    read = reader.read_table(ref)
    files = TableFiles(folder, ref.qualified, read.schema, formats)
    rows = 0
    try:
        for batch in read.batches:
            # Checked before the batch is written anywhere, even locally.
            rows += verify_tenant_rows(batch, tenant_id, ref.qualified)
            files.write(batch)
    except BaseException:
        files.abort()
        close = getattr(read.batches, "close", None)
        if close is not None:
            close()
        raise
    written = files.close()
    entry = TableEntry(
        schema=ref.schema,
        table=ref.table,
        rows=rows,
        row_level_security=read.row_level_security,
        columns=[
            ColumnEntry(c.name, str(f.type), c.warehouse_type)
            for c, f in zip(read.columns, read.schema, strict=True)
        ],
        files=[
            FileEntry(
                key=f"{export_folder}{f.path.name}", format=f.format, bytes=f.bytes, sha256=f.sha256
            )
            for f in written
        ],
        note=None if read.row_level_security else read.note,
    )
    log.info(
        "export %s: %s, %d rows (row-level security: %s)",
        tenant_id,
        ref.qualified,
        rows,
        read.row_level_security,
    )
    return _LocalTable(entry, written)


def _rls_note(reader_rls: bool, reader_note: str | None, local: list[_LocalTable]) -> str | None:
    if not reader_rls:
        return reader_note
    plain = [t.entry for t in local if not t.entry.row_level_security]
    if not plain:
        return None
    names = ", ".join(f"{e.schema}.{e.table}" for e in plain)
    return (
        f"read as the tenant's role with row-level security, except {names} "
        "(filtered on tenant_id and checked row by row; see each table's note)"
    )


def _publish(
    s3: Any, target: ExportTarget, manifest: ExportManifest, local: list[_LocalTable]
) -> None:
    bucket = target.bucket
    folder = target.export_folder(manifest.export_id)
    manifest_key = folder + MANIFEST_NAME
    before = set(list_keys(s3, bucket, folder))
    if manifest_key in before:
        # The previous attempt's manifest would describe files about to change.
        delete_keys(s3, bucket, [manifest_key])
    produced = set()
    for table in local:
        for entry, written in zip(table.entry.files, table.files, strict=True):
            put_file(
                s3, bucket, entry.key, written.path, written.sha256, CONTENT_TYPES[written.format]
            )
            produced.add(entry.key)
    stale = sorted(before - produced - {manifest_key})
    if stale:
        log.info(
            "export %s: removing %d stale object(s) under %s",
            manifest.tenant_id,
            len(stale),
            folder,
        )
        delete_keys(s3, bucket, stale)
    manifest_sha256 = put_json(s3, bucket, manifest_key, manifest.to_json())
    _point_latest(s3, target, manifest, manifest_sha256)


def _point_latest(
    s3: Any, target: ExportTarget, manifest: ExportManifest, manifest_sha256: str
) -> None:
    """``latest.json`` moves to this export unless it names another export with a later as-of
    day (a backfill of an older day must not hide the newest export)."""
    current = get_json(s3, target.bucket, target.latest_key)
    if (
        current
        and current.get("export_id") != manifest.export_id
        and str(current.get("as_of", "")) > manifest.as_of
    ):
        log.info(
            "export %s/%s: latest.json stays at %s (as of %s)",
            manifest.tenant_id,
            manifest.export_id,
            current.get("export_id"),
            current.get("as_of"),
        )
        return
    document = {
        "tenant_id": manifest.tenant_id,
        "export_id": manifest.export_id,
        "as_of": manifest.as_of,
        "generated_at": manifest.generated_at,
        "manifest_key": manifest.manifest_key,
        "manifest_sha256": manifest_sha256,
    }
    put_json(s3, target.bucket, target.latest_key, json.dumps(document, indent=2) + "\n")
