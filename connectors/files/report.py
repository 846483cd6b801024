"""What a file import did, per file and in total, for people (``format``) and code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from warehouse.landing import LandedFile
from warehouse.quotas import QuotaExceeded

# Status of one file in a report.
LANDED = "landed"  # rows landed (some may have gone to quarantine)
EMPTY = "empty"  # a header and no rows: nothing to land, not an error
REFUSED = "refused"  # nothing of the file landed (see FileReport.refusal, .quota_exceeded)
UNRECOGNISED = "unrecognised"  # a data file whose name names no entity: not read
IGNORED = "ignored"  # not a data file (README, folder): not read


def count_true(mask: pa.Array | None) -> int:
    """Rows a drop mask removes (0 without a mask)."""
    return 0 if mask is None else int(pc.sum(pc.cast(mask, pa.int64())).as_py() or 0)


def erasure_messages(name: str, erased: int, stale_entries: int, unit: str = "row") -> list[str]:
    """What an import says about data-subject erasures: the ``unit``s of ``name`` it dropped,
    and erasures it can no longer match (recorded under an earlier key)."""
    messages = []
    if erased:
        messages.append(
            f"{name}: {erased:,} {unit}(s) of erased data subjects dropped "
            "(earshot subject erase); they were not landed"
        )
    if stale_entries:
        messages.append(
            f"{stale_entries} erasure(s) were recorded under an earlier pseudonymisation "
            "key and cannot be matched any more: see docs/user/data-subjects.md"
        )
    return messages


class FileRefused(Exception):
    """A whole file could not be landed; nothing of it was."""

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        line: int | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.reason = reason
        self.line = line
        self.row = row
        self.column = column
        where = file
        if row is not None:
            where += f" row {row}"
        elif line is not None:
            where += f" line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {reason}; the file was refused and nothing of it landed")


@dataclass
class FileReport:
    """One file of an import."""

    path: Path
    entity: str | None
    status: str
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    # Of the quarantined rows, those that only repeated an earlier row (or its key).
    rows_repeated: int = 0
    # Rows of erased data subjects, dropped before landing (docs/user/data-subjects.md).
    rows_erased: int = 0
    landed: list[LandedFile] = field(default_factory=list)
    quarantine: list[LandedFile] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    refusal: FileRefused | None = None
    # Set when the refusal was the tenant's quota: the file itself is fine and lands once the
    # quota is raised.
    quota_exceeded: QuotaExceeded | None = None
    extra_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Everything in the file landed (or there was nothing to land, or it is not data)."""
        return self.status in (LANDED, EMPTY, IGNORED) and self.rows_quarantined == 0

    @property
    def handled(self) -> bool:
        """The import is done with this file: its rows are landed or quarantined."""
        return self.status in (LANDED, EMPTY)


@dataclass(frozen=True)
class EntitySummary:
    files: int
    rows_read: int
    rows_landed: int
    rows_quarantined: int


def _summarise(reports: Iterable[FileReport]) -> EntitySummary:
    reports = list(reports)
    return EntitySummary(
        files=len(reports),
        rows_read=sum(r.rows_read for r in reports),
        rows_landed=sum(r.rows_landed for r in reports),
        rows_quarantined=sum(r.rows_quarantined for r in reports),
    )


@dataclass
class ImportReport:
    """Every file of one import, in the order they were read."""

    tenant_id: str
    source: Path
    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No file refused or unrecognised and no row quarantined."""
        return all(f.ok for f in self.files)

    @property
    def refused(self) -> list[FileReport]:
        return [f for f in self.files if f.status == REFUSED]

    @property
    def refused_by_quota(self) -> list[FileReport]:
        return [f for f in self.files if f.quota_exceeded is not None]

    @property
    def unrecognised(self) -> list[FileReport]:
        return [f for f in self.files if f.status == UNRECOGNISED]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_landed(self) -> int:
        return sum(f.rows_landed for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def landed(self) -> list[LandedFile]:
        return [landed for f in self.files for landed in f.landed]

    def by_entity(self) -> dict[str, EntitySummary]:
        """Totals per entity over the files that were read."""
        entities = sorted({f.entity for f in self.files if f.entity})
        return {
            e: _summarise(f for f in self.files if f.entity == e and f.status != UNRECOGNISED)
            for e in entities
        }

    def handled_files(self) -> list[Path]:
        """Files the import is done with (landed, possibly partly quarantined, or empty)."""
        return [f.path for f in self.files if f.handled]

    def format(self) -> str:
        """A report for the command line: one block per file, then the totals."""
        lines = [f"File import for tenant {self.tenant_id} from {self.source}"]
        if not self.files:
            lines.append("  no files found")
        for f in self.files:
            name = f.path.name
            if f.status == LANDED:
                batches = len({x.batch_id for x in f.landed})
                lines.append(
                    f"  {name}: {f.entity}: {f.rows_read:,} rows read, {f.rows_landed:,} landed "
                    f"({len(f.landed)} file(s), {batches} batch(es)), "
                    f"{f.rows_quarantined:,} quarantined"
                    + (f" ({f.rows_repeated:,} as repeats)" if f.rows_repeated else "")
                )
            elif f.status == EMPTY:
                lines.append(f"  {name}: {f.entity}: header only, no rows: nothing to land")
            elif f.status == REFUSED and f.quota_exceeded is not None:
                lines.append(f"  {name}: {f.entity}: REFUSED by quota: {f.quota_exceeded}")
            elif f.status == REFUSED:
                lines.append(f"  {name}: REFUSED: {f.refusal}")
            elif f.status == UNRECOGNISED:
                lines.append(f"  {name}: NOT IMPORTED: {f.messages[0] if f.messages else ''}")
            else:
                lines.append(f"  {name}: ignored: {f.messages[0] if f.messages else ''}")
            details = f.messages if f.status in (LANDED, EMPTY) else f.messages[1:]
            lines.extend(f"    {m}" for m in details)
        refused = len(self.refused) + len(self.unrecognised)
        lines.append(
            f"Total: {self.rows_read:,} rows read, {self.rows_landed:,} landed, "
            f"{self.rows_quarantined:,} quarantined"
            + (f"; {refused} file(s) not imported" if refused else "")
        )
        return "\n".join(lines)
