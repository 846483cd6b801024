{#- Privacy boundary: client addresses (and e-mail addresses) are pseudonymised in staging, so no relation built from
    staging onwards may have a column that looks like it holds an address or the range key
    derived from one. Returns such columns. ip_version and ip_class are allowed: neither
    identifies anyone. -#}

-- depends_on: {{ ref('stg_files__download_requests') }}
-- depends_on: {{ ref('stg_files__orders') }}
-- depends_on: {{ ref('stg_files__site_events') }}
-- depends_on: {{ ref('stg_files__leads') }}
-- depends_on: {{ ref('int_downloads') }}
-- depends_on: {{ ref('int_households') }}

select
    table_schema,
    table_name,
    column_name

from information_schema.columns
where
    lower(table_schema) in ('staging', 'intermediate')
    and (
        lower(column_name) in (
            'ip', 'ip_address', 'client_ip', 'remote_addr', 'remote_ip', 'x_forwarded_for',
            'network', 'ip_network', 'ip_prefix', 'sort_key', 'ip_sort_key',
            -- e-mail addresses are pseudonymised there too (email_key)
            'email', 'email_address'
        )
        or lower(column_name) like '%ip_addr%'
    )
