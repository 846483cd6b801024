{#- One row per order, its latest extraction. The browser address is reduced to a pseudonymous
    network_key and an ip_class here (macros/address_pseudonymisation.sql); no address leaves this model. -#}

with

source as (

    select * from {{ source('files', 'orders') }}
    where {{ tenant_filter('_tenant_id') }}

),

ip_class_ranges as (

    select * from {{ ref('ip_class_ranges') }}

),

renamed as (

    select
        cast(_tenant_id as {{ dbt.type_string() }}) as tenant_id,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(ts as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(ip as {{ dbt.type_string() }}) as ip,
        cast(user_agent as {{ dbt.type_string() }}) as user_agent,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(revenue as {{ type_double() }}) as revenue,
        upper(trim(cast(currency as {{ dbt.type_string() }}))) as currency,
        cast(discount_codes as {{ dbt.type_string() }}) as discount_codes,
        cast(landing_url as {{ dbt.type_string() }}) as landing_url,
        cast(referrer as {{ dbt.type_string() }}) as referrer,
        cast(survey_answer as {{ dbt.type_string() }}) as survey_answer,
        _extracted_at,
        _batch_id,
        _source_row

    from source

),

latest as (

    select
        *,
        {{ landing_version_rank('tenant_id, order_id') }} as version_rank

    from renamed

),

{{ address_pseudonymisation_ctes('renamed', 'ip_class_ranges', ip_column='ip') }}

final as (

    select
        latest.tenant_id,
        latest.order_id,
        latest.ordered_at,
        pseudonymised_addresses.ip_version,
        pseudonymised_addresses.network_key,
        pseudonymised_addresses.ip_class,
        latest.user_agent,
        latest.customer_id,
        latest.revenue,
        latest.currency,
        latest.discount_codes,
        latest.landing_url,
        latest.referrer,
        latest.survey_answer

    from latest
    left join pseudonymised_addresses
        on latest.tenant_id = pseudonymised_addresses.tenant_id
        and latest.ip = pseudonymised_addresses.ip
    where latest.version_rank = 1

)

select * from final
