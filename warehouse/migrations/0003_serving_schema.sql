-- The serving stage's schema: alerts raised and every delivery attempted (serving/outbox.py).
-- The pipeline writes it; analysts and platform admins read every tenant's rows. Its tables get
-- the marts' row-level security when created (models_ml/tables.py secure_table).
create schema if not exists serving;

grant usage, create on schema serving to pipeline_writer;
grant select, insert, update, delete, truncate on all tables in schema serving to pipeline_writer;
alter default privileges in schema serving
    grant select, insert, update, delete, truncate on tables to pipeline_writer;

grant usage on schema serving to analyst, platform_admin;
grant select on all tables in schema serving to analyst, platform_admin;
alter default privileges in schema serving grant select on tables to analyst, platform_admin;
