{#- Attribution settings, read once from the project vars (dbt_project.yml; a tenant's overrides
    arrive as --vars) and validated, so a bad override fails at compile time with the var's name
    instead of producing credits that no longer sum to 1. -#}

{% macro _attribution_number_var(name) -%}
    {%- set raw = var(name) -%}
    {%- if raw is number and raw is not boolean -%}
        {{- return(raw | float) -}}
    {%- elif raw is string and modules.re.fullmatch('-?[0-9]+(\.[0-9]+)?', raw | trim) -%}
        {{- return(raw | trim | float) -}}
    {%- endif -%}
    {{- exceptions.raise_compiler_error(
        "attribution setting var '" ~ name ~ "' must be a number, got: " ~ raw) -}}
{%- endmacro %}

{#- Returns {lookback_days, lookback_seconds, half_life_days, position_first_weight,
    position_last_weight}. -#}
{% macro attribution_settings() -%}
    {%- set lookback_days = _attribution_number_var('lookback_days') -%}
    {%- set half_life_days = _attribution_number_var('time_decay_half_life_days') -%}
    {%- set first_weight = _attribution_number_var('position_first_weight') -%}
    {%- set last_weight = _attribution_number_var('position_last_weight') -%}
    {%- if lookback_days <= 0 -%}
        {{- exceptions.raise_compiler_error(
            "var 'lookback_days' must be greater than 0, got: " ~ lookback_days) -}}
    {%- endif -%}
    {#- The window is applied to timestamps as a whole number of seconds (see
        int_conversion_paths), so a fractional day must still be whole seconds. -#}
    {%- set lookback_seconds = lookback_days * 86400 -%}
    {%- if (lookback_seconds - (lookback_seconds | round(0))) | abs > 1e-6 -%}
        {{- exceptions.raise_compiler_error(
            "var 'lookback_days' must be a whole number of seconds, got: " ~ lookback_days) -}}
    {%- endif -%}
    {%- if half_life_days <= 0 -%}
        {{- exceptions.raise_compiler_error(
            "var 'time_decay_half_life_days' must be greater than 0, got: " ~ half_life_days) -}}
    {%- endif -%}
    {%- if first_weight < 0 or last_weight < 0 or first_weight + last_weight > 1 -%}
        {{- exceptions.raise_compiler_error(
            "vars 'position_first_weight' (" ~ first_weight ~ ") and 'position_last_weight' ("
            ~ last_weight ~ ") must each be in [0, 1] and together at most 1: the middle"
            ~ " touches share what is left") -}}
    {%- endif -%}
    {{- return({
        'lookback_days': lookback_days,
        'lookback_seconds': lookback_seconds | round(0) | int,
        'half_life_days': half_life_days,
        'position_first_weight': first_weight,
        'position_last_weight': last_weight,
    }) -}}
{%- endmacro %}

{#- The six models, in the order reports show them: the five rule-based ones, then the
    data-driven markov (int_markov_credits). -#}
{% macro attribution_model_names() -%}
    {{- return(attribution_rule_model_names() + ['markov']) -}}
{%- endmacro %}

{#- The five rule-based models, each a credit expression over one path (macros/attribution/). -#}
{% macro attribution_rule_model_names() -%}
    {{- return(['first_touch', 'last_touch', 'linear', 'time_decay', 'position_based']) -}}
{%- endmacro %}

{#- One row per model name, as a query: `select model from (...)`; all six models unless a
    list of names is given. -#}
{% macro attribution_model_rows(names=none) -%}
    {%- for name in (attribution_model_names() if names is none else names) %}
    select cast('{{ name }}' as {{ dbt.type_string() }}) as model
    {%- if not loop.last %}
    union all
    {%- endif -%}
    {%- endfor %}
{%- endmacro %}

{#- Touches tied on touch_ts are ordered by touchpoint_id. Compare ids byte-wise everywhere, so
    a PostgreSQL database with a linguistic collation (en_US...) orders ties as DuckDB does. -#}
{% macro attribution_id_order(column) -%}
    {{ return(adapter.dispatch('attribution_id_order', 'earshot')(column)) }}
{%- endmacro %}

{% macro default__attribution_id_order(column) -%}
    {{ column }}
{%- endmacro %}

{% macro postgres__attribution_id_order(column) -%}
    {{ column }} collate "C"
{%- endmacro %}

{#- Join condition: a touch of relation `touches` may take credit for a conversion of relation
    `conversions`: same tenant and household, at or before the conversion and at most
    var('lookback_days') before it (a touch exactly at the window's edge counts). Compared on
    timestamps (the conversion minus a whole number of seconds), which is exact on every engine. -#}
{% macro touch_in_lookback_window(touches, conversions) -%}
    {%- set settings = attribution_settings() -%}
    {{ touches }}.tenant_id = {{ conversions }}.tenant_id
        and {{ touches }}.household_id = {{ conversions }}.household_id
        and {{ touches }}.touch_ts <= {{ conversions }}.conversion_ts
        and {{ touches }}.touch_ts >= {{ dbt.dateadd(
            'second', -1 * settings.lookback_seconds, conversions ~ '.conversion_ts') }}
{%- endmacro %}
