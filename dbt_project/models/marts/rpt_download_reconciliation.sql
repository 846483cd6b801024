{#- Earshot's IAB downloads next to the downloads the hosting platform reports, per episode and
    day (docs/user/counting.md, "Reconciliation with your host"). One row per host figure:
    tenant, platform, show, episode and day. Certified counters agree within +/-5% "generally"
    (IAB), so a row outside var('reconciliation_tolerance_pct') is out of tolerance, and an
    alert when either side reached var('reconciliation_min_downloads'): below that, one
    download more or less is already several percent, which is noise, not a counting problem. -#}

with

host as (

    select * from {{ ref('stg_files__host_downloads_daily') }}
    where {{ tenant_filter('tenant_id') }}
        -- a view (YouTube) is not a download: those figures are in fct_video_views_daily
        and not {{ is_view_platform('platform') }}

),

earshot as (

    select * from {{ ref('fct_episode_downloads_daily') }}
    where {{ tenant_filter('tenant_id') }}
        -- the build's one window; the same window is disclosed on every row below
        and count_window = '{{ download_window() }}'

),

compared as (

    select
        host.tenant_id,
        host.platform,
        coalesce(host.show_id, earshot.show_id) as show_id,
        host.episode_id,
        host.report_date as download_date,
        host.downloads as host_downloads,
        coalesce(earshot.downloads, 0) as earshot_downloads

    from host
    left join earshot
        on host.tenant_id = earshot.tenant_id
        and host.episode_id = earshot.episode_id
        and host.report_date = earshot.download_date

),

final as (

    select
        tenant_id,
        platform,
        show_id,
        episode_id,
        cast(download_date as date) as download_date,
        cast('{{ download_window() }}' as {{ dbt.type_string() }}) as count_window,
        cast(host_downloads as {{ dbt.type_bigint() }}) as host_downloads,
        cast(earshot_downloads as {{ dbt.type_bigint() }}) as earshot_downloads,
        {{ reconciliation_figures('host_downloads', 'earshot_downloads') }}

    from compared

)

select * from final
