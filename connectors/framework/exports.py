"""CSV export files as a connector's slices, for platforms whose figures come only as exports.

Some platforms have no analytics API (Spotify for Creators) or none for downloads (Castos): the
tenant downloads the dashboard's CSV export and drops it in a folder, one per tenant and
platform: ``$EARSHOT_HOME/exports/<tenant>/<platform>/`` or the connector setting ``export_dir``.
This module turns that folder into slices the sync runner lands and checkpoints like API pages:

* **slices** are the export file names (``*.csv`` directly in the folder, hidden files skipped),
  sorted;
* **incremental**: the stream state's ``memo`` remembers each file's sha256, so an incremental
  sync lands only new or changed files and a full sync lands them all again. Landing is
  content-addressed, so landing the same rows again replaces the same file. The memo is written
  with the run's plan, in the same state document: a run killed midway is resumed from its plan
  (the files it had not landed are still in it), and a run thrown away with ``--restart`` first
  forgets the digests of the files it had not landed;
* **reading**: the stdlib ``csv`` module, ``utf-8-sig`` (a byte-order mark is fine), the first
  row is the header. Header cells are matched ignoring case, blanks and underscores, against each
  column's aliases; a file whose header lacks a required column is an
  :class:`ApiChangedError` naming the file and the column (nothing of it lands);
* **records**: each data row is a :class:`SourceRecord` whose ``record`` is the row as the file
  has it (header -> cell), whose ``url`` is the file name (never a folder of the machine) and
  whose ``position`` is the data row number less one (the runner lands ``position + 1``: row 1 is
  the first row after the header). A cell that cannot be read raises :class:`RecordError` in the
  connector's ``rows`` and the row goes to quarantine.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from connectors.framework.connector import FULL, Connector, Plan, SourceRecord
from connectors.framework.errors import ApiChangedError, ConnectorError
from connectors.framework.records import field_error, parse_day
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StreamState
from warehouse.settings import paths

EXPORTS_DIR = "exports"
# The date formats exports are read in: ISO and the US dashboard form (month first).
DAY_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
_EXTRA = "_extra_cells"


class ExportSettings(ConnectorSettings):
    # The folder the tenant drops export files in; default
    # $EARSHOT_HOME/exports/<tenant>/<platform>. A relative path is taken from $EARSHOT_HOME.
    export_dir: Path | None = None


def header_key(name: str) -> str:
    """A header cell as it is compared: no case, no blanks, no underscores or hyphens."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


@dataclass(frozen=True)
class Column:
    """A column an export may have: its name in the connector and the headers that mean it.

    ``aliases`` are in order of preference: when a header has two of them (``Streams`` and
    ``Starts``), the first one listed is read."""

    name: str
    aliases: tuple[str, ...]
    required: bool = True

    @property
    def label(self) -> str:
        return self.aliases[0]


def export_folder(tenant_id: str, platform: str, settings: ConnectorSettings) -> Path:
    configured = getattr(settings, "export_dir", None)
    home = paths().home
    if configured is None:
        return home / EXPORTS_DIR / tenant_id / platform
    folder = Path(configured).expanduser()
    return folder if folder.is_absolute() else home / folder


class ExportFolder:
    """The export files of one tenant and platform, and how they become slices and records."""

    @classmethod
    def of(cls, connector: Connector) -> ExportFolder:
        """The export folder of a connector's tenant and platform (``export_dir`` or default)."""
        return cls(
            connector.platform,
            export_folder(connector.tenant_id, connector.platform, connector.settings),
        )

    def __init__(self, source: str, folder: Path) -> None:
        self.source = source
        self.folder = folder

    # -- the folder ----------------------------------------------------------------------------

    def files(self) -> list[str]:
        """The export file names, sorted; ConnectorError when the folder cannot be listed."""
        if not self.folder.is_dir():
            raise ConnectorError(
                f"{self.source}: the export folder {self.folder} does not exist; create it and "
                "drop the platform's CSV exports in it (or set export_dir)"
            )
        if not os.access(self.folder, os.R_OK | os.X_OK):
            raise ConnectorError(f"{self.source}: the export folder {self.folder} is not readable")
        try:
            entries = list(self.folder.iterdir())
        except OSError as exc:
            raise ConnectorError(
                f"{self.source}: cannot list the export folder {self.folder} ({exc.strerror})"
            ) from None
        return sorted(
            p.name
            for p in entries
            if p.is_file() and not p.name.startswith((".", "_")) and p.suffix.lower() == ".csv"
        )

    def describe(self) -> str:
        """What ``earshot connectors check`` says of the folder (raises when it is unusable)."""
        return f"{self.check()} export file(s) in {self.folder}"

    def check(self) -> int:
        """How many export files the folder holds; ConnectorError when one cannot be read."""
        names = self.files()
        unreadable = [n for n in names if not os.access(self.folder / n, os.R_OK)]
        if unreadable:
            raise ConnectorError(
                f"{self.source}: export file(s) {', '.join(unreadable)} in {self.folder} are not "
                "readable"
            )
        return len(names)

    def digest(self, name: str) -> str:
        sha = hashlib.sha256()
        try:
            with (self.folder / name).open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    sha.update(block)
        except OSError as exc:
            raise ConnectorError(
                f"{self.source}: cannot read export {name} in {self.folder} ({exc.strerror})"
            ) from None
        return sha.hexdigest()

    # -- planning ------------------------------------------------------------------------------

    def plan(self, state: StreamState, mode: str, single_slice: str | None = None) -> Plan:
        """The files a sync lands: all of them (full) or those new or changed since their digest
        was remembered (incremental). ``state.memo`` is updated in place and saved by the runner
        with the plan.

        With ``single_slice`` the whole folder is one slice of that name, planned when any file
        is new or changed (a stream that reads every file at once, such as a catalogue drawn
        from all exports)."""
        if state.run is not None:
            # A run being thrown away (--restart): what it did not land is not landed.
            for name in set(state.run.slices) - set(state.run.done):
                state.memo.pop(name, None)
            if single_slice is not None and single_slice not in state.run.done:
                state.memo.clear()
        names = self.files()
        digests = {name: self.digest(name) for name in names}
        changed = [n for n in names if mode == FULL or state.memo.get(n) != digests[n]]
        removed = set(state.memo) - set(names)
        state.memo.clear()
        state.memo.update(digests)
        target = names[-1] if names else state.cursor
        if single_slice is not None:
            # Files that disappeared change what the whole folder says too.
            return Plan([single_slice] if changed or removed else [], target)
        return Plan(changed, target)

    # -- reading -------------------------------------------------------------------------------

    def read(
        self,
        name: str,
        columns: Sequence[Column],
        one_of: Sequence[tuple[str, ...]] = (),
        context: dict[str, Any] | None = None,
    ) -> Iterator[SourceRecord]:
        """The data rows of export ``name``; nothing when the file has gone since the plan.

        Each record's context holds ``columns`` (column name -> the header cell that holds it,
        for the columns the file has) besides ``context``. ``one_of`` lists groups of optional
        columns of which the file must have at least one."""
        path = self.folder / name
        try:
            handle = path.open(encoding="utf-8-sig", newline="")
        except FileNotFoundError:
            return  # removed by the tenant after the plan: nothing of it to land
        except OSError as exc:
            raise ConnectorError(
                f"{self.source}: cannot read export {name} ({exc.strerror})"
            ) from None
        with handle:
            reader = csv.reader(handle)
            try:
                header = next((row for row in reader if any(c.strip() for c in row)), None)
                if header is None:
                    raise ApiChangedError(
                        f"{self.source}: export {name} is empty: no header row; expected "
                        + ", ".join(c.label for c in columns if c.required)
                    )
                found = match_header(self.source, name, header, columns, one_of)
                for position, cells in enumerate(
                    row for row in reader if any(cell.strip() for cell in row)
                ):
                    record: dict[str, Any] = {
                        title: cells[i] if i < len(cells) else None
                        for i, title in enumerate(header)
                    }
                    extra = [c for c in cells[len(header) :] if c.strip()]
                    if extra:
                        record[_EXTRA] = extra
                    yield SourceRecord(
                        record, name, position, {**(context or {}), "columns": found}
                    )
            except UnicodeDecodeError as exc:
                raise ApiChangedError(
                    f"{self.source}: export {name} is not UTF-8 text (byte {exc.start}); export "
                    "it again as CSV"
                ) from None
            except csv.Error as exc:
                raise ApiChangedError(
                    f"{self.source}: export {name} is not a readable CSV file (line "
                    f"{reader.line_num}: {exc})"
                ) from None


def match_header(
    source: str,
    name: str,
    header: Sequence[str],
    columns: Sequence[Column],
    one_of: Sequence[tuple[str, ...]] = (),
) -> dict[str, str]:
    """Column name -> the header cell that holds it; ApiChangedError naming the missing one."""
    keys: dict[str, str] = {}
    for title in header:
        keys.setdefault(header_key(title), title)
    found: dict[str, str] = {}
    for column in columns:
        hit = next((keys[k] for k in map(header_key, column.aliases) if k in keys), None)
        if hit is not None:
            found[column.name] = hit
        elif column.required:
            raise ApiChangedError(
                f"{source}: export {name} has no {column.label!r} column (looked for "
                f"{' / '.join(column.aliases)}; the header is {', '.join(header)}). The export "
                "format has probably changed; nothing of this file landed"
            )
    by_name = {c.name: c for c in columns}
    for group in one_of:
        if not any(member in found for member in group):
            wanted = " or ".join(repr(by_name[m].label) for m in group)
            raise ApiChangedError(
                f"{source}: export {name} has no {wanted} column (the header is "
                f"{', '.join(header)}). The export format has probably changed; nothing of this "
                "file landed"
            )
    return found


# -- reading cells -------------------------------------------------------------------------------


def check_row(item: SourceRecord) -> None:
    """RecordError for a row with more cells than the header (a stray comma in a value)."""
    extra = item.record.get(_EXTRA)
    if extra:
        raise field_error(
            "row", f"{len(extra)} cell(s) more than the header has ({extra[0]!r}, ...)"
        )


def has(item: SourceRecord, column: str) -> bool:
    return column in item.context["columns"]


def cell(item: SourceRecord, column: str, required: bool = True) -> str | None:
    """The stripped text of ``column`` in this row; None when empty and not ``required``."""
    header = item.context["columns"].get(column)
    value = item.record.get(header) if header is not None else None
    value = value.strip() if isinstance(value, str) else None
    if value:
        return value
    if required:
        raise field_error(header or column, "empty" if header is not None else "missing")
    return None


def day_cell(item: SourceRecord, column: str, formats: tuple[str, ...] = DAY_FORMATS) -> date:
    value = cell(item, column)
    return parse_day(value, item.context["columns"][column], formats)


_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+")


def count_cell(item: SourceRecord, column: str) -> int:
    """A count: digits, optionally with thousands separators (``1,234``) or ``.0``."""
    raw = cell(item, column)
    assert raw is not None
    header = item.context["columns"][column]
    digits = raw.replace(",", "") if _THOUSANDS.fullmatch(raw) else raw
    if re.fullmatch(r"-?\d+(\.0+)?", digits):
        value = int(digits.split(".")[0])
        if value < 0:
            raise field_error(header, f"a count cannot be negative, got {raw!r}")
        return value
    raise field_error(header, f"expected a whole number, got {raw!r}")


def episode_id_of_row(
    item: SourceRecord,
    catalogue: Callable[[], dict[str, tuple[str, str | None]]],
    account: str,
    id_header: str,
) -> str:
    """The episode of an export row: its id column when the export has one, otherwise the one
    catalogue episode (``id -> (show id, title)``) with exactly that title. No episode or two
    with the title is a bad row, whose reason says to export with ``id_header``. The catalogue
    is asked for only when a row has no id (it may cost API requests)."""
    if has(item, "episode_id"):
        value = cell(item, "episode_id")
        assert value is not None
        return value
    title = cell(item, "episode")
    ids = [eid for eid, (_, t) in catalogue().items() if t == title]
    if len(ids) != 1:
        how = "no episode" if not ids else f"{len(ids)} episodes"
        raise field_error(
            item.context["columns"]["episode"],
            f"the title {title!r} matches {how} of the {account}; export with the "
            f"{id_header} column",
        )
    return ids[0]
