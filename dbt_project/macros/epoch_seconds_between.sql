{#- Exact seconds (with fractions) from start_ts to end_ts. dbt.datediff counts unit boundaries,
    which truncates sub-second parts differently per engine; attribution windows and time decay
    need the real elapsed time, exact to the microsecond (DuckDB's epoch() is a double and is not). -#}
{% macro epoch_seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('epoch_seconds_between', 'earshot')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__epoch_seconds_between(start_ts, end_ts) -%}
    cast({{ dbt.datediff(start_ts, end_ts, "second") }} as {{ type_double() }})
{%- endmacro %}

{% macro duckdb__epoch_seconds_between(start_ts, end_ts) -%}
    ((epoch_us({{ end_ts }}) - epoch_us({{ start_ts }})) / 1000000.0)
{%- endmacro %}

{% macro postgres__epoch_seconds_between(start_ts, end_ts) -%}
    cast(extract(epoch from ({{ end_ts }} - {{ start_ts }})) as double precision)
{%- endmacro %}
