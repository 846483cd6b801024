"""Amazon CloudFront standard log (access log): tab-separated, described by its ``#Fields`` line.

::

    #Version: 1.0
    #Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem ...
    <one tab-separated line per request, as ``CLOUDFRONT.sample`` below>

Columns are found by name in the first ``#Fields`` line, never by position, so files with more,
fewer or reordered fields import alike. Read: ``date`` + ``time`` (UTC), ``c-ip``,
``cs-method``, ``cs-uri-stem``, ``sc-status``, ``sc-bytes``, ``cs(User-Agent)`` (percent-decoded)
and the range: ``cs(Range)`` when the file has it, else ``sc-range-start``/``sc-range-end`` (the
byte range CloudFront served) as ``bytes=<start>-<end>``. ``-`` means no value. Status ``000``
(the viewer closed the connection before CloudFront could respond) delivered nothing: such lines
are skipped. A later ``#Fields`` line that differs from the first (two different files
concatenated) refuses the file: its lines cannot be read with one list of columns.
"""

from __future__ import annotations

from connectors.logs.core import (
    DOWNLOAD_METHODS,
    HeaderError,
    LogFormat,
    bytes_or_zero,
    dash_null,
    leading_columns,
    quote_for_message,
    sql_text,
    standard_columns,
    url_decoded,
)

FIELDS_PREFIX = "#Fields:"
REQUIRED = (
    "date",
    "time",
    "c-ip",
    "cs-method",
    "cs-uri-stem",
    "sc-status",
    "sc-bytes",
    "cs(User-Agent)",
)


def field_names(header: list[tuple[int, str]]) -> tuple[int, str, list[str]]:
    """The first ``#Fields`` line: its number, its text and the names it lists."""
    for number, text in header:
        if text.startswith(FIELDS_PREFIX):
            names = text[len(FIELDS_PREFIX) :].split()
            return number, text.strip(), names
    raise HeaderError(
        "no #Fields line at the top of the file: a CloudFront standard log starts with "
        "#Version and #Fields lines that name its tab-separated columns"
    )


def _sql(header: list[tuple[int, str]]) -> str:
    number, fields_line, names = field_names(header)
    lowered = {name.lower(): i + 1 for i, name in reversed(list(enumerate(names)))}
    missing = [name for name in REQUIRED if name.lower() not in lowered]
    if missing:
        raise HeaderError(
            f"the #Fields line has no {', '.join(missing)} (it lists: {' '.join(names)})",
            line=number,
        )

    def col(name: str) -> str:
        return f"f[{lowered[name.lower()]}]"

    if "cs(range)" in lowered:
        range_expr = dash_null(url_decoded(col("cs(Range)")))
    elif "sc-range-start" in lowered and "sc-range-end" in lowered:
        start, end = col("sc-range-start"), col("sc-range-end")
        range_expr = (
            f"case when regexp_full_match({start}, '\\d+') and regexp_full_match({end}, '\\d+') "
            f"then 'bytes=' || {start} || '-' || {end} end"
        )
    else:
        range_expr = "NULL::VARCHAR"
    methods = ", ".join(sql_text(m) for m in DOWNLOAD_METHODS)
    count = len(names)
    # A second, different #Fields line means two logs were joined: refuse the file.
    mixed_fields = f"""case
            when starts_with(line, {sql_text(FIELDS_PREFIX)})
                and trim(line) <> {sql_text(fields_line)}
            then 'this #Fields line differs from the one on line {number}: the file joins logs '
                || 'with different columns; import them as separate files'
        end"""
    return f"""
    with split as (
        select line_no, line,
            starts_with(line, '#') or trim(line) = '' as ignore,
            string_split(line, chr(9)) as f
        from lines
    ),
    fields as (
        select line_no, line, ignore,
            len(f) = {count} as ok,
            len(f) as found,
            {col("c-ip")} as ip,
            {col("date")} || ' ' || {col("time")} as time_text,
            try_strptime({col("date")} || ' ' || {col("time")}, '%Y-%m-%d %H:%M:%S') as ts,
            upper({col("cs-method")}) as method,
            {col("sc-status")} as status_text,
            try_cast({col("sc-status")} as INTEGER) as status,
            {col("sc-bytes")} as bytes_text,
            {bytes_or_zero(col("sc-bytes"))} as bytes_sent,
            {dash_null(url_decoded(col("cs(User-Agent)")))} as user_agent,
            {range_expr} as range,
            {dash_null(col("cs-uri-stem"))} as target
        from split
    )
    select
        {leading_columns(refuse=mixed_fields)},
        case
            when ignore then NULL
            when not ok then
                'expected {count} tab-separated fields (as named by the #Fields line), found '
                || found
            when ts is null then
                'date and time ' || {quote_for_message("time_text")}
                || ' are not YYYY-MM-DD and HH:MM:SS'
            when status is null then
                'sc-status ' || {quote_for_message("status_text")} || ' is not a number'
            when bytes_sent is null then
                'sc-bytes ' || {quote_for_message("bytes_text")} || ' is not a number'
            when method in ({methods}) and target is null then 'no cs-uri-stem'
        end as problem,
        case
            when method not in ({methods}) then 'method ' || method
            -- 000: the viewer closed the connection before CloudFront could respond
            when status = 0 then 'status 000 (no response)'
        end as skip,
        {standard_columns()}
    from fields
    """


CLOUDFRONT = LogFormat(
    name="cloudfront",
    title="Amazon CloudFront standard log",
    sample=(
        "2026-10-10\t20:55:36\tFRA56-P1\t524288\t203.0.113.9\tGET\td111111abcdef8.cloudfront.net"
        "\t/show-a/ep-123.mp3\t206\t-\tAppleCoreMedia/1.0.0.21E236%20(iPhone;%20U;%20CPU%20OS"
        "%2017_4%20like%20Mac%20OS%20X;%20en_us)\t-\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyH"
        "mpwUyLiTZXrcNEgfvVw==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.3"
        "\tTLS_AES_128_GCM_SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\taudio/mpeg\t524288"
        "\t0\t524287"
    ),
    build_sql=_sql,
)
