{#- The reconciliation rolled up to show and day. An episode-day of a small show is a handful of
    downloads, where one more or less is many percent; summed over the show's episodes the
    noise averages out, and what stays outside +/-5% is systematic (a different bot list, a
    window, a missing feed), which is what an operator should look at first. Same tolerance and
    minimum as the episode rows (vars reconciliation_tolerance_pct, reconciliation_min_downloads). -#}

with

episode_days as (

    select * from {{ ref('rpt_download_reconciliation') }}
    where {{ tenant_filter('tenant_id') }}

),

show_days as (

    select
        tenant_id,
        platform,
        show_id,
        download_date,
        count_window,
        count(*) as episodes,
        sum(host_downloads) as host_downloads,
        sum(earshot_downloads) as earshot_downloads,
        sum(case when within_tolerance then 0 else 1 end) as episodes_outside_tolerance,
        sum(case when is_alert then 1 else 0 end) as episode_alerts

    from episode_days
    group by tenant_id, platform, show_id, download_date, count_window

),

final as (

    select
        tenant_id,
        platform,
        show_id,
        download_date,
        count_window,
        cast(episodes as {{ dbt.type_bigint() }}) as episodes,
        cast(host_downloads as {{ dbt.type_bigint() }}) as host_downloads,
        cast(earshot_downloads as {{ dbt.type_bigint() }}) as earshot_downloads,
        {{ reconciliation_figures('host_downloads', 'earshot_downloads') }},
        cast(episodes_outside_tolerance as {{ dbt.type_bigint() }}) as episodes_outside_tolerance,
        cast(episode_alerts as {{ dbt.type_bigint() }}) as episode_alerts

    from show_days

)

select * from final
