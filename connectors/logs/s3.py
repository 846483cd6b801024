"""Amazon S3 server access log.

Space-separated, with a bracketed time and quoted fields (``S3.sample`` below)::

    owner bucket [time] remote_ip requester request_id operation key "request_uri" status
    error_code bytes_sent object_size total_time turn_around_time "referrer" "user_agent" ...

Fields read: time, remote IP, operation, key, HTTP status, bytes sent, user agent; fields after
the user agent (version id, host id, signature, TLS, ...) vary with the year the log was written
and are ignored. Only object reads are downloads: ``REST.GET.OBJECT`` and ``WEBSITE.GET.OBJECT``
(a bucket served as a static website) land as GET, their ``HEAD`` twins as HEAD; every other
operation (listing, PUT, lifecycle transitions) is skipped and counted. S3 does not log the
Range header, so ``range`` is null. The path the episode is found from is ``/`` + the object key
(percent-decoded), whatever style (virtual host or path) the request used.
"""

from __future__ import annotations

from connectors.logs.core import (
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

_LINE = (
    r"^(\S+) (\S+) \[([^\]]*)\] (\S+) (\S+) (\S+) (\S+) (\S+) "
    + QUOTED
    + r" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) "
    + QUOTED
    + " "
    + QUOTED
    + r"( .*)?$"
)
_GROUPS = [
    "owner",
    "bucket",
    "time",
    "ip",
    "requester",
    "request_id",
    "operation",
    "key",
    "request_uri",
    "status",
    "error_code",
    "bytes",
    "object_size",
    "total_time",
    "turn_around_time",
    "referrer",
    "agent",
]
# Operation -> the HTTP method it lands as. Anything else is not a download.
OPERATIONS = {
    "REST.GET.OBJECT": "GET",
    "REST.HEAD.OBJECT": "HEAD",
    "WEBSITE.GET.OBJECT": "GET",
    "WEBSITE.HEAD.OBJECT": "HEAD",
}


def _sql(header: list[tuple[int, str]]) -> str:
    method = "case f.operation " + " ".join(
        f"when {sql_text(op)} then {sql_text(m)}" for op, m in OPERATIONS.items()
    )
    return f"""
    with matched as (
        select line_no, line, regexp_extract(line, {sql_text(_LINE)}, {_GROUPS}) as f
        from lines
    ),
    fields as (
        select line_no, line,
            trim(line) = '' as ignore,
            f.time <> '' as ok,
            coalesce(
                nullif(f.ip, ''), regexp_extract(line, '^\\S+ \\S+ \\[[^\\]]*\\] (\\S+)', 1)
            ) as ip,
            f.operation as operation,
            {method} end as method,
            f.time as time_text,
            {clf_time("f.time")} as ts,
            f.status as status_text,
            try_cast(f.status as INTEGER) as status,
            f.bytes as bytes_text,
            {bytes_or_zero("f.bytes")} as bytes_sent,
            {dash_null(unescape("f.agent"))} as user_agent,
            {dash_null("f.key")} as object_key
        from matched
    )
    select
        {leading_columns()},
        case
            when ignore then NULL
            when not ok then
                'not an S3 server access log line: expected owner, bucket, [time], address, '
                || 'requester, request id, operation, key, "request", status, error, bytes, '
                || 'size, times, "referrer", "user agent"'
            when method is null then NULL
            when ts is null then
                'time ' || {quote_for_message("time_text")}
                || ' is not dd/Mon/yyyy:HH:MM:SS +hhmm'
            when status is null then
                'HTTP status ' || {quote_for_message("status_text")} || ' is not a number'
            when bytes_sent is null then
                'bytes sent ' || {quote_for_message("bytes_text")} || ' is not a number'
            when object_key is null then 'no object key for an object read'
        end as problem,
        case when method is null then 'operation ' || operation end as skip,
        {standard_columns(range_expr="NULL::VARCHAR", target_expr="'/' || object_key")}
    from fields
    """


S3 = LogFormat(
    name="s3",
    title="Amazon S3 server access log",
    sample=(
        "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be podcast-bucket "
        "[06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT "
        'show-a/ep-123.mp3 "GET /show-a/ep-123.mp3 HTTP/1.1" 206 - 524288 48213504 70 10 "-" '
        '"Spotify/8.9.18 iOS/17.4 (iPhone15,2)" - '
        "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 "
        "ECDHE-RSA-AES128-GCM-SHA256 AuthHeader podcast-bucket.s3.us-west-1.amazonaws.com "
        "TLSv1.2 - -"
    ),
    build_sql=_sql,
)
