-- The ML stage's schema: model versions and predictions (models_ml/). The same grants as the
-- modelled layers: the pipeline writes it, analysts and platform admins read every tenant.
-- Its tables get the marts' row-level security when created (models_ml/tables.py).
create schema if not exists ml;

grant usage, create on schema ml to pipeline_writer;
grant select, insert, update, delete, truncate on all tables in schema ml to pipeline_writer;
alter default privileges in schema ml
    grant select, insert, update, delete, truncate on tables to pipeline_writer;

grant usage on schema ml to analyst, platform_admin;
grant select on all tables in schema ml to analyst, platform_admin;
alter default privileges in schema ml grant select on tables to analyst, platform_admin;
