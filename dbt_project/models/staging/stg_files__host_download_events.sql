{#- One row per download the hosting platform logged: app, device and place, without address
    or user agent (the host's API does not give them). The rows of one episode-day come from
    one extraction: a later extraction of the same platform, episode and day replaces the
    earlier one's rows as a whole, since the host may have logged more downloads since and its
    rows carry no id to match them one by one. -#}

with

source as (

    select * from {{ source('files', 'host_download_events') }}
    where {{ tenant_filter('_tenant_id') }}

),

renamed as (

    select
        cast(_tenant_id as {{ dbt.type_string() }}) as tenant_id,
        lower(trim(cast(platform as {{ dbt.type_string() }}))) as platform,
        cast(show_id as {{ dbt.type_string() }}) as show_id,
        cast(episode_id as {{ dbt.type_string() }}) as episode_id,
        cast({{ adapter.quote('date') }} as date) as report_date,
        {{ host_known_value('app') }} as app,
        {{ host_known_value('device') }} as device,
        lower({{ host_known_value('device_type') }}) as device_type,
        upper({{ host_known_value('country_code') }}) as country_code,
        {{ host_known_value('region') }} as region,
        {{ host_known_value('city') }} as city,
        {{ host_known_value('continent') }} as continent,
        lower({{ host_known_value('media_type') }}) as media_type,
        _extracted_at,
        _batch_id

    from source

),

versions as (

    select
        *,
        dense_rank() over (
            partition by tenant_id, platform, episode_id, report_date
            order by _extracted_at desc, _batch_id desc
        ) as version_rank

    from renamed

),

final as (

    select
        tenant_id,
        platform,
        show_id,
        episode_id,
        report_date,
        app,
        device,
        device_type,
        country_code,
        region,
        city,
        continent,
        media_type

    from versions
    where version_rank = 1

)

select * from final
