{#- Tenancy: every model holds all tenants' rows. When var('tenant_id') is set (a Dagster tenant
    partition), a model reads only that tenant's rows (`tenant_filter`) and replaces only that
    tenant's rows (materializations/tenant_partition.sql), so a re-run never duplicates and other
    tenants are untouched. -#}

{% macro tenant_id_var() -%}
    {%- set t = var('tenant_id', none) -%}
    {%- if t is not none and not modules.re.fullmatch('[a-z][a-z0-9_]{1,62}', t | string) -%}
        {{ exceptions.raise_compiler_error("invalid tenant_id var: " ~ t) }}
    {%- endif -%}
    {{- return(t) -}}
{%- endmacro %}

{#- Filter for import CTEs: `where {{ tenant_filter('tenant_id') }}`. -#}
{% macro tenant_filter(column='tenant_id') -%}
    {%- set t = tenant_id_var() -%}
    {%- if t is none -%} 1 = 1 {%- else -%} {{ column }} = '{{ t }}' {%- endif -%}
{%- endmacro %}
