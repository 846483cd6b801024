"""From a requested URL to an ``episode_id``: the default rule, a pattern, or a map file.

Every rule looks at the URL's *path*: scheme and host removed, query and fragment removed,
percent-decoded, with a leading ``/`` (``https://cdn.example/show%20a/ep-1.mp3?x=1`` ->
``/show a/ep-1.mp3``).

* default: the last path segment without its extension (``/show-a/ep-123.mp3`` -> ``ep-123``);
* ``pattern``: a regular expression with one group, searched in the path; the group is the
  episode id. A path the pattern does not match is not an episode download: the line is
  *skipped* (``/favicon.ico``, ``/feed.xml``), not quarantined;
* ``map_file``: a CSV file with the columns ``url_path,episode_id``; a path that is not in the
  map cannot be counted and is quarantined. With a pattern as well, the pattern decides which
  paths are episode downloads and the map names their episodes.

Patterns are run by DuckDB (RE2 syntax): no look-around, no back-references; ``(?P<name>...)``
groups are fine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv

from connectors.logs.core import quote_for_message, sql_text, url_decoded

MAP_COLUMNS = ("url_path", "episode_id")
MAP_TABLE = "episode_map"
# SQL macro: a URL or path as the path the rules look at (see the module docstring).
NORM_PATH_MACROS = (
    "create or replace macro _strip_url(u) as regexp_replace(regexp_replace("
    "u, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*', ''), '[?#].*$', '')",
    "create or replace macro _slashed(s) as case when starts_with(s, '/') then s else '/' || s end",
    # Percent-decoded unless the decoded bytes are not UTF-8 (then kept as written).
    f"create or replace macro _decoded(s) as {url_decoded('s')}",
    "create or replace macro norm_path(u) as _decoded(_slashed(_strip_url(u)))",
)


class EpisodeRuleError(ValueError):
    """The episode pattern or map cannot be used; nothing is imported."""


def define_macros(con: duckdb.DuckDBPyConnection) -> None:
    for macro in NORM_PATH_MACROS:
        con.execute(macro)


@dataclass(frozen=True)
class Mapping:
    """SQL pieces that map the column ``path`` of a relation to an episode."""

    join: str
    episode: str
    # True when the path is an episode download at all (the pattern matched, or no pattern).
    is_episode: str
    missing_reason: str


@dataclass(frozen=True)
class EpisodeRule:
    """How paths become episodes for one import (see the module docstring)."""

    pattern: str | None = None
    map_file: Path | None = None
    # The map, normalised: columns ``map_path`` and ``map_episode``, one row per distinct path.
    map_table: pa.Table | None = None

    @classmethod
    def build(cls, pattern: str | None = None, map_file: Path | None = None) -> EpisodeRule:
        """Check the pattern and read the map; :class:`EpisodeRuleError` when unusable."""
        if pattern is not None:
            _check_pattern(pattern)
        table = _read_map(Path(map_file)) if map_file is not None else None
        return cls(pattern, Path(map_file) if map_file else None, table)

    def describe(self) -> str:
        parts = []
        if self.pattern is not None:
            parts.append(f"paths matching {self.pattern!r}")
        if self.map_file is not None:
            parts.append(f"episodes from {self.map_file.name}")
        elif self.pattern is not None:
            parts.append("episode = the pattern's group")
        return ", ".join(parts) or "episode = last path segment without extension"

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Make the map (if any) visible to queries on ``con`` as ``episode_map``."""
        define_macros(con)
        if self.map_table is not None:
            con.register(MAP_TABLE, self.map_table)

    def sql(self) -> Mapping:
        path = "path"
        shown = quote_for_message(path, limit=120)
        if self.pattern is not None:
            p = sql_text(self.pattern)
            is_episode = f"coalesce(regexp_matches({path}, {p}), false)"
        else:
            is_episode = "true"
        if self.map_table is not None:
            return Mapping(
                join=f"left join {MAP_TABLE} on {MAP_TABLE}.map_path = {path}",
                episode=f"{MAP_TABLE}.map_episode",
                is_episode=is_episode,
                missing_reason=f"'path ' || {shown} || ' is not in the episode map'",
            )
        if self.pattern is not None:
            return Mapping(
                join="",
                episode=f"nullif(regexp_extract({path}, {p}, 1), '')",
                is_episode=is_episode,
                missing_reason=(
                    f"'the episode pattern matched path ' || {shown} || ' but its group is empty'"
                ),
            )
        return Mapping(
            join="",
            episode=(
                f"nullif(regexp_replace(regexp_extract({path}, '([^/]*)$', 1), "
                "'\\.[^.]*$', ''), '')"
            ),
            is_episode=is_episode,
            missing_reason=(
                f"'no episode in path ' || coalesce({shown}, '(none)') "
                "|| ': its last segment is empty (use --episode-pattern or --episode-map)'"
            ),
        )


def _check_pattern(pattern: str) -> None:
    try:
        groups = re.compile(pattern).groups
    except re.error as exc:
        raise EpisodeRuleError(
            f"episode pattern {pattern!r} is not a regular expression: {exc}"
        ) from exc
    if groups != 1:
        raise EpisodeRuleError(
            f"episode pattern {pattern!r} has {groups} groups; it needs exactly one, around "
            "the episode id (use (?:...) for the others)"
        )
    try:
        duckdb.connect().sql(f"select regexp_matches('', {sql_text(pattern)})").fetchall()
    except duckdb.Error as exc:
        raise EpisodeRuleError(
            f"episode pattern {pattern!r} is not supported (RE2 syntax: no look-around or "
            f"back-references): {exc}"
        ) from exc


def _read_map(path: Path) -> pa.Table:
    """The map file as ``path, episode_id``, checked: every row complete, no path twice."""
    name = path.name
    try:
        table = pcsv.read_csv(
            path,
            convert_options=pcsv.ConvertOptions(
                strings_can_be_null=True, null_values=[""], auto_dict_encode=False
            ),
        )
    except (OSError, pa.ArrowInvalid) as exc:
        raise EpisodeRuleError(f"episode map {name} cannot be read as CSV: {exc}") from exc
    columns = {c.strip().lower(): c for c in table.column_names}
    missing = [c for c in MAP_COLUMNS if c not in columns]
    if missing:
        raise EpisodeRuleError(
            f"episode map {name} has no column {', '.join(missing)}; its header must be "
            f"{','.join(MAP_COLUMNS)} (it has: {', '.join(table.column_names)})"
        )
    raw = pa.table(
        {c: table.column(columns[c]).cast(pa.string()) for c in MAP_COLUMNS}
    ).append_column("line", pa.array(range(2, table.num_rows + 2), pa.int64()))
    con = duckdb.connect()
    define_macros(con)
    con.register("raw_map", raw)
    incomplete = con.sql(
        "select min(line) from raw_map where trim(coalesce(url_path, '')) = '' "
        "or trim(coalesce(episode_id, '')) = ''"
    ).fetchall()[0][0]
    if incomplete is not None:
        raise EpisodeRuleError(
            f"episode map {name} line {incomplete}: url_path and episode_id both need a value"
        )
    normalised = con.sql(
        "select norm_path(trim(url_path)) as path, trim(episode_id) as episode_id, line "
        "from raw_map"
    ).to_arrow_table()
    con.register("normalised", normalised)
    conflicts = con.sql(
        "select path, min(line), max(line) from normalised group by path "
        "having count(distinct episode_id) > 1 order by min(line) limit 1"
    ).fetchall()
    if conflicts:
        conflict = conflicts[0]
        raise EpisodeRuleError(
            f"episode map {name}: path {conflict[0]!r} is mapped to different episodes "
            f"(lines {conflict[1]} and {conflict[2]})"
        )
    return con.sql(
        "select path as map_path, any_value(episode_id) as map_episode "
        "from normalised group by path"
    ).to_arrow_table()
