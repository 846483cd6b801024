"""What every log format provides: a DuckDB query from lines to download-request columns.

A format is a SQL ``SELECT`` over the relation ``lines(line_no BIGINT, line VARCHAR)`` (one row
per physical line of the file, numbered from 1) that returns, for *every* line, the columns of
:data:`PARSED_COLUMNS`:

=================== ============ ============================================================
column              type         meaning
=================== ============ ============================================================
line_no             BIGINT       the line's number in the file
line                VARCHAR      the line as read (kept for the quarantine)
refuse              VARCHAR      set: the whole file is refused with this reason
ignore              BOOLEAN      a header, comment or blank line: neither data nor an error
problem             VARCHAR      set: the line is malformed, quarantined with this reason
skip                VARCHAR      set: a well-formed line that is not a download (counted)
ts                  TIMESTAMP    naive UTC
ip                  VARCHAR      the client address as written (also on malformed lines, when
                                 it can be found: the quarantine record names it so that a
                                 data-subject erasure finds the line)
user_agent          VARCHAR      decoded; null when the log has none (``-``)
method              VARCHAR      upper case
status              INTEGER
bytes_sent          BIGINT       ``-`` is 0
range               VARCHAR      the Range request header, null when none
target              VARCHAR      the requested URL or path as written (still percent-encoded);
                                 the episode is found from it (``episodes.py``)
episode_id          VARCHAR      an episode id the line names itself (JSON lines), else null
seconds_downloaded  DOUBLE       JSON lines only (null for the other formats); landed
=================== ============ ============================================================

Everything is computed column-wise by DuckDB over whole blocks of lines; nothing here runs per
line in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PARSED_COLUMNS = (
    "line_no",
    "line",
    "refuse",
    "ignore",
    "problem",
    "skip",
    "ts",
    "ip",
    "user_agent",
    "method",
    "status",
    "bytes_sent",
    "range",
    "target",
    "episode_id",
    "seconds_downloaded",
)

# A double-quoted field in which a quote may be escaped with a backslash (Apache writes \",
# nginx writes \x22, which needs no special case).
QUOTED = r'"((?:[^"\\]|\\.)*)"'

# HTTP methods that can deliver (GET) or describe (HEAD) an audio file. HEAD lands so that the
# counting rules can exclude it visibly; every other method is skipped at import.
DOWNLOAD_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class LogFormat:
    """One log format: its name, a sample line, and how to build its query.

    ``build_sql`` receives the header lines found at the top of the file (lines starting with
    ``#``, in order, as ``(line number, text)``) and returns the ``SELECT`` described above.
    """

    name: str
    title: str
    sample: str
    build_sql: Callable[[list[tuple[int, str]]], str]

    @property
    def source(self) -> str:
        """The landing-zone source this format's rows land under (``logs_<format>``)."""
        return f"logs_{self.name}"


def leading_columns(refuse: str = "NULL::VARCHAR") -> str:
    """The columns every log format selects first: the line, its number, why the whole file is
    refused (``refuse``: null unless the format can tell) and whether the line is ignored."""
    return f"line_no, line, {refuse} as refuse, ignore"


def standard_columns(range_expr: str = "range", target_expr: str = "target") -> str:
    """The parsed columns every log format selects last, in PARSED_COLUMNS' order from ``ts``:
    formats without an episode id or delivery seconds fill them with nulls."""
    return (
        "ts, ip, user_agent, method, status, bytes_sent, "
        f"{range_expr} as range, {target_expr} as target, "
        "NULL::VARCHAR as episode_id, NULL::DOUBLE as seconds_downloaded"
    )


def sql_text(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def clf_time(text: str) -> str:
    """SQL: a ``[10/Oct/2026:13:55:36 -0700]`` time (brackets removed) as naive UTC.

    Fractions of a second (``13:55:36.250 -0700``, Apache's ``%{usec_frac}t``) are kept.
    """
    return (
        f"timezone('UTC', coalesce(try_strptime({text}, '%d/%b/%Y:%H:%M:%S %z'), "
        f"try_strptime({text}, '%d/%b/%Y:%H:%M:%S.%f %z')))"
    )


def unescape(text: str) -> str:
    """SQL: a quoted log field with its backslash escapes (``\\"``, ``\\\\``) undone."""
    return f"replace(replace({text}, '\\\"', '\"'), '\\\\', '\\')"


def dash_null(text: str) -> str:
    """SQL: ``-`` and the empty text (a log's "no value") as null."""
    return f"nullif(nullif({text}, '-'), '')"


def url_decoded(text: str) -> str:
    """SQL: percent-decoded text; kept as written when the decoded bytes are not UTF-8."""
    return (
        f"case when contains({text}, '%') then coalesce(try(url_decode({text})), {text}) "
        f"else {text} end"
    )


def bytes_or_zero(text: str) -> str:
    """SQL: a byte count where ``-`` means 0; null when the digits do not fit 64 bits."""
    return f"case when {text} = '-' then 0::BIGINT else try_cast({text} as BIGINT) end"


def quote_for_message(text: str, limit: int = 60) -> str:
    """SQL: a value shortened for a quarantine reason."""
    return (
        f"'''' || (case when length({text}) > {limit} "
        f"then left({text}, {limit - 3}) || '...' else {text} end) || ''''"
    )


class HeaderError(ValueError):
    """The file's header lines do not describe a file of this format: the file is refused."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
