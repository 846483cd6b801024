-- Roles, the tenant mapping and the function every row-level policy calls.
-- Applied once by warehouse/migrate.py, as the role that owns the warehouse (the pipeline's role).

-- Group roles (cluster-wide, so they may already exist from another database on the server).
do $migration$
declare
    group_role text;
begin
    foreach group_role in array array['platform_admin', 'pipeline_writer', 'analyst'] loop
        if not exists (select 1 from pg_catalog.pg_roles where rolname = group_role) then
            execute format('create role %I nologin', group_role);
        end if;
    end loop;
end
$migration$;

-- The tenant mapping: which login role sees which tenant's rows. Only its owner and
-- platform_admin read it; BI roles learn their own tenants through current_tenant_ids() alone.
create schema if not exists earshot_security;
revoke all on schema earshot_security from public;
-- USAGE lets every role call current_tenant_ids() (the policies need that); it grants nothing on
-- the table, whose privileges are separate.
grant usage on schema earshot_security to public;

create table if not exists earshot_security.tenant_roles (
    role_name text primary key,
    tenant_id text not null
);
revoke all on earshot_security.tenant_roles from public;
grant select, insert, update, delete on earshot_security.tenant_roles to platform_admin;

-- The tenants of the session's login role. SECURITY DEFINER so that it can read the mapping the
-- caller cannot; inside it current_user is this function's owner, so the caller is identified
-- by session_user, which only a superuser can change (SET SESSION AUTHORIZATION needs a session
-- opened by a superuser). SET ROLE changes current_user only, so it cannot widen what a BI login
-- sees, and no setting the client controls (set_config, custom GUCs) is consulted. The search
-- path is pinned so a function or table the caller creates cannot stand in for the mapping.
create or replace function earshot_security.current_tenant_ids()
returns text[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(array_agg(t.tenant_id order by t.tenant_id), array[]::text[])
    from earshot_security.tenant_roles as t
    where t.role_name = session_user
$function$;
revoke all on function earshot_security.current_tenant_ids() from public;
grant execute on function earshot_security.current_tenant_ids() to public;

-- Nobody but the owner creates objects in public (the default before PostgreSQL 15), and only the
-- platform's own roles may create temporary objects: a BI login has no reason to create anything.
revoke create on schema public from public;
do $migration$
begin
    execute format('revoke temporary on database %I from public', current_database());
    execute format(
        'grant temporary on database %I to platform_admin, pipeline_writer, analyst',
        current_database()
    );
end
$migration$;

-- The warehouse's schemas (dbt and the raw loader also create them if missing).
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists reference;

-- pipeline_writer: loads raw and builds the dbt layers.
grant usage, create on schema raw, staging, intermediate, marts, reference to pipeline_writer;
grant select, insert, update, delete, truncate
    on all tables in schema raw, staging, intermediate, marts, reference to pipeline_writer;
alter default privileges in schema raw, staging, intermediate, marts, reference
    grant select, insert, update, delete, truncate on tables to pipeline_writer;

-- analyst: the platform's internal analysts read every tenant in the modelled layers. Not raw:
-- raw still holds client addresses, which end at staging.
grant usage on schema staging, intermediate, marts, reference to analyst;
grant select on all tables in schema staging, intermediate, marts, reference to analyst;
alter default privileges in schema staging, intermediate, marts, reference
    grant select on tables to analyst;

-- platform_admin: reads everything, manages the mapping (granted above).
grant usage on schema raw, staging, intermediate, marts, reference, earshot_security
    to platform_admin;
grant select on all tables in schema raw, staging, intermediate, marts, reference
    to platform_admin;
alter default privileges in schema raw, staging, intermediate, marts, reference
    grant select on tables to platform_admin;
