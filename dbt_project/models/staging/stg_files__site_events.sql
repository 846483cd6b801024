{#- One row per site (pixel) event, its latest extraction. The browser address is reduced to a
    pseudonymous network_key and an ip_class here; no address leaves this model. An event may
    name the order it led to (order_id) and carry UTM tags kept apart from its URL (utm_*): both
    are null when the source does not know them. -#}

with

source as (

    select * from {{ source('files', 'site_events') }}
    where {{ tenant_filter('_tenant_id') }}

),

ip_class_ranges as (

    select * from {{ ref('ip_class_ranges') }}

),

renamed as (

    select
        cast(_tenant_id as {{ dbt.type_string() }}) as tenant_id,
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(ts as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(ip as {{ dbt.type_string() }}) as ip,
        cast(user_agent as {{ dbt.type_string() }}) as user_agent,
        lower(trim(cast(event_type as {{ dbt.type_string() }}))) as event_type,
        cast(url as {{ dbt.type_string() }}) as url,
        cast(referrer as {{ dbt.type_string() }}) as referrer,
        -- Set by sources that tie a visit to its order (Shopify's customer journey, WooCommerce's
        -- order attribution); null for plain pixel events and for files landed before it.
        nullif(trim(cast(order_id as {{ dbt.type_string() }})), '') as order_id,
        cast(utm_source as {{ dbt.type_string() }}) as utm_source,
        cast(utm_medium as {{ dbt.type_string() }}) as utm_medium,
        cast(utm_campaign as {{ dbt.type_string() }}) as utm_campaign,
        _extracted_at,
        _batch_id,
        _source_row

    from source

),

latest as (

    select
        *,
        {{ landing_version_rank('tenant_id, event_id') }} as version_rank

    from renamed

),

{{ address_pseudonymisation_ctes('renamed', 'ip_class_ranges', ip_column='ip') }}

final as (

    select
        latest.tenant_id,
        latest.event_id,
        latest.occurred_at,
        pseudonymised_addresses.ip_version,
        pseudonymised_addresses.network_key,
        pseudonymised_addresses.ip_class,
        latest.user_agent,
        latest.event_type,
        latest.url,
        latest.referrer,
        latest.order_id,
        latest.utm_source,
        latest.utm_medium,
        latest.utm_campaign

    from latest
    left join pseudonymised_addresses
        on latest.tenant_id = pseudonymised_addresses.tenant_id
        and latest.ip = pseudonymised_addresses.ip
    where latest.version_rank = 1

)

select * from final
