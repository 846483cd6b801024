{#- Daily IAB downloads per episode, for BI users (docs/user/marts.md, docs/user/counting.md):
    one row per tenant, show, episode, UTC day and counting window with the downloads counted
    that day (int_downloads by download_date), the unique listeners among them (network + user
    agent) and the requests of the episode excluded that day (int_download_requests_excluded),
    so a day's count can be explained. A day with excluded requests and no download has a row
    with zero downloads. Episodes missing from the catalogue keep a null show_id. -#}

with

downloads as (

    select * from {{ ref('int_downloads') }}
    where {{ tenant_filter('tenant_id') }}

),

excluded as (

    select * from {{ ref('int_download_requests_excluded') }}
    where {{ tenant_filter('tenant_id') }}

),

episodes as (

    select * from {{ ref('stg_files__episodes') }}
    where {{ tenant_filter('tenant_id') }}

),

daily_downloads as (

    select
        tenant_id,
        episode_id,
        download_date,
        count_window,
        count(*) as downloads,
        -- one listener = one network + user agent (IAB unique key); the separator keeps
        -- ('a', 'bc') and ('ab', 'c') apart
        count(distinct network_key || '|' || user_agent) as listeners

    from downloads
    group by tenant_id, episode_id, download_date, count_window

),

daily_excluded as (

    select
        tenant_id,
        episode_id,
        request_date,
        count(*) as excluded_requests

    from excluded
    group by tenant_id, episode_id, request_date

),

-- Both sides by episode and day: a day can have downloads, excluded requests or both.
episode_days as (

    select
        coalesce(daily_downloads.tenant_id, daily_excluded.tenant_id) as tenant_id,
        coalesce(daily_downloads.episode_id, daily_excluded.episode_id) as episode_id,
        coalesce(daily_downloads.download_date, daily_excluded.request_date) as download_date,
        -- the window is one per build (var download_window); a day with only excluded
        -- requests discloses the same one
        coalesce(
            daily_downloads.count_window,
            cast('{{ download_window() }}' as {{ dbt.type_string() }})
        ) as count_window,
        coalesce(daily_downloads.downloads, 0) as downloads,
        coalesce(daily_downloads.listeners, 0) as listeners,
        coalesce(daily_excluded.excluded_requests, 0) as excluded_requests

    from daily_downloads
    full outer join daily_excluded
        on daily_downloads.tenant_id = daily_excluded.tenant_id
        and daily_downloads.episode_id = daily_excluded.episode_id
        and daily_downloads.download_date = daily_excluded.request_date

),

final as (

    select
        episode_days.tenant_id,
        episodes.show_id,
        episode_days.episode_id,
        cast(episode_days.download_date as date) as download_date,
        episode_days.count_window,
        cast(episode_days.downloads as {{ dbt.type_bigint() }}) as downloads,
        cast(episode_days.listeners as {{ dbt.type_bigint() }}) as listeners,
        cast(episode_days.excluded_requests as {{ dbt.type_bigint() }}) as excluded_requests

    from episode_days
    left join episodes
        on episode_days.tenant_id = episodes.tenant_id
        and episode_days.episode_id = episodes.episode_id

)

select * from final
