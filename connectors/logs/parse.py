"""Parse a block of log lines in one DuckDB query: each line lands, is skipped or quarantined.

The format's query (``core.py``) types the fields; this module adds what every format shares,
in the same query: the episode (``episodes.py``), the client address check, and the outcome of
every line with its reason, in this order:

1. ``refuse``: the format says the file cannot be read on (the whole file is refused);
2. ``ignore``: header, comment and blank lines;
3. ``quarantine``: bytes that are not UTF-8, a malformed line (the format's reason);
4. ``skip``: well-formed, but not a download (a method or operation that delivers no audio, a
   path the episode pattern does not match);
5. ``quarantine``: an HTTP status outside 100-599 (the landed batches' expectation suite
   refuses those), no usable client address, or no episode for the path;
6. ``land``.

The addresses are checked for shape only (IPv4 with octets up to 255, IPv6 hex groups); staging
pseudonymises them and decides the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.logs.core import PARSED_COLUMNS, HeaderError, LogFormat
from connectors.logs.episodes import EpisodeRule
from connectors.logs.lines import REPLACEMENT, LineBlock
from warehouse.entities import ENTITIES

ENTITY = "download_requests"
LAND, SKIP, QUARANTINE, IGNORE, REFUSE = "land", "skip", "quarantine", "ignore", "refuse"
_OCTET = "0*(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
_IPV6 = r"[0-9A-Fa-f]*(:[0-9A-Fa-f]*){2,7}(\.[0-9]{1,3}){0,3}(%\S+)?"
NOT_AN_EPISODE_PATH = "path does not match the episode pattern"


class FileRefusal(Exception):
    """A line says the file as a whole cannot be imported."""

    def __init__(self, reason: str, line: int | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass
class BlockResult:
    # The entity's columns and _source_row, in line order.
    landed: pa.Table
    # _source_row, reason, raw_record.
    quarantined: pa.Table
    ignored: int
    skipped: dict[str, int] = field(default_factory=dict)


def _query(format_sql: str, rule: EpisodeRule, replaced: bool) -> str:
    mapping = rule.sql()
    bad_text = f"position('{REPLACEMENT}' in line) > 0" if replaced else "false"
    columns = ", ".join(f"parsed.{c}" for c in PARSED_COLUMNS)
    return f"""
    with parsed as ({format_sql}),
    pathed as (
        select {columns}, norm_path(parsed.target) as path from parsed
    ),
    mapped as (
        select pathed.*,
            {mapping.episode} as mapped_episode,
            {mapping.is_episode} as is_episode,
            regexp_full_match(coalesce(ip, ''), '{_IPV4}')
                or regexp_full_match(coalesce(ip, ''), '{_IPV6}') as ip_ok
        from pathed {mapping.join}
    ),
    classified as (
        select *,
            {bad_text} as bad_text,
            coalesce(status between 100 and 599, false) as status_ok,
            coalesce(episode_id, mapped_episode) as episode
        from mapped
    ),
    outcomes as (
    select
        line_no,
        case
            when refuse is not null then '{REFUSE}'
            when ignore then '{IGNORE}'
            when bad_text or problem is not null then '{QUARANTINE}'
            when skip is not null then '{SKIP}'
            when episode_id is null and not is_episode then '{SKIP}'
            when not status_ok or not ip_ok or episode is null then '{QUARANTINE}'
            else '{LAND}'
        end as outcome,
        case
            when refuse is not null then refuse
            when ignore then NULL
            when bad_text then 'not valid UTF-8 (undecodable bytes were replaced by U+FFFD)'
            when problem is not null then problem
            when skip is not null then skip
            when episode_id is null and not is_episode then '{NOT_AN_EPISODE_PATH}'
            when not status_ok then
                'HTTP status ' || coalesce(status::VARCHAR, 'missing')
                || ' is not between 100 and 599'
            when coalesce(ip, '-') = '-' then 'no client address'
            when not ip_ok then 'the client address is not an IPv4 or IPv6 address'
            when episode is null then {mapping.missing_reason}
        end as reason,
        ts, ip, user_agent, episode as episode_id, method, status, bytes_sent, range,
        seconds_downloaded,
        line
    from classified
    )
    select * exclude (line),
        -- JSON, not the bare line: a data-subject erasure finds quarantined rows by the "ip"
        -- of their record (warehouse/data_subjects.py), as it does for file imports.
        case when outcome = '{QUARANTINE}' then json_object('line', line, 'ip', ip)::VARCHAR
        end as raw_record
    from outcomes
    """


class LogParser:
    """Parses blocks of one file's lines with one DuckDB connection."""

    def __init__(self, log_format: LogFormat, rule: EpisodeRule) -> None:
        self.format = log_format
        self.rule = rule
        self._con = duckdb.connect()
        # Offsets in timestamps are applied explicitly; nothing may depend on the host's zone.
        self._con.execute("SET TimeZone = 'UTC'")
        rule.register(self._con)
        self._sql: str | None = None

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> LogParser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_file(self, first: LineBlock) -> None:
        """Read the header lines at the top of a file (CloudFront: ``#Fields``)."""
        lines = first.table
        header_mask = pc.starts_with(lines.column("line"), "#")
        header = lines.filter(header_mask).to_pylist()
        try:
            self._sql = self.format.build_sql([(h["line_no"], h["line"]) for h in header])
        except HeaderError as exc:
            raise FileRefusal(exc.reason, exc.line) from exc

    def parse(self, block: LineBlock) -> BlockResult:
        if self._sql is None:
            raise RuntimeError("start_file() must be called with a file's first block")
        self._con.register("lines", block.table)
        try:
            result = self._con.sql(_query(self._sql, self.rule, block.replaced)).to_arrow_table()
        finally:
            self._con.unregister("lines")
        return _split(_in_line_order(result))


def _in_line_order(result: pa.Table) -> pa.Table:
    """The rows in line order (batch ids depend on it).

    DuckDB keeps the order of a scan through projections and filters, so this is a cheap check;
    a join (the episode map) may reorder, and then the rows are sorted.
    """
    numbers = result.column("line_no").to_numpy()
    if len(numbers) < 2 or bool(np.all(numbers[1:] > numbers[:-1])):
        return result
    return result.sort_by("line_no")


def _split(result: pa.Table) -> BlockResult:
    outcome = result.column("outcome")
    refused = result.filter(pc.equal(outcome, REFUSE))
    if refused.num_rows:
        first = refused.slice(0, 1).to_pylist()[0]
        raise FileRefusal(first["reason"], first["line_no"])
    counts = dict(
        zip(
            *(c.to_pylist() for c in pc.value_counts(outcome).flatten()),
            strict=True,
        )
    )
    landed = result.filter(pc.equal(outcome, LAND))
    entity_columns = ENTITIES[ENTITY].schema.names
    landed_table = landed.select(entity_columns).append_column(
        "_source_row", landed.column("line_no")
    )
    quarantined = result.filter(pc.equal(outcome, QUARANTINE))
    skipped = result.filter(pc.equal(outcome, SKIP)).column("reason")
    skip_counts = (
        dict(zip(*(c.to_pylist() for c in pc.value_counts(skipped).flatten()), strict=True))
        if len(skipped)
        else {}
    )
    return BlockResult(
        landed=landed_table,
        quarantined=pa.table(
            {
                "_source_row": quarantined.column("line_no"),
                "reason": quarantined.column("reason"),
                "raw_record": quarantined.column("raw_record"),
            }
        ),
        ignored=int(counts.get(IGNORE, 0)),
        skipped={str(k): int(v) for k, v in skip_counts.items()},
    )
