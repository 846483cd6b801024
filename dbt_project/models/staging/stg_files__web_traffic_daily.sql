{#- One row per analytics property, day, traffic source and landing page: the latest report.
    Analytics platforms revise recent days (late hits, their own spam filtering), so a later
    extraction of the same key replaces the earlier one, like every keyed staging model. The
    platform is compared lower-case and trimmed; the traffic dimensions are kept as reported
    (rpt_web_traffic_daily matches them case-insensitively). Aggregates only: no visitor, no
    address. -#}

with

source as (

    select * from {{ source('files', 'web_traffic_daily') }}
    where {{ tenant_filter('_tenant_id') }}

),

renamed as (

    select
        cast(_tenant_id as {{ dbt.type_string() }}) as tenant_id,
        lower(trim(cast(platform as {{ dbt.type_string() }}))) as platform,
        cast(property_id as {{ dbt.type_string() }}) as property_id,
        cast({{ adapter.quote('date') }} as date) as traffic_date,
        cast(session_source as {{ dbt.type_string() }}) as session_source,
        cast(session_medium as {{ dbt.type_string() }}) as session_medium,
        cast(session_campaign as {{ dbt.type_string() }}) as session_campaign,
        cast(landing_page as {{ dbt.type_string() }}) as landing_page,
        cast(sessions as {{ dbt.type_bigint() }}) as sessions,
        -- GA4 counts key events as a double (a key event may be counted fractionally)
        cast(conversions as {{ type_double() }}) as conversions,
        cast(revenue as {{ type_double() }}) as revenue,
        cast(reported_at as {{ dbt.type_timestamp() }}) as reported_at,
        _extracted_at,
        _batch_id,
        _source_row

    from source

),

latest as (

    select
        *,
        {{ landing_version_rank(
            'tenant_id, platform, property_id, traffic_date, session_source, session_medium,'
            ~ ' session_campaign, landing_page') }} as version_rank

    from renamed

),

final as (

    select
        tenant_id,
        platform,
        property_id,
        traffic_date,
        session_source,
        session_medium,
        session_campaign,
        landing_page,
        sessions,
        conversions,
        revenue,
        reported_at

    from latest
    where version_rank = 1

)

select * from final
