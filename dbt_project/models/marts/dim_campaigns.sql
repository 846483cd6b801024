{#- Campaigns for BI users: the campaign's own attributes and what was bought (placements,
    episodes, shows, spend). Performance by attribution model is fct_campaign_performance. -#}

with

campaigns as (
    select
        tenant_id,
        campaign_id,
        advertiser,
        campaign_name,
        start_date,
        end_date,
        budget,
        currency
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}
),

placements as (
    select
        tenant_id,
        placement_id,
        campaign_id,
        episode_id,
        cost
    from {{ ref('stg_files__placements') }}
    where {{ tenant_filter('tenant_id') }}
),

episodes as (
    select
        tenant_id,
        episode_id,
        show_id
    from {{ ref('stg_files__episodes') }}
    where {{ tenant_filter('tenant_id') }}
),

bought as (
    select
        placements.tenant_id,
        placements.campaign_id,
        count(*) as placements,
        count(distinct placements.episode_id) as episodes,
        count(distinct episodes.show_id) as shows,
        sum(placements.cost) as spend
    from placements
    left join episodes
        on episodes.tenant_id = placements.tenant_id
        and episodes.episode_id = placements.episode_id
    group by placements.tenant_id, placements.campaign_id
)

select
    campaigns.tenant_id,
    campaigns.campaign_id,
    campaigns.advertiser,
    campaigns.campaign_name,
    campaigns.start_date,
    campaigns.end_date,
    -- Both ends of the flight count: a campaign from the 1st to the 2nd runs 2 days.
    {{ dbt.datediff('campaigns.start_date', 'campaigns.end_date', 'day') }} + 1 as flight_days,
    campaigns.budget,
    campaigns.currency,
    coalesce(bought.placements, 0) as placements,
    coalesce(bought.episodes, 0) as episodes,
    coalesce(bought.shows, 0) as shows,
    cast(coalesce(bought.spend, 0) as {{ type_double() }}) as spend
from campaigns
left join bought
    on bought.tenant_id = campaigns.tenant_id
    and bought.campaign_id = campaigns.campaign_id
