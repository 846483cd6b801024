"""JSON lines impression export: one JSON object per line (``JSONL.sample`` below).

Keys: ``ip`` (required), ``user_agent``, ``bytes_sent`` (required, a whole number >= 0, as a
number or digits), ``timestamp`` (required: ISO-8601 with ``Z`` or an offset, or epoch seconds as
a number or digits), ``episode_id`` or ``url`` (one of them; ``episode_id`` wins, a ``url`` is
mapped like a log's path), ``range`` (optional) and ``seconds_downloaded`` (optional, landed as is).
Every line lands as a GET with status 200, or 206 when it has a ``range``. Other keys are
ignored. A timestamp without an offset is refused (quarantined), as in file imports: guessing a
zone would move the impression by hours, often to another day.
"""

from __future__ import annotations

from connectors.logs.core import LogFormat, leading_columns, quote_for_message

KEYS = [
    "ip",
    "user_agent",
    "bytes_sent",
    "seconds_downloaded",
    "timestamp",
    "episode_id",
    "url",
    "range",
]
_PATHS = [f"$.{key}" for key in KEYS]
_NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'DOUBLE')"
_ISO = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|z|[+-]\d\d(:?\d\d)?)$"
_NAIVE = r"^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?$"
_EPOCH = r"^-?\d+(\.\d+)?$"
# Epoch seconds beyond this are milliseconds or microseconds written by mistake (year 5138).
_MAX_EPOCH_S = 100_000_000_000


def _text(key: str) -> str:
    return f"v[{KEYS.index(key) + 1}]"


def _type(key: str) -> str:
    return f"t[{KEYS.index(key) + 1}]"


def _sql(header: list[tuple[int, str]]) -> str:
    ts_text = _text("timestamp")
    ts_type = _type("timestamp")
    bytes_text = _text("bytes_sent")
    bytes_type = _type("bytes_sent")
    epoch = f"try_cast(trim({ts_text}) as DOUBLE)"
    return f"""
    with checked as (
        select line_no, line,
            trim(line) = '' as ignore,
            case when json_valid(line) then json_type(line) end as kind
        from lines
    ),
    extracted as (
        select line_no, line, ignore, kind,
            case when kind = 'OBJECT' then json_extract_string(line, {_PATHS}) end as v,
            case when kind = 'OBJECT' then json_type(line, {_PATHS}) end as t,
            -- the address of a line that is not valid JSON, for the quarantine record
            case when kind is distinct from 'OBJECT'
                then nullif(regexp_extract(line, '"ip"\\s*:\\s*"([^"]*)"', 1), '') end as ip_hint
        from checked
    ),
    typed as (
        select *,
            {ts_type} in {_NUMBER_TYPES}
                or ({ts_type} = 'VARCHAR' and regexp_matches(trim({ts_text}), '{_EPOCH}'))
                as is_epoch,
            case
                when {ts_type} in {_NUMBER_TYPES}
                    or ({ts_type} = 'VARCHAR' and regexp_matches(trim({ts_text}), '{_EPOCH}'))
                then case when abs({epoch}) < {_MAX_EPOCH_S}
                    then timezone('UTC', to_timestamp({epoch})) end
                when {ts_type} = 'VARCHAR' and regexp_matches(trim({ts_text}), '{_ISO}')
                then timezone('UTC', try_cast(
                    regexp_replace(trim({ts_text}), 'z$', 'Z') as TIMESTAMPTZ))
            end as ts,
            case
                when {bytes_type} in ('UBIGINT', 'BIGINT') then try_cast({bytes_text} as BIGINT)
                when {bytes_type} = 'DOUBLE' and try_cast({bytes_text} as DOUBLE)
                    = floor(try_cast({bytes_text} as DOUBLE))
                    then try_cast(try_cast({bytes_text} as DOUBLE) as BIGINT)
                when {bytes_type} = 'VARCHAR' and regexp_matches(trim({bytes_text}), '^\\d+$')
                    then try_cast(trim({bytes_text}) as BIGINT)
            end as bytes_sent,
            case when {_type("ip")} = 'VARCHAR' then nullif(trim({_text("ip")}), '') end as ip,
            case when {_type("user_agent")} = 'VARCHAR' then {_text("user_agent")} end
                as user_agent,
            case when {_type("episode_id")} in ('VARCHAR', 'UBIGINT', 'BIGINT')
                then nullif(trim({_text("episode_id")}), '') end as episode_id,
            case when {_type("url")} = 'VARCHAR' then nullif(trim({_text("url")}), '') end
                as target,
            case when {_type("range")} = 'VARCHAR' then nullif(trim({_text("range")}), '') end
                as range,
            case when {_type("seconds_downloaded")} in {_NUMBER_TYPES}
                then try_cast({_text("seconds_downloaded")} as DOUBLE) end as seconds_downloaded
        from extracted
    )
    select
        {leading_columns()},
        case
            when ignore then NULL
            when kind is null then 'not valid JSON'
            when kind <> 'OBJECT' then 'not a JSON object (a JSON ' || lower(kind) || ')'
            when ip is null then 'no ip (a text value is required)'
            when {ts_type} is null or {ts_type} = 'NULL' then 'no timestamp'
            when {ts_type} = 'VARCHAR' and regexp_matches(trim({ts_text}), '{_NAIVE}') then
                'timestamp ' || {quote_for_message(ts_text)}
                || ' has no UTC offset (ambiguous): write it with Z or an offset such as +02:00'
            when is_epoch and ts is null then
                'timestamp ' || {quote_for_message(ts_text)}
                || ' is not epoch seconds (milliseconds?)'
            when ts is null then
                'timestamp ' || {quote_for_message(ts_text)}
                || ' is not an ISO-8601 time with offset or epoch seconds'
            when {bytes_type} is null or {bytes_type} = 'NULL' then 'no bytes_sent'
            when bytes_sent is null then
                'bytes_sent ' || {quote_for_message(bytes_text)} || ' is not a whole number'
            when bytes_sent < 0 then
                'bytes_sent ' || {quote_for_message(bytes_text)} || ' is negative'
            when episode_id is null and target is null then 'neither episode_id nor url'
        end as problem,
        NULL::VARCHAR as skip,
        ts,
        coalesce(ip, ip_hint) as ip,
        user_agent,
        'GET' as method,
        case when range is null then 200 else 206 end as status,
        bytes_sent,
        range,
        target,
        episode_id,
        seconds_downloaded
    from typed
    """


JSONL = LogFormat(
    name="jsonl",
    title="JSON lines impression export",
    sample=(
        '{"ip": "203.0.113.9", "user_agent": "Overcast/3.0", "bytes_sent": 524288, '
        '"seconds_downloaded": 32.5, "timestamp": "2026-10-10T13:55:36-07:00", '
        '"episode_id": "ep-123", "range": "bytes=0-524287"}'
    ),
    build_sql=_sql,
)
