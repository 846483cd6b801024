{#- Attribution signals beyond impressions (docs/user/attribution.md, "Signals"): promo codes,
    vanity URLs, UTM tags and survey answers. Normalisation and parsing are written once here so
    the campaign side and the order / visit side of every match are normalised the same way, in
    SQL that runs unchanged on DuckDB and PostgreSQL (and, through the dispatches, elsewhere). -#}

{#- Every signal name, in the default priority order. -#}
{% macro signal_names() -%}
    {{- return(['promo_code', 'vanity_url', 'utm', 'survey', 'podcast_impression']) -}}
{%- endmacro %}

{#- The tenant's signal priority (var signal_priority), validated: a list or a comma-separated
    string of signal names, highest priority first, each at most once. A signal left out takes no
    part in the combined view (it is still reported on its own). An unknown or repeated name, or
    an empty list, stops the build rather than de-duplicating by a rule nobody chose. -#}
{% macro signal_priority() -%}
    {%- set raw = var('signal_priority') -%}
    {%- if raw is string -%}
        {%- set names = [] -%}
        {%- for part in raw.split(',') -%}
            {%- if part | trim != '' -%}{%- do names.append(part | trim | lower) -%}{%- endif -%}
        {%- endfor -%}
    {%- elif raw is iterable and raw is not mapping -%}
        {%- set names = [] -%}
        {%- for part in raw -%}{%- do names.append(part | string | trim | lower) -%}{%- endfor -%}
    {%- else -%}
        {{- exceptions.raise_compiler_error(
            "var 'signal_priority' must be a list or a comma-separated string of signal names, got: "
            ~ raw) -}}
    {%- endif -%}
    {%- if names | length == 0 -%}
        {{- exceptions.raise_compiler_error(
            "var 'signal_priority' names no signal (expected some of "
            ~ signal_names() | join(', ') ~ ")") -}}
    {%- endif -%}
    {%- for name in names -%}
        {%- if name not in signal_names() -%}
            {{- exceptions.raise_compiler_error(
                "var 'signal_priority' has an unknown signal '" ~ name ~ "' (expected some of "
                ~ signal_names() | join(', ') ~ ")") -}}
        {%- endif -%}
        {%- if names[:loop.index0].count(name) > 0 -%}
            {{- exceptions.raise_compiler_error(
                "var 'signal_priority' names signal '" ~ name ~ "' twice") -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return(names) -}}
{%- endmacro %}

{#- The rank (1 = highest) of the signal in `column` under var signal_priority; null for a
    signal the tenant left out of it. -#}
{% macro signal_priority_rank(column) -%}
    case {{ column }}
    {%- for name in signal_priority() %}
        when '{{ name }}' then {{ loop.index }}
    {%- endfor %}
    end
{%- endmacro %}

{#- Every occurrence of the regular expression `pattern` (a Jinja string in the syntax every
    engine shares) in `expr` replaced by `replacement`. DuckDB and PostgreSQL replace only the
    first match unless told 'g'; Spark and Trino replace all. -#}
{% macro regex_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'earshot')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ _regex_literal(pattern) }}, '{{ replacement }}')
{%- endmacro %}

{% macro duckdb__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ _regex_literal(pattern) }}, '{{ replacement }}', 'g')
{%- endmacro %}

{% macro postgres__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ _regex_literal(pattern) }}, '{{ replacement }}', 'g')
{%- endmacro %}

{#- A promo code as it is compared: upper case, every whitespace character removed
    (" morning 20 " and "MORNING20" are one code). Null or blank gives null. -#}
{% macro normalise_promo_code(expr) -%}
    nullif(upper({{ regex_replace_all(expr, '[ \t\r\n]+', '') }}), '')
{%- endmacro %}

{#- A URL reduced to host and path as it is compared: lower case, no scheme, no leading www.,
    no query string or fragment, no trailing slash ("HTTPS://www.Roast.example/Cup/?x=1" and
    "roast.example/cup" are one URL). Null or blank gives null. -#}
{% macro normalise_url_path(expr) -%}
    {%- set lowered = 'lower(trim(' ~ expr ~ '))' -%}
    {%- set no_scheme = regex_replace_all(lowered, '^[a-z][a-z0-9+.-]*://', '') -%}
    {%- set no_www = regex_replace_all(no_scheme, '^www[.]', '') -%}
    {%- set no_query = regex_replace_all(no_www, '[?#].*$', '') -%}
    nullif({{ regex_replace_all(no_query, '/+$', '') }}, '')
{%- endmacro %}

{#- The value of query parameter `name` (lower case, a Jinja string) in `url`, lower-cased and
    not URL-decoded; null when the URL has no such parameter. The query is wrapped in '&' so
    that every parameter, the first included, is found as '&name=' and ends at the next '&'
    (split_part's first part always exists, so both engines agree). -#}
{% macro url_query_param(url, name) -%}
    {%- set query -%}
        ('&' || {{ regex_replace_all(
            regex_replace_all('lower(' ~ url ~ ')', '#.*$', ''), '^[^?]*([?]|$)', '') }} || '&')
    {%- endset -%}
    {%- set needle = "'&" ~ name ~ "='" -%}
    {%- set found = dbt.position(needle, query) -%}
    case
        when {{ found }} > 0 then nullif({{ dbt.split_part(
            'substr(' ~ query ~ ', ' ~ found ~ ' + ' ~ (name | length + 2) ~ ')', "'&'", 1) }}, '')
    end
{%- endmacro %}

{#- A name (show, advertiser) or survey answer as it is compared: lower case, letters and digits
    only, a leading "the" dropped ("The Morning Cup!" and "morning cup" are one name). Letters
    outside a-z are dropped on both sides alike. Null or blank gives null. -#}
{% macro normalise_signal_name(expr) -%}
    {%- set words = 'trim(' ~ regex_replace_all('lower(' ~ expr ~ ')', '[^a-z0-9]+', ' ') ~ ')' -%}
    nullif(replace(
        case when {{ words }} like 'the %' then substr({{ words }}, 5) else {{ words }} end,
        ' ', ''
    ), '')
{%- endmacro %}

{#- The integers 1 .. 1000 as a query (column n): positions in a string, list elements. Built by
    crossing three digit lists, which every engine runs (there is no portable generate_series). -#}
{% macro signal_numbers() -%}
    select units.d + 10 * tens.d + 100 * hundreds.d + 1 as n
    from
        ({% for d in range(10) %}select {{ d }} as d{% if not loop.last %} union all {% endif %}{% endfor %}) as units
        cross join ({% for d in range(10) %}select {{ d }} as d{% if not loop.last %} union all {% endif %}{% endfor %}) as tens
        cross join ({% for d in range(10) %}select {{ d }} as d{% if not loop.last %} union all {% endif %}{% endfor %}) as hundreds
{%- endmacro %}

{#- Part `part_expr` (1-based; a column or expression, not only a literal) of `string_text` split
    on `delimiter_text`. dbt.split_part() needs a literal part number on PostgreSQL; every
    target engine has split_part(text, delimiter, n) itself. Only ask for parts that exist. -#}
{% macro split_part_at(string_text, delimiter_text, part_expr) -%}
    {{ return(adapter.dispatch('split_part_at', 'earshot')(string_text, delimiter_text, part_expr)) }}
{%- endmacro %}

{% macro default__split_part_at(string_text, delimiter_text, part_expr) -%}
    split_part({{ string_text }}, {{ delimiter_text }}, {{ part_expr }})
{%- endmacro %}

{#- True when the UTM tags name the podcast channel: utm_source or utm_medium is `podcast`.
    Both arguments are tag values already lower-cased and trimmed (normalise_utm_value, or a
    query parameter read by url_query_param), so site visits and analytics traffic apply the
    same rule. -#}
{% macro is_podcast_utm(source_expr, medium_expr) -%}
    ({{ source_expr }} = 'podcast' or {{ medium_expr }} = 'podcast')
{%- endmacro %}

{#- A UTM tag value as it is compared: lower case, surrounding spaces dropped (" CMP_B " names
    cmp_b). Null stays null. -#}
{% macro normalise_utm_value(expr) -%}
    lower(trim({{ expr }}))
{%- endmacro %}

{#- The body of a CTE of every campaign's vanity URLs, reduced by normalise_url_path, one row per
    (tenant, campaign, url_path), from `placements` (a CTE or relation with tenant_id,
    campaign_id and vanity_url). Placements without a usable vanity URL give no row. Visits and
    analytics landing pages are matched against this same list. -#}
{% macro campaign_vanity_urls(placements) -%}
    select distinct
        tenant_id,
        campaign_id,
        {{ normalise_url_path('vanity_url') }} as url_path
    from {{ placements }}
    where {{ normalise_url_path('vanity_url') }} is not null
{%- endmacro %}
