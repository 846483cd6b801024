{#- apply_row_level_security(): the project-level post-hook that keeps tenants apart for BI roles.

    On PostgreSQL, once the warehouse's migrations have created `earshot_security`
    (warehouse/migrate.py), every model relation with a `tenant_id` column gets row-level
    security: the policy `tenant_isolation` shows a role only the rows of the tenants mapped to
    its login (`earshot_security.current_tenant_ids()`), and `earshot_platform` lets the
    platform's own group roles (pipeline_writer, platform_admin, analyst) see and write every
    tenant. Policies are permissive, so a role sees the union of the policies that apply to it.

    RLS is enabled, not forced: the table's owner (the role dbt runs as) bypasses it, so the
    pipeline still deletes and inserts every tenant's rows. A view cannot carry policies; it is
    switched to security_invoker, so the tables under it filter for the querying role.

    Idempotent (every run calls it; a full refresh re-creates the table without its policies).
    Every other adapter: nothing (DuckDB has neither roles nor row-level security). -#}
{% macro apply_row_level_security() %}
    {{ return(adapter.dispatch('apply_row_level_security', 'earshot')()) }}
{% endmacro %}

{% macro default__apply_row_level_security() %}
{% endmacro %}

{% macro postgres__apply_row_level_security() %}
{%- set schema = this.schema | replace("'", "''") -%}
{%- set name = this.identifier | replace("'", "''") -%}
do $earshot_rls$
declare
    relation oid;
    kind "char";
begin
    if to_regnamespace('earshot_security') is null then
        return;
    end if;
    select c.oid, c.relkind into relation, kind
    from pg_catalog.pg_class as c
    join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
    where n.nspname = '{{ schema }}' and c.relname = '{{ name }}';
    if relation is null or not exists (
        select 1 from pg_catalog.pg_attribute
        where attrelid = relation and attname = 'tenant_id' and attnum > 0 and not attisdropped
    ) then
        return;
    end if;
    if kind = 'v' then
        execute format('alter view %s set (security_invoker = true)', relation::regclass);
        return;
    end if;
    execute format('alter table %s enable row level security', relation::regclass);
    if not exists (
        select 1 from pg_catalog.pg_policy where polrelid = relation and polname = 'tenant_isolation'
    ) then
        execute format(
            'create policy tenant_isolation on %s as permissive for select to public '
            'using (tenant_id = any (earshot_security.current_tenant_ids()))',
            relation::regclass
        );
    end if;
    if not exists (
        select 1 from pg_catalog.pg_policy where polrelid = relation and polname = 'earshot_platform'
    ) then
        execute format(
            'create policy earshot_platform on %s as permissive for all '
            'to platform_admin, pipeline_writer, analyst using (true) with check (true)',
            relation::regclass
        );
    end if;
end
$earshot_rls$
{%- endmacro %}
