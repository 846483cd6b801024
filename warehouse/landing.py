"""The landing zone: append-only, idempotent Parquet batches per tenant, source and entity.

Layout under the landing root (``$EARSHOT_HOME/landing`` by default)::

    <tenant>/<source>/<entity>/dt=<YYYY-MM-DD>/<batch>.parquet              landed rows
    <tenant>/_quarantine/<source>/<entity>/dt=<YYYY-MM-DD>/<batch>.parquet  quarantined rows
    <tenant>/_staging/<transaction>/...                                     writes not yet committed

Landed files have the schema ``warehouse.entities.landed_schema(entity)``; quarantine files
``QUARANTINE_SCHEMA``. ``dt`` is the UTC date of the entity's event time, or of extraction for
entities without one (episodes, campaigns, placements).

Idempotency: a batch id is a digest of the batch's *content* — source, entity and the values of
the entity's columns, row by row — and nothing else (not the time, cursor or file name). The same
rows landed again therefore get the same id and the same path and replace the earlier file; the
bytes differ only in the lineage columns that describe the landing itself (``_extracted_at``,
``_cursor``, and ``_source_file``/``_source_row`` when the rows came from a renamed or reordered
file). For entities partitioned by extraction date, a batch that already exists under another
``dt=`` folder is replaced *there*, so landing the same file on another day does not duplicate it.
Nothing else is ever deleted or rewritten by a write.

Atomicity: every write goes through a :class:`LandingTransaction`. Files are first written to the
tenant's staging folder (each one atomically, via the storage), and only a commit moves them to
their final keys, one atomic rename each. A failure before the commit leaves the landing zone as
it was; a crash *during* a commit can leave some of a transaction's files in place, each complete
and identical to what a re-run writes, so re-running the same import finishes the job.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from warehouse.entities import ENTITIES, METADATA_SCHEMA, QUARANTINE_SCHEMA, TS, landed_schema
from warehouse.landing_storage import LandingStorage, LocalFolderStorage
from warehouse.row_hashes import row_hashes
from warehouse.settings import deployment, paths, validate_tenant_id

QUARANTINE_DIR = "_quarantine"
STAGING_DIR = "_staging"
# A staging folder untouched this long belongs to an import that crashed.
STALE_STAGING_S = 24 * 3600
SOURCE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Columns a caller may hand over with the rows; the zone adds the other lineage columns.
CALLER_LINEAGE = ("_source_file", "_source_row", "_record")
QUARANTINE_INPUT = ("_source_file", "_source_row", "reason", "raw_record")
PARQUET_COMPRESSION = "zstd"
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class LandedFile:
    """One Parquet file written by the landing zone (``key`` within the zone's storage)."""

    key: str
    tenant_id: str
    source: str
    entity: str
    dt: date
    batch_id: str
    rows: int
    quarantine: bool = False


def validate_source(source: str) -> str:
    """Return ``source`` when it is safe as a folder name (``files``, ``megaphone``, ...)."""
    if not isinstance(source, str) or not SOURCE_PATTERN.fullmatch(source):
        raise ValueError(
            f"invalid source name {source!r}: use lower-case letters, digits and underscores, "
            "starting with a letter"
        )
    return source


def validate_entity(entity: str) -> str:
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}; known: {', '.join(sorted(ENTITIES))}")
    return entity


def _utc_naive(moment: datetime | None) -> datetime:
    """``moment`` (default now) as a naive UTC datetime with microsecond precision."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _day_number(day: date) -> int:
    return (day - EPOCH).days


def _constant(value: object, n: int, kind: pa.DataType) -> pa.Array:
    """``n`` copies of one value (lineage columns), built without a Python list."""
    return pa.repeat(pa.scalar(value, kind), n)


def parquet_options(schema: pa.Schema) -> dict[str, object]:
    """Encodings that make the files small and quick to write.

    Text is dictionary-encoded (ids, user agents and the lineage columns repeat a lot); integers
    and timestamps are delta-encoded (log times and row numbers grow steadily, which zstd alone
    handles slowly); floats are split by byte. DuckDB and pyarrow read all of them.
    """
    encodings: dict[str, str] = {}
    for field in schema:
        kind = field.type
        if pa.types.is_integer(kind) or pa.types.is_timestamp(kind) or pa.types.is_date32(kind):
            encodings[field.name] = "DELTA_BINARY_PACKED"
        elif pa.types.is_floating(kind):
            encodings[field.name] = "BYTE_STREAM_SPLIT"
    return {
        "compression": PARQUET_COMPRESSION,
        "use_dictionary": [f.name for f in schema if f.name not in encodings],
        "column_encoding": encodings,
    }


def _without(
    table: pa.Table, days: np.ndarray, drop: pa.Array | pa.ChunkedArray
) -> tuple[pa.Table, np.ndarray]:
    """``table`` and ``days`` without the rows ``drop`` marks (null counts as keep)."""
    if len(drop) != table.num_rows:
        raise ValueError(f"drop has {len(drop)} values for {table.num_rows} rows")
    if not pc.any(drop).as_py():
        # the usual case once a tenant has erasures: none of them in this batch
        return table, days
    keep = pc.invert(pc.fill_null(drop, False))
    if isinstance(keep, pa.ChunkedArray):
        keep = keep.combine_chunks()
    return table.filter(keep), days[keep.to_numpy(zero_copy_only=False)]


def _sort_by_day(table: pa.Table, days: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """Rows grouped by day; a stable sort keeps their source order within each day."""
    if len(days) < 2 or not np.any(days[1:] < days[:-1]):
        return table, days  # already in order, as logs usually are
    order = np.argsort(days, kind="stable")
    return table.take(pa.array(order)), days[order]


def _to_type(column: pa.ChunkedArray, target: pa.DataType, name: str) -> pa.ChunkedArray:
    """Cast a caller's column to the landed type; time-zone-aware timestamps become naive UTC."""
    if column.type == target:
        return column
    if pa.types.is_timestamp(target) and pa.types.is_timestamp(column.type) and column.type.tz:
        # Arrow keeps instants in UTC, so dropping the zone after the cast keeps UTC wall time.
        column = pc.cast(column, pa.timestamp(target.unit, tz="UTC"))
        return pc.cast(column, target)
    try:
        return pc.cast(column, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"column {name}: cannot store {column.type} as {target}: {exc}") from exc


def _digest(
    kind: str,
    source: str,
    entity: str,
    table: pa.Table,
    hashes: tuple[np.ndarray, np.ndarray] | None = None,
) -> str:
    """A content digest: equal for equal rows in equal order, whatever their Arrow layout."""
    h1, h2 = hashes if hashes is not None else row_hashes(table)
    if len(h1) != table.num_rows or len(h2) != table.num_rows:
        raise ValueError("content_hashes must hold one hash pair per row")
    digest = hashlib.sha256()
    header = f"earshot-{kind}-v1\0{source}\0{entity}\0{table.schema.to_string()}\0{table.num_rows}"
    digest.update(header.encode())
    digest.update(h1.tobytes())
    digest.update(h2.tobytes())
    return digest.hexdigest()[:32]


class TenantScopeError(PermissionError):
    """A write outside the tenant a landing zone (or a pipeline run) is bound to."""


@dataclass(frozen=True)
class StagedFile:
    """A file staged by a transaction: where it will land, what it holds, how many bytes."""

    key: str
    landed: LandedFile
    size_bytes: int


class QuotaGuard(Protocol):
    """Called before a commit with the staged files; raises to refuse the whole transaction."""

    def __call__(self, tenant_id: str, staged: list[StagedFile]) -> None: ...


class LandingTransaction:
    """Writes for one tenant that become visible together, at :meth:`commit`."""

    def __init__(self, zone: LandingZone, tenant_id: str) -> None:
        self.zone = zone
        self.tenant_id = validate_tenant_id(tenant_id)
        self._staging = f"{self.tenant_id}/{STAGING_DIR}/{uuid.uuid4().hex}"
        self._staged: dict[str, tuple[str, LandedFile]] = {}
        self._closed = False
        # What the commit made visible (empty until then).
        self.landed: list[LandedFile] = []

    # -- writing -----------------------------------------------------------------------------

    def write_batch(
        self,
        source: str,
        entity: str,
        table: pa.Table,
        *,
        cursor: str,
        extracted_at: datetime | None = None,
        content_hashes: tuple[np.ndarray, np.ndarray] | None = None,
        drop: pa.Array | pa.ChunkedArray | None = None,
    ) -> list[LandedFile]:
        """Stage ``table`` (the entity's columns, optionally ``_source_file``/``_source_row``/
        ``_record``).

        Adds the lineage columns, splits the rows by ``dt`` and returns one file per date. The
        rows keep their order within each file. A caller that already computed
        ``row_hashes(table, <entity columns in schema order>)`` may pass them as
        ``content_hashes`` to save computing them again for the batch id.

        ``drop`` (booleans, one per row) leaves rows out *after* the batch id is computed from
        all of them: rows of an erased data subject (warehouse/data_subjects.py) then never land,
        and a re-import of the same export still replaces the same file instead of adding one.
        """
        validate_source(source)
        spec = ENTITIES[validate_entity(entity)]
        names = set(table.column_names)
        missing = [f.name for f in spec.schema if f.name not in names]
        extra = sorted(names - set(spec.schema.names) - set(CALLER_LINEAGE))
        if missing or extra:
            raise ValueError(
                f"{entity} batch for {self.tenant_id}/{source}: "
                + "; ".join(
                    part
                    for part in (
                        f"missing column(s) {', '.join(missing)}" if missing else "",
                        f"unexpected column(s) {', '.join(extra)}" if extra else "",
                    )
                    if part
                )
            )
        if table.num_rows == 0:
            return []
        data = pa.table(
            [_to_type(table.column(f.name), f.type, f.name) for f in spec.schema],
            schema=spec.schema,
        )
        extracted = _utc_naive(extracted_at)
        batch_id = _digest("batch", source, entity, data, content_hashes)
        n = data.num_rows

        if spec.event_time is not None:
            event = data.column(spec.event_time)
            if event.null_count:
                raise ValueError(
                    f"{entity} batch for {self.tenant_id}/{source}: {event.null_count} row(s) "
                    f"have no {spec.event_time}, which picks the dt= partition"
                )
            days = pc.cast(pc.cast(event, pa.date32()), pa.int32()).to_numpy()
        else:
            home = self._existing_dt(f"{self.tenant_id}/{source}/{entity}", batch_id)
            days = np.full(n, _day_number(home or extracted.date()), dtype=np.int32)

        source_file = (
            table.column("_source_file").cast(pa.string())
            if "_source_file" in names
            else pa.nulls(n, pa.string())
        )
        source_row = (
            table.column("_source_row").cast(pa.int64())
            if "_source_row" in names
            else pa.array(np.arange(1, n + 1, dtype=np.int64))
        )
        record = (
            table.column("_record").cast(pa.string())
            if "_record" in names
            else pa.nulls(n, pa.string())
        )
        rows = pa.table(
            list(data.columns) + [source_file, source_row, record],
            names=spec.schema.names + list(CALLER_LINEAGE),
        )
        if drop is not None:
            rows, days = _without(rows, days, drop)
            if rows.num_rows == 0:
                return []
        rows, days = _sort_by_day(rows, days)
        n = rows.num_rows
        # Constant lineage columns are added after sorting: nothing to move for them.
        lineage = {
            "_tenant_id": _constant(self.tenant_id, n, pa.string()),
            "_source": _constant(source, n, pa.string()),
            "_extracted_at": _constant(extracted, n, TS),
            "_batch_id": _constant(batch_id, n, pa.string()),
            "_cursor": _constant(cursor, n, pa.string()),
            "_source_file": rows.column("_source_file"),
            "_source_row": rows.column("_source_row"),
            "_record": rows.column("_record"),
        }
        landed = pa.table(
            [rows.column(name) for name in spec.schema.names]
            + [lineage[f.name] for f in METADATA_SCHEMA],
            schema=landed_schema(entity),
        )
        prefix = f"{self.tenant_id}/{source}/{entity}"
        return self._stage_by_day(landed, days, prefix, source, entity, batch_id, False)

    def write_quarantine(
        self,
        source: str,
        entity: str,
        rows: pa.Table,
        *,
        extracted_at: datetime | None = None,
        drop: pa.Array | pa.ChunkedArray | None = None,
    ) -> list[LandedFile]:
        """Stage quarantined rows: columns ``_source_file, _source_row, reason, raw_record``.

        ``drop`` works as in :meth:`write_batch`.
        """
        validate_source(source)
        validate_entity(entity)
        missing = [c for c in QUARANTINE_INPUT if c not in rows.column_names]
        extra = sorted(set(rows.column_names) - set(QUARANTINE_INPUT))
        if missing or extra:
            raise ValueError(
                f"quarantine rows need exactly the columns {', '.join(QUARANTINE_INPUT)}"
                f" (missing: {', '.join(missing) or '-'}; unexpected: {', '.join(extra) or '-'})"
            )
        if rows.num_rows == 0:
            return []
        types = {f.name: f.type for f in QUARANTINE_SCHEMA}
        data = pa.table(
            [_to_type(rows.column(c), types[c], c) for c in QUARANTINE_INPUT],
            names=list(QUARANTINE_INPUT),
        )
        extracted = _utc_naive(extracted_at)
        batch_id = _digest("quarantine", source, entity, data)
        n = data.num_rows
        columns = {
            "_tenant_id": _constant(self.tenant_id, n, pa.string()),
            "_source": _constant(source, n, pa.string()),
            "entity": _constant(entity, n, pa.string()),
            "_batch_id": _constant(batch_id, n, pa.string()),
            "_extracted_at": _constant(extracted, n, TS),
            **{c: data.column(c) for c in QUARANTINE_INPUT},
        }
        table = pa.table([columns[f.name] for f in QUARANTINE_SCHEMA], schema=QUARANTINE_SCHEMA)
        prefix = f"{self.tenant_id}/{QUARANTINE_DIR}/{source}/{entity}"
        day = self._existing_dt(prefix, batch_id) or extracted.date()
        days = np.full(n, _day_number(day), dtype=np.int32)
        if drop is not None:
            table, days = _without(table, days, drop)
            if table.num_rows == 0:
                return []
        return self._stage_by_day(table, days, prefix, source, entity, batch_id, True)

    # -- committing --------------------------------------------------------------------------

    def staged(self) -> list[StagedFile]:
        """What the commit would make visible: one entry per file, with its size in bytes."""
        sizes = self.zone.storage.sizes(self._staging)
        return [
            StagedFile(final_key, landed, sizes.get(staged_key, 0))
            for final_key, (staged_key, landed) in self._staged.items()
        ]

    def commit(self) -> list[LandedFile]:
        """Move every staged file to its final key; returns what landed.

        The zone's ``quota_guard`` sees the staged files first; when it raises, nothing moves
        and the transaction is rolled back.
        """
        self._ensure_open()
        storage = self.zone.storage
        if self.zone.quota_guard is not None and self._staged:
            try:
                self.zone.quota_guard(self.tenant_id, self.staged())
            except BaseException:
                self.rollback()
                raise
        try:
            for final_key, (staged_key, _) in self._staged.items():
                storage.move(staged_key, final_key)
        finally:
            self._closed = True
            storage.delete_prefix(self._staging)
        self.landed = [landed for _, landed in self._staged.values()]
        return self.landed

    def rollback(self) -> None:
        """Forget every staged file; the landing zone stays as it was."""
        if not self._closed:
            self._closed = True
            self.zone.storage.delete_prefix(self._staging)

    def __enter__(self) -> LandingTransaction:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None and not self._closed:
            self.commit()
        else:
            self.rollback()

    # -- internals ---------------------------------------------------------------------------

    def _ensure_open(self) -> None:
        if self._closed:
            raise RuntimeError("this landing transaction is already committed or rolled back")

    def _existing_dt(self, prefix: str, batch_id: str) -> date | None:
        """The ``dt=`` folder already holding ``batch_id`` under ``prefix``, if any."""
        name = f"{batch_id}.parquet"
        for key in self.zone.storage.list_files(prefix, suffix=name):
            folder = key.split("/")[-2]
            if key.endswith("/" + name) and folder.startswith("dt="):
                return date.fromisoformat(folder[3:])
        return None

    def _stage_by_day(
        self,
        table: pa.Table,
        days: np.ndarray,
        prefix: str,
        source: str,
        entity: str,
        batch_id: str,
        quarantine: bool,
    ) -> list[LandedFile]:
        self._ensure_open()
        table, days = _sort_by_day(table, days)
        starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
        ends = np.r_[starts[1:], len(days)]
        written = []
        for start, end in zip(starts, ends, strict=True):
            part = table.slice(start, end - start)
            dt = EPOCH + timedelta(days=int(days[start]))
            final_key = f"{prefix}/dt={dt.isoformat()}/{batch_id}.parquet"
            staged_key = f"{self._staging}/{len(self._staged):06d}.parquet"
            with self.zone.storage.open_write(staged_key) as handle:
                pq.write_table(part, handle, **parquet_options(part.schema))
            landed = LandedFile(
                key=final_key,
                tenant_id=self.tenant_id,
                source=source,
                entity=entity,
                dt=dt,
                batch_id=batch_id,
                rows=part.num_rows,
                quarantine=quarantine,
            )
            previous = self._staged.get(final_key)
            if previous is not None:
                # The same content staged twice in one transaction: keep one copy.
                self.zone.storage.delete_prefix(previous[0])
            self._staged[final_key] = (staged_key, landed)
            written.append(landed)
        return written


class LandingZone:
    """The landing zone: a local folder under ``root`` or another storage (S3 in production).

    ``quota_guard`` (optional) is asked before every commit and may refuse it; see
    ``warehouse/quotas.py``. ``tenant_scope`` (optional) binds the zone to one tenant: writing or
    deleting another tenant's prefix raises :class:`TenantScopeError` (a pipeline run gets a zone
    bound to its partition's tenant).
    """

    def __init__(
        self,
        root: Path | None = None,
        storage: LandingStorage | None = None,
        quota_guard: QuotaGuard | None = None,
        tenant_scope: str | None = None,
    ) -> None:
        if storage is None:
            if root is None:
                raise ValueError("a landing zone needs a root folder or a storage")
            storage = LocalFolderStorage(Path(root))
        self.storage = storage
        # The local folder, when there is one (tools and tests read files there directly).
        self.root: Path | None = getattr(storage, "root", None)
        self.quota_guard = quota_guard
        self.tenant_scope = validate_tenant_id(tenant_scope) if tenant_scope else None

    def check_scope(self, tenant_id: str) -> str:
        """``tenant_id`` when this zone may write it; TenantScopeError otherwise."""
        validate_tenant_id(tenant_id)
        if self.tenant_scope is not None and tenant_id != self.tenant_scope:
            raise TenantScopeError(
                f"this landing zone is bound to tenant {self.tenant_scope}; refusing to write "
                f"or delete under tenant {tenant_id}'s prefix"
            )
        return tenant_id

    @contextmanager
    def transaction(self, tenant_id: str) -> Iterator[LandingTransaction]:
        """Writes that land together when the block ends normally, and not at all otherwise."""
        self.check_scope(tenant_id)
        self.storage.delete_stale(f"{tenant_id}/{STAGING_DIR}", STALE_STAGING_S)
        tx = LandingTransaction(self, tenant_id)
        with tx:
            yield tx

    def write_batch(
        self,
        tenant_id: str,
        source: str,
        entity: str,
        table: pa.Table,
        *,
        cursor: str,
        extracted_at: datetime | None = None,
    ) -> list[LandedFile]:
        """Land one batch of ``entity`` rows now (see :meth:`LandingTransaction.write_batch`)."""
        with self.transaction(tenant_id) as tx:
            tx.write_batch(source, entity, table, cursor=cursor, extracted_at=extracted_at)
        return tx.landed

    def write_quarantine(
        self,
        tenant_id: str,
        source: str,
        entity: str,
        rows: pa.Table,
        *,
        extracted_at: datetime | None = None,
    ) -> list[LandedFile]:
        """Land quarantined rows now (see :meth:`LandingTransaction.write_quarantine`)."""
        with self.transaction(tenant_id) as tx:
            tx.write_quarantine(source, entity, rows, extracted_at=extracted_at)
        return tx.landed

    # -- listing -----------------------------------------------------------------------------

    def tenants(self) -> list[str]:
        return [name for name in self.storage.list_children("") if not name.startswith("_")]

    def files(self, tenant_id: str, source: str, entity: str) -> list[str]:
        """Keys of every landed file of one tenant's source entity, sorted by date then batch."""
        validate_tenant_id(tenant_id)
        validate_source(source)
        validate_entity(entity)
        return self.storage.list_files(f"{tenant_id}/{source}/{entity}", suffix=".parquet")

    def entity_files(self, tenant_id: str, entity: str) -> list[str]:
        """Keys of every landed file of ``entity`` for ``tenant_id``, from every source
        (file exports, each log format, connectors), sorted by source, date and batch."""
        return [
            key
            for source, landed_entity in self.entities(tenant_id)
            if landed_entity == entity
            for key in self.files(tenant_id, source, entity)
        ]

    def entities(self, tenant_id: str) -> list[tuple[str, str]]:
        """``(source, entity)`` pairs with at least one landed file for ``tenant_id``."""
        validate_tenant_id(tenant_id)
        pairs = []
        for source in self.storage.list_children(tenant_id):
            if source.startswith("_"):
                continue
            for entity in self.storage.list_children(f"{tenant_id}/{source}"):
                if self.storage.list_files(f"{tenant_id}/{source}/{entity}", suffix=".parquet"):
                    pairs.append((source, entity))
        return pairs

    def quarantine_files(self, tenant_id: str) -> list[str]:
        """Keys of every quarantine file of ``tenant_id``, all sources and entities."""
        validate_tenant_id(tenant_id)
        return self.storage.list_files(f"{tenant_id}/{QUARANTINE_DIR}", suffix=".parquet")

    def size(self, tenant_id: str) -> tuple[int, int]:
        """Files and bytes landed for ``tenant_id`` (landed rows and quarantine, not staging)."""
        validate_tenant_id(tenant_id)
        sizes = self.storage.sizes(tenant_id)
        staging = f"{tenant_id}/{STAGING_DIR}/"
        kept = [size for key, size in sizes.items() if not key.startswith(staging)]
        return len(kept), sum(kept)

    def delete_tenant(self, tenant_id: str) -> None:
        """Remove everything landed for ``tenant_id`` (a data-subject or off-boarding request)."""
        self.storage.delete_prefix(self.check_scope(tenant_id))

    # -- reading (small data: tests, tools) --------------------------------------------------

    def read(self, tenant_id: str, source: str, entity: str) -> pa.Table:
        """All landed rows of one tenant's source entity as one table."""
        return self._read(self.files(tenant_id, source, entity), landed_schema(entity))

    def read_quarantine(self, tenant_id: str) -> pa.Table:
        """All quarantined rows of ``tenant_id``."""
        return self._read(self.quarantine_files(tenant_id), QUARANTINE_SCHEMA)

    def _read(self, keys: list[str], schema: pa.Schema) -> pa.Table:
        parts = []
        for key in keys:
            with self.storage.open_read(key) as handle:
                parts.append(pq.read_table(handle, schema=schema))
        return pa.concat_tables(parts) if parts else schema.empty_table()


def configured_zone(
    quota_guard: QuotaGuard | None = None, tenant_scope: str | None = None
) -> LandingZone:
    """The landing zone this deployment uses.

    ``EARSHOT_LANDING=local`` (the default of local deployments): the folder
    ``$EARSHOT_HOME/landing``. ``EARSHOT_LANDING=s3`` (the default when
    ``EARSHOT_DEPLOYMENT=production``): the bucket ``EARSHOT_LANDING_BUCKET`` under
    ``EARSHOT_LANDING_PREFIX`` (see ``warehouse/s3_storage.py``).
    """
    kind = landing_kind()
    if kind == "s3":
        from warehouse.s3_storage import S3Storage

        return LandingZone(
            storage=S3Storage.from_env(), quota_guard=quota_guard, tenant_scope=tenant_scope
        )
    return LandingZone(paths().landing, quota_guard=quota_guard, tenant_scope=tenant_scope)


def landing_kind() -> str:
    """``local`` or ``s3``, from ``EARSHOT_LANDING`` (default by ``EARSHOT_DEPLOYMENT``)."""
    default = "s3" if deployment() == "production" else "local"
    kind = os.environ.get("EARSHOT_LANDING", default)
    if kind not in ("local", "s3"):
        raise ValueError(f"EARSHOT_LANDING must be 'local' or 's3', not {kind!r}")
    return kind
