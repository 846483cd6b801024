"""nginx/Apache combined log format, and ``combined_range`` (a trailing quoted Range field).

``combined``: ``address ident user [time] "request" status bytes "referer" "user agent"``
(a sample line is ``COMBINED.sample`` below and in docs/user/log-import.md).

``combined_range`` is the same with the request's Range header appended as one more quoted field
(nginx: ``log_format podcast '$remote_addr - $remote_user [$time_local] "$request" $status
$body_bytes_sent "$http_referer" "$http_user_agent" "$http_range"';``). Fields after the ones
read are ignored, so the many site-specific variants that append fields still import.
"""

from __future__ import annotations

from connectors.logs.core import (
    DOWNLOAD_METHODS,
    QUOTED,
    LogFormat,
    bytes_or_zero,
    clf_time,
    dash_null,
    leading_columns,
    quote_for_message,
    sql_text,
    standard_columns,
    unescape,
)

_HEAD = r"^(\S+) (\S+) (\S+) \[([^\]]*)\] "
_LINE = _HEAD + QUOTED + r" (\d{3}) (\d+|-) " + QUOTED + " " + QUOTED + r"(.*)$"
_GROUPS = ["ip", "ident", "user", "time", "request", "status", "bytes", "referer", "agent", "rest"]
_REQUEST = r"^([A-Za-z]+) (\S+)(?: \S+)?$"
_RANGE_FIELD = "^ " + QUOTED


def _diagnosis() -> str:
    """SQL: what is wrong with a line the combined pattern does not match."""
    steps = [
        (_HEAD, "expected 'address ident user [time]' at the start"),
        (_HEAD + QUOTED + " ", "expected the quoted request line after the [time]"),
        (
            _HEAD + QUOTED + r" \d{3} (\d+|-)( |$)",
            "expected a 3-digit status and the bytes sent (or -) after the request",
        ),
    ]
    cases = " ".join(
        f"when not regexp_matches(line, {sql_text(pattern)}) then "
        f"{sql_text('not a combined log line: ' + reason)}"
        for pattern, reason in steps
    )
    last = "not a combined log line: expected the quoted referer and user agent after the bytes"
    return f"case {cases} else {sql_text(last + ' (a cut-off line?)')} end"


def _sql(with_range: bool) -> str:
    methods = ", ".join(sql_text(m) for m in DOWNLOAD_METHODS)
    range_checks = ""
    if with_range:
        range_checks = f"""
            when range_field is null then
                'no quoted Range field after the user agent (format combined_range)'
            when range is not null and not regexp_matches(range, '^\\s*bytes\\s*=', 'i') then
                'the field after the user agent, ' || {quote_for_message("range")}
                || ', is not a Range header (bytes=...)'"""
    range_value = dash_null(unescape("range_field")) if with_range else "NULL::VARCHAR"
    return f"""
    with matched as (
        select line_no, line,
            regexp_extract(line, {sql_text(_LINE)}, {_GROUPS}) as f
        from lines
    ),
    fields as (
        select line_no, line,
            trim(line) = '' as ignore,
            f.status <> '' as ok,
            -- the first token is the address even when the rest does not parse
            coalesce(nullif(f.ip, ''), regexp_extract(line, '^(\\S+)', 1)) as ip,
            f.time as time_text,
            {clf_time("f.time")} as ts,
            regexp_extract(f.request, {sql_text(_REQUEST)}, ['method', 'target']) as request,
            try_cast(f.status as INTEGER) as status,
            f.bytes as bytes_text,
            {bytes_or_zero("f.bytes")} as bytes_sent,
            {dash_null(unescape("f.agent"))} as user_agent,
            {"regexp_extract(f.rest, " + sql_text(_RANGE_FIELD) + ", 1)" if with_range else "''"}
                as range_raw,
            {"regexp_matches(f.rest, " + sql_text(_RANGE_FIELD) + ")" if with_range else "true"}
                as has_range
        from matched
    ),
    typed as (
        select *,
            case when has_range then range_raw end as range_field,
            upper(nullif(request.method, '')) as method,
            nullif(request.target, '') as target
        from fields
    ),
    ranged as (
        select *, {range_value} as range from typed
    )
    select
        {leading_columns()},
        case
            when ignore then NULL
            when not ok then {_diagnosis()}
            when ts is null then
                'time ' || {quote_for_message("time_text")}
                || ' is not dd/Mon/yyyy:HH:MM:SS +hhmm'
            when bytes_sent is null then
                'bytes sent ' || {quote_for_message("bytes_text")} || ' is out of range'
            {range_checks}
        end as problem,
        case
            when method is null then 'not an HTTP request line'
            when method not in ({methods}) then 'method ' || method
        end as skip,
        {standard_columns()}
    from ranged
    """


COMBINED = LogFormat(
    name="combined",
    title="nginx/Apache combined log",
    sample=(
        '203.0.113.9 - - [10/Oct/2026:13:55:36 -0700] "GET /show-a/ep-123.mp3 HTTP/1.1" 200 '
        '48213504 "-" "AppleCoreMedia/1.0.0.21E236 (iPhone; U; CPU OS 17_4 like Mac OS X; en_us)"'
    ),
    build_sql=lambda header: _sql(with_range=False),
)

COMBINED_RANGE = LogFormat(
    name="combined_range",
    title="combined log with a trailing quoted Range field (nginx $http_range)",
    sample=(
        '2001:db8:1::7 - - [10/Oct/2026:13:55:36 +0200] "GET /show-a/ep-123.mp3 HTTP/2.0" 206 '
        '524288 "-" "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)" "bytes=0-524287"'
    ),
    build_sql=lambda header: _sql(with_range=True),
)
