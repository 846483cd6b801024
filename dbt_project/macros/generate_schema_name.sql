{#- Use the layer's schema name as is (staging, intermediate, marts, reference), not
    <target schema>_<layer>: analysts and BI roles get stable schema names on every target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
