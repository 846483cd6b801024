{#- Views per video and day of the tenant's video podcasts, as the video platform counts them
    (YouTube Analytics through its connector). A view is counted by the platform's own rules (a
    play, not a file delivered), so it is reported here and not reconciled with Earshot's IAB
    downloads. One row per tenant, platform, video and day, with the video's title. -#}

with

figures as (

    select * from {{ ref('stg_files__host_downloads_daily') }}
    where {{ tenant_filter('tenant_id') }}
        and {{ is_view_platform('platform') }}

),

episodes as (

    select * from {{ ref('stg_files__episodes') }}
    where {{ tenant_filter('tenant_id') }}

),

final as (

    select
        figures.tenant_id,
        figures.platform,
        figures.show_id as channel_id,
        episodes.show_name as channel_name,
        figures.episode_id as video_id,
        episodes.episode_title as video_title,
        cast(figures.report_date as date) as view_date,
        cast(figures.downloads as {{ dbt.type_bigint() }}) as views

    from figures
    left join episodes
        on figures.tenant_id = episodes.tenant_id
        and figures.episode_id = episodes.episode_id

)

select * from final
