{#- An 8-byte floating point type. dbt.type_float() is `float`, which DuckDB reads as a 4-byte
    REAL: byte offsets of tens of megabytes and money then lose their last digits. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'earshot')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{% macro trino__type_double() -%}
    double
{%- endmacro %}
