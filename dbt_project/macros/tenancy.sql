{#- Tenancy: every model holds all tenants' rows. When var('tenant_id') is set (a Dagster tenant
    partition), a model deletes that tenant's rows before appending the fresh ones, so a re-run
    replaces and never duplicates, and other tenants are untouched. -#}

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

{% macro delete_tenant_partition() -%}
    {%- if execute and model.config.materialized == 'incremental' -%}
        {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) -%}
        {%- set t = tenant_id_var() -%}
        {%- if existing is not none and not flags.FULL_REFRESH -%}
            {%- if t is none -%}
                delete from {{ this }}
            {%- else -%}
                delete from {{ this }} where tenant_id = '{{ t }}'
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
