{#- One row per platform, episode and reporting day: the host's latest figure. Hosts revise
    recent days (late logs, their own bot filtering), so a later extraction of the same key
    replaces an earlier one, like every keyed staging model. The platform name is compared
    lower-case and trimmed, so `Buzzsprout` and `buzzsprout` are one platform. -#}

with

source as (

    select * from {{ source('files', 'host_downloads_daily') }}
    where {{ tenant_filter('_tenant_id') }}

),

renamed as (

    select
        cast(_tenant_id as {{ dbt.type_string() }}) as tenant_id,
        lower(trim(cast(platform as {{ dbt.type_string() }}))) as platform,
        cast(show_id as {{ dbt.type_string() }}) as show_id,
        cast(episode_id as {{ dbt.type_string() }}) as episode_id,
        cast({{ adapter.quote('date') }} as date) as report_date,
        cast(downloads as {{ dbt.type_bigint() }}) as downloads,
        cast(reported_at as {{ dbt.type_timestamp() }}) as reported_at,
        _extracted_at,
        _batch_id,
        _source_row

    from source

),

latest as (

    select
        *,
        {{ landing_version_rank('tenant_id, platform, episode_id, report_date') }} as version_rank

    from renamed

),

final as (

    select
        tenant_id,
        platform,
        show_id,
        episode_id,
        report_date,
        downloads,
        reported_at

    from latest
    where version_rank = 1

)

select * from final
