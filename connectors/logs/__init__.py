"""Log import: land CDN and host download logs as download requests (docs/user/log-import.md)."""

from connectors.logs.episodes import EpisodeRule, EpisodeRuleError
from connectors.logs.formats import FORMATS, get_format
from connectors.logs.importer import import_logs
from connectors.logs.report import LogFileReport, LogImportReport

__all__ = [
    "FORMATS",
    "EpisodeRule",
    "EpisodeRuleError",
    "LogFileReport",
    "LogImportReport",
    "get_format",
    "import_logs",
]
