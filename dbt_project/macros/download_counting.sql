{#- IAB download counting helpers (docs/user/counting.md). -#}

{#- The counting window of this build, validated: var('download_window') is set per tenant
    (calendar_day, rolling_24h_first or rolling_24h_last). An unknown value stops the build
    rather than counting with a window nobody disclosed. -#}
{% macro download_window() -%}
    {%- set w = var('download_window', 'calendar_day') -%}
    {%- if w not in ['calendar_day', 'rolling_24h_first', 'rolling_24h_last'] -%}
        {{ exceptions.raise_compiler_error(
            "invalid download_window var: " ~ w
            ~ " (expected calendar_day, rolling_24h_first or rolling_24h_last)"
        ) }}
    {%- endif -%}
    {{- return(w) -}}
{%- endmacro %}

{#- True when `expr` matches the regular expression held in the column or expression
    `pattern_expr` (case-sensitive; the user_agents seed writes its patterns for that).
    regex_matches() takes a literal pattern; this one takes a per-row pattern, which the user
    agent classification joins against. -#}
{% macro regex_matches_column(expr, pattern_expr) -%}
    {{ return(adapter.dispatch('regex_matches_column', 'earshot')(expr, pattern_expr)) }}
{%- endmacro %}

{% macro default__regex_matches_column(expr, pattern_expr) -%}
    regexp_like({{ expr }}, {{ pattern_expr }})
{%- endmacro %}

{% macro duckdb__regex_matches_column(expr, pattern_expr) -%}
    regexp_matches({{ expr }}, {{ pattern_expr }})
{%- endmacro %}

{% macro postgres__regex_matches_column(expr, pattern_expr) -%}
    ({{ expr }} ~ {{ pattern_expr }})
{%- endmacro %}

{% macro spark__regex_matches_column(expr, pattern_expr) -%}
    ({{ expr }} rlike {{ pattern_expr }})
{%- endmacro %}

{#- The byte offset in an episode's file where second `seconds` of its audio ends: the ID3
    header, then the audio at the episode's constant bitrate. In doubles on every engine:
    integer division would cut the fraction and move the edge. Null when any input is null. -#}
{% macro audio_byte_offset(id3_bytes, seconds, bitrate_kbps) -%}
    (cast({{ id3_bytes }} as {{ type_double() }})
        + cast({{ seconds }} as {{ type_double() }})
        * cast({{ bitrate_kbps }} as {{ type_double() }}) * 1000.0 / 8.0)
{%- endmacro %}

{#- Bytes a download must deliver (IAB threshold), in double precision on every engine:
    the ID3 header plus one minute of audio at the episode's bitrate, never more than the file;
    the whole file when the bitrate is unknown; null when both are unknown (then a download
    needs a 200 response, see int_downloads). -#}
{% macro download_threshold_bytes(id3_bytes, bitrate_kbps, file_bytes) -%}
    {%- set one_minute = audio_byte_offset('coalesce(' ~ id3_bytes ~ ', 0)', '60.0', bitrate_kbps) -%}
    case
        when {{ bitrate_kbps }} > 0 then
            case
                when {{ file_bytes }} is not null
                    and cast({{ file_bytes }} as {{ type_double() }}) < {{ one_minute }}
                    then cast({{ file_bytes }} as {{ type_double() }})
                else {{ one_minute }}
            end
        when {{ file_bytes }} is not null then cast({{ file_bytes }} as {{ type_double() }})
    end
{%- endmacro %}

{#- The id of a download (int_downloads has one row per this key): a hash of its tenant, network,
    user agent, episode and UTC date, columns of `relation`. -#}
{% macro download_id(relation) -%}
    {{ hashed_id([
        relation ~ '.tenant_id', relation ~ '.network_key', relation ~ '.user_agent',
        relation ~ '.episode_id', relation ~ '.download_date',
    ]) }}
{%- endmacro %}

{#- Join condition: two relations' rows are about the same listener (network + user agent) and
    episode of one tenant, the unit downloads are counted in. -#}
{% macro same_listener_episode(left, right) -%}
    {{ left }}.tenant_id = {{ right }}.tenant_id
        and {{ left }}.network_key = {{ right }}.network_key
        and {{ left }}.user_agent = {{ right }}.user_agent
        and {{ left }}.episode_id = {{ right }}.episode_id
{%- endmacro %}

{#- The figures of a counting window (or of a listener-episode-day on the way to one), as
    aggregates that can be taken again over their own results: a window's figures are the same
    aggregates of its days'. Per request: first_at = last_at = requested_at, request_count = 1,
    has_200 = 1 for a 200 response else 0, max_200_bytes = bytes_sent of a 200 else null. -#}
{% macro download_window_figures(
    first_at, last_at, bytes_sent, request_count, has_200, max_200_bytes, ip_version, ip_class
) -%}
        -- one network has one version and one class (both follow from the network itself)
        min({{ ip_version }}) as ip_version,
        min({{ ip_class }}) as ip_class,
        min({{ first_at }}) as first_requested_at,
        max({{ last_at }}) as last_requested_at,
        cast(sum({{ bytes_sent }}) as {{ dbt.type_bigint() }}) as bytes_delivered,
        cast(sum({{ request_count }}) as {{ dbt.type_bigint() }}) as request_count,
        max({{ has_200 }}) as has_200_response,
        max({{ max_200_bytes }}) as max_200_bytes
{%- endmacro %}

{#- download_window_figures() over single requests (columns of int_download_requests_classified). -#}
{% macro download_request_figures() -%}
    {{ download_window_figures(
        'requested_at', 'requested_at', 'bytes_sent', '1',
        "case when http_status = 200 then 1 else 0 end",
        "case when http_status = 200 then bytes_sent end",
        'ip_version', 'ip_class'
    ) }}
{%- endmacro %}

{#- Earshot's count against the host's (rpt_download_reconciliation*): difference (Earshot minus
    host), difference_pct (of the host's figure, null when the host reported 0), within_tolerance
    (var reconciliation_tolerance_pct, compared without dividing so exactly the tolerance is
    inside on every engine; a host 0 is within only when Earshot counted 0 too) and is_alert
    (outside it with at least var reconciliation_min_downloads on either side). -#}
{% macro reconciliation_figures(host, earshot) -%}
    {%- set difference = 'cast(' ~ earshot ~ ' - ' ~ host ~ ' as ' ~ type_double() ~ ')' -%}
    {%- set within -%}
        (100 * abs({{ difference }})
            <= {{ var('reconciliation_tolerance_pct') }} * cast({{ host }} as {{ type_double() }}))
    {%- endset -%}
        cast({{ earshot }} - {{ host }} as {{ dbt.type_bigint() }}) as difference,
        -- in doubles: integer division truncates on PostgreSQL and not on DuckDB
        case
            when {{ host }} = 0 then null
            else 100 * {{ difference }} / cast({{ host }} as {{ type_double() }})
        end as difference_pct,
        {{ within }} as within_tolerance,
        (
            not {{ within }}
            and greatest({{ host }}, {{ earshot }}) >= {{ var('reconciliation_min_downloads') }}
        ) as is_alert
{%- endmacro %}
