{#- tenant_partition: a table holding every tenant's rows, of which a run replaces one tenant's.

    With var('tenant_id') set (a Dagster tenant partition) the run deletes that tenant's rows and
    inserts the model's rows in the same transaction: a re-run replaces and never duplicates, other
    tenants are untouched, and a failure leaves the previous rows. Without it, every row is
    replaced. The first build (or --full-refresh) creates the table.

    Why not `incremental`: its generic form first writes the model's rows into a temporary table
    and then copies them into the target, so every row is written twice; on the large models that
    costs as much as computing them. Here the rows are inserted once, straight from the query.

    Columns: the table's columns must be the model's. When they differ (a column added or
    removed), the run stops with the names and asks for a full refresh, which rebuilds every
    tenant: a one-tenant run cannot re-shape a table the other tenants share. -#}
{% materialization tenant_partition, default %}
    {%- set existing = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set tenant = tenant_id_var() -%}
    {%- set grant_config = config.get('grants') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if existing is none or existing.type != 'table' or should_full_refresh() -%}
        {%- if existing is not none -%}
            {{ adapter.drop_relation(existing) }}
        {%- endif -%}
        {%- call statement('main') -%}
            {{ get_create_table_as_sql(False, target_relation, sql) }}
        {%- endcall -%}
    {%- else -%}
        {%- set model_columns = get_columns_in_query(sql) | map('lower') | list -%}
        {%- set table_columns = adapter.get_columns_in_relation(existing)
            | map(attribute='name') | map('lower') | list -%}
        {%- if model_columns | sort != table_columns | sort -%}
            {{ exceptions.raise_compiler_error(
                "The columns of " ~ this ~ " changed (model: " ~ (model_columns | join(', '))
                ~ "; table: " ~ (table_columns | join(', ')) ~ "). Rebuild every tenant with "
                ~ "`dbt build --full-refresh --select " ~ model.name ~ "+`.") }}
        {%- endif -%}
        {%- set column_list = model_columns | join(', ') -%}
        {%- call statement('delete_tenant_rows') -%}
            delete from {{ target_relation }}
            {%- if tenant is not none %} where tenant_id = '{{ tenant }}'{% endif %}
        {%- endcall -%}
        {%- call statement('main') -%}
            insert into {{ target_relation }} ({{ column_list }})
            select {{ column_list }} from (
                {{ sql }}
            ) as model_rows
        {%- endcall -%}
    {%- endif -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do apply_grants(target_relation, grant_config, should_revoke=False) %}
    {% do persist_docs(target_relation, model) %}
    {{ adapter.commit() }}
    {% do refresh_statistics(target_relation) %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- refresh_statistics(relation): the planner's statistics of a table a run just rewrote.

    PostgreSQL learns a table's size and value distribution from ANALYZE, which autovacuum runs
    only some time after a bulk insert; until then the next model (or an ML query) joining the
    table is planned as if it were tiny (nested loops over millions of rows). DuckDB keeps its
    statistics as it writes: nothing to do. -#}
{% macro refresh_statistics(relation) %}
    {{ return(adapter.dispatch('refresh_statistics', 'earshot')(relation)) }}
{% endmacro %}

{% macro default__refresh_statistics(relation) %}
{% endmacro %}

{% macro postgres__refresh_statistics(relation) %}
    {#- After the materialization's commit: runs on its own, nothing left open. -#}
    {% do run_query('analyze ' ~ relation) %}
{% endmacro %}
