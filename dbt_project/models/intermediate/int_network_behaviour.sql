{#- How each network listens, from its valid downloads (int_downloads: bots and unrealistic
    days already gone): distinct listener user agents, volume and spread over the day, one row
    per tenant and network. `behaviour_reason` names the first rule (in this order) saying the
    network is shared rather than one household, null when it behaves like one:

        many_user_agents   more distinct user agents than var household_max_user_agents
        high_volume        more downloads per active day than
                           var household_max_downloads_per_active_day
        round_the_clock    more distinct UTC hours per active day (on average) than
                           var household_max_active_hours_per_day

    The last two need var household_behaviour_min_active_days active days. int_households applies
    the reason to networks whose range says household. -#}
{%- set max_user_agents = var('household_max_user_agents') | int -%}
{%- set max_per_day = var('household_max_downloads_per_active_day') | float -%}
{%- set max_hours = var('household_max_active_hours_per_day') | float -%}
{%- set min_days = var('household_behaviour_min_active_days') | int %}

with

downloads as (
    select
        tenant_id,
        network_key,
        user_agent,
        episode_id,
        download_date,
        downloaded_at
    from {{ ref('int_downloads') }}
    where {{ tenant_filter('tenant_id') }}
),

per_day as (
    select
        tenant_id,
        network_key,
        download_date,
        count(*) as downloads,
        count(distinct episode_id) as episodes,
        count(distinct {{ dbt.date_trunc('hour', 'downloaded_at') }}) as active_hours
    from downloads
    group by tenant_id, network_key, download_date
),

daily as (
    select
        tenant_id,
        network_key,
        count(*) as active_days,
        max(downloads) as max_downloads_per_day,
        max(episodes) as max_episodes_per_day,
        max(active_hours) as max_active_hours_per_day,
        avg(cast(active_hours as {{ type_double() }})) as mean_active_hours_per_day
    from per_day
    group by tenant_id, network_key
),

overall as (
    select
        tenant_id,
        network_key,
        count(*) as downloads,
        count(distinct user_agent) as user_agents,
        min(downloaded_at) as first_download_at,
        max(downloaded_at) as last_download_at
    from downloads
    group by tenant_id, network_key
),

measured as (
    select
        overall.tenant_id,
        overall.network_key,
        cast(overall.user_agents as {{ dbt.type_bigint() }}) as user_agents,
        cast(overall.downloads as {{ dbt.type_bigint() }}) as downloads,
        cast(daily.active_days as {{ dbt.type_bigint() }}) as active_days,
        cast(overall.downloads as {{ type_double() }})
            / cast(daily.active_days as {{ type_double() }}) as downloads_per_active_day,
        cast(daily.max_downloads_per_day as {{ dbt.type_bigint() }}) as max_downloads_per_day,
        cast(daily.max_episodes_per_day as {{ dbt.type_bigint() }}) as max_episodes_per_day,
        daily.mean_active_hours_per_day,
        cast(daily.max_active_hours_per_day as {{ dbt.type_bigint() }})
            as max_active_hours_per_day,
        overall.first_download_at,
        overall.last_download_at
    from overall
    inner join daily
        on daily.tenant_id = overall.tenant_id
        and daily.network_key = overall.network_key
)

select
    tenant_id,
    network_key,
    user_agents,
    downloads,
    active_days,
    downloads_per_active_day,
    max_downloads_per_day,
    max_episodes_per_day,
    mean_active_hours_per_day,
    max_active_hours_per_day,
    first_download_at,
    last_download_at,
    cast(
        case
            when user_agents > {{ max_user_agents }} then 'many_user_agents'
            when active_days >= {{ min_days }}
                and downloads_per_active_day > {{ max_per_day }} then 'high_volume'
            when active_days >= {{ min_days }}
                and mean_active_hours_per_day > {{ max_hours }} then 'round_the_clock'
        end
        as {{ dbt.type_string() }}
    ) as behaviour_reason
from measured
