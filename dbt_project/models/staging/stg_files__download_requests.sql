{#- One row per distinct hosting log line. The client address is reduced to a pseudonymous
    network_key and an ip_class here (macros/address_pseudonymisation.sql); no address leaves
    this model. -#}

with

source as (

    select * from {{ source('files', 'download_requests') }}
    where {{ tenant_filter('_tenant_id') }}

),

ip_class_ranges as (

    select * from {{ ref('ip_class_ranges') }}

),

renamed as (

    select
        cast(_tenant_id as {{ dbt.type_string() }}) as tenant_id,
        cast(ts as {{ dbt.type_timestamp() }}) as requested_at,
        cast(ip as {{ dbt.type_string() }}) as ip,
        cast(user_agent as {{ dbt.type_string() }}) as user_agent,
        cast(episode_id as {{ dbt.type_string() }}) as episode_id,
        cast(method as {{ dbt.type_string() }}) as method,
        cast(status as integer) as http_status,
        cast(bytes_sent as {{ dbt.type_bigint() }}) as bytes_sent,
        cast(range as {{ dbt.type_string() }}) as range_header,
        cast(seconds_downloaded as {{ type_double() }}) as seconds_downloaded

    from source

),

-- A log line has no id of its own: identical lines (the same line landed twice) are one
-- request. They agree in every field, so which landing wins does not matter.
distinct_lines as (

    select distinct * from renamed

),

{{ address_pseudonymisation_ctes('distinct_lines', 'ip_class_ranges', ip_column='ip') }}

final as (

    select
        distinct_lines.tenant_id,
        -- the address enters the line's hash only pseudonymised; seconds_downloaded as whole
        -- milliseconds, because a double's text differs between engines
        {{ hashed_id([
            'distinct_lines.tenant_id', 'distinct_lines.requested_at',
            'pseudonymised_addresses.address_key', 'distinct_lines.user_agent',
            'distinct_lines.episode_id', 'distinct_lines.method', 'distinct_lines.http_status',
            'distinct_lines.bytes_sent', 'distinct_lines.range_header',
            'cast(round(distinct_lines.seconds_downloaded * 1000) as ' ~ dbt.type_bigint() ~ ')',
        ]) }} as request_id,
        distinct_lines.requested_at,
        pseudonymised_addresses.ip_version,
        pseudonymised_addresses.network_key,
        pseudonymised_addresses.ip_class,
        distinct_lines.user_agent,
        distinct_lines.episode_id,
        upper(trim(distinct_lines.method)) as http_method,
        distinct_lines.http_status,
        distinct_lines.bytes_sent,
        distinct_lines.range_header,
        distinct_lines.seconds_downloaded

    from distinct_lines
    left join pseudonymised_addresses
        on distinct_lines.tenant_id = pseudonymised_addresses.tenant_id
        and distinct_lines.ip = pseudonymised_addresses.ip

)

-- Stored in network order: counting groups each listener's (network + user agent) requests per
-- episode and day, and finds a network's requests side by side instead of across the whole
-- table. At 10M requests the sort costs staging about 2 s and saves counting about as much;
-- counting's aggregation then stays in cache (docs/developer/benchmarks.md).
select * from final
order by network_key
