"""Which files of an export folder hold which entity, by name.

``<entity>.<ext>`` or ``<entity>-<part>.<ext>`` with ``<ext>`` one of ``csv``, ``csv.gz`` and
``parquet``, where ``<entity>`` is a name from ``warehouse/entities.py``. Hidden files and folders
whose name starts with ``_`` (``_truth/`` from the simulator, ``_processed/`` from the inbox) are
skipped without a word; every other file is reported, recognised or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from warehouse.entities import FILE_ENTITIES

# Longest first, so "x.csv.gz" is not read as a ".gz" file.
EXTENSIONS = (".csv.gz", ".parquet", ".csv")


@dataclass(frozen=True)
class ExportFile:
    """What a file name says: data of an entity (``entity`` set) or why it is not."""

    path: Path
    entity: str | None
    format: str | None  # "csv" or "parquet"
    compression: str | None  # "gzip" or None
    problem: str | None  # set for data-looking files that name no entity
    ignored: str | None  # set for files that are not data files at all


def _expected() -> str:
    return (
        "expected <entity>.csv, <entity>.csv.gz or <entity>.parquet (optionally "
        f"<entity>-<part>.<ext>) with <entity> one of {', '.join(sorted(FILE_ENTITIES))}"
    )


def classify(path: Path, entity: str | None = None) -> ExportFile:
    """Read ``path``'s name; ``entity`` overrides the entity the name would give."""
    name = path.name
    extension = next((e for e in EXTENSIONS if name.lower().endswith(e)), None)
    if extension is None:
        return ExportFile(path, None, None, None, None, "not a .csv, .csv.gz or .parquet file")
    fmt = "parquet" if extension == ".parquet" else "csv"
    compression = "gzip" if extension == ".csv.gz" else None
    if entity is not None:
        if entity not in FILE_ENTITIES:
            known = ", ".join(sorted(FILE_ENTITIES))
            problem = f"{entity!r} is not an entity of export files; known: {known}"
            return ExportFile(path, None, fmt, compression, problem, None)
        return ExportFile(path, entity, fmt, compression, None, None)
    stem = name[: -len(extension)]
    base, sep, part = stem.partition("-")
    if base in FILE_ENTITIES and (not sep or part):
        return ExportFile(path, base, fmt, compression, None, None)
    return ExportFile(path, None, fmt, compression, f"unknown file name: {_expected()}", None)


def is_skipped(path: Path) -> bool:
    """Hidden entries and ``_``-folders: never data, never reported."""
    return path.name.startswith(".") or (path.is_dir() and path.name.startswith("_"))


def export_files(directory: Path) -> tuple[list[ExportFile], list[Path]]:
    """The files of ``directory`` (not its sub-folders), and the sub-folders that were not read."""
    files, folders = [], []
    for entry in sorted(directory.iterdir()):
        if is_skipped(entry):
            continue
        if entry.is_dir():
            folders.append(entry)
        else:
            files.append(classify(entry))
    return files, folders
