"""The manifest: what an export holds, written last, so that its presence means "complete".

Its fields are documented for tenants in docs/user/exports.md; change both together.
``MANIFEST_VERSION`` goes up when a field changes meaning or disappears (adding one does not).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"
LATEST_NAME = "latest.json"

# Settings are the caller's (attribution settings, model versions): they must not carry
# credentials, but a key that looks like one is redacted rather than trusted.
_SECRET_KEY = re.compile(r"(password|secret|token|api_?key|webhook|credential)", re.IGNORECASE)
REDACTED = "[redacted]"


@dataclass(frozen=True)
class ColumnEntry:
    name: str
    # The Arrow/Parquet type of the files (e.g. string, int64, timestamp[us], decimal128(38, 0)).
    type: str
    # The column's type in the warehouse it was read from (e.g. BIGINT, text, numeric).
    warehouse_type: str


@dataclass(frozen=True)
class FileEntry:
    key: str
    format: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class TableEntry:
    schema: str
    table: str
    rows: int
    row_level_security: bool
    columns: list[ColumnEntry]
    files: list[FileEntry]
    note: str | None = None


@dataclass(frozen=True)
class ExportManifest:
    tenant_id: str
    export_id: str
    as_of: str
    generated_at: str
    engine: str
    formats: list[str]
    bucket: str
    prefix: str
    row_level_security: bool
    row_level_security_note: str | None
    earshot_version: str
    settings: dict[str, Any]
    tables: list[TableEntry]
    skipped: list[dict[str, str | None]]
    manifest_version: int = MANIFEST_VERSION
    manifest_key: str = field(default="")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, default=str) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportManifest:
        tables = [
            TableEntry(
                **{
                    **t,
                    "columns": [ColumnEntry(**c) for c in t["columns"]],
                    "files": [FileEntry(**f) for f in t["files"]],
                }
            )
            for t in data["tables"]
        ]
        return cls(**{**data, "tables": tables})

    @classmethod
    def from_json(cls, text: str | bytes) -> ExportManifest:
        return cls.from_dict(json.loads(text))

    @property
    def files(self) -> list[FileEntry]:
        return [f for t in self.tables for f in t.files]

    def table(self, schema: str, table: str) -> TableEntry:
        for entry in self.tables:
            if (entry.schema, entry.table) == (schema, table):
                return entry
        raise KeyError(f"{schema}.{table} is not in export {self.export_id}")


def redact_settings(value: Any) -> Any:
    """``value`` with every entry whose key looks like a credential replaced by REDACTED, and
    made JSON-safe (dates and other objects as text)."""
    if isinstance(value, dict):
        return {
            str(k): REDACTED if _SECRET_KEY.search(str(k)) else redact_settings(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [redact_settings(v) for v in items]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
