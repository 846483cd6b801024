"""File import: land a folder of CSV or Parquet export files (docs/user/file-import.md)."""

from connectors.files.importer import SOURCE, import_directory, import_file
from connectors.files.report import EntitySummary, FileRefused, FileReport, ImportReport

__all__ = [
    "SOURCE",
    "EntitySummary",
    "FileRefused",
    "FileReport",
    "ImportReport",
    "import_directory",
    "import_file",
]
