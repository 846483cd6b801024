{#- Linear: every touch of an n-touch path gets 1/n. Both sides are cast to float: integer
    division truncates to 0 on PostgreSQL and not on DuckDB. -#}
{% macro attribution_linear_credit() -%}
    cast(1 as {{ type_double() }}) / cast(touch_count as {{ type_double() }})
{%- endmacro %}
