{#- Budget pacing per campaign, as of the tenant's newest listening day (the newest day with
    an IAB download): the spend booked so far against the share of the budget the elapsed part
    of the flight should have used. A placement's cost is booked on the day its episode is
    published (the ad runs from then on); a placement of an unpublished or unknown episode is
    committed but not yet booked. The alert rule `budget_pacing` (docs/user/alerts.md) reads
    pacing_ratio; thresholds are the tenant's, so the mart only measures. -#}

with

campaigns as (
    -- Flight, budget and what was bought (spend: every placement's cost, booked or not).
    select
        tenant_id,
        campaign_id,
        campaign_name,
        start_date,
        end_date,
        flight_days,
        budget,
        currency,
        spend
    from {{ ref('dim_campaigns') }}
    where {{ tenant_filter('tenant_id') }}
),

placements as (
    select
        tenant_id,
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
        published_at
    from {{ ref('stg_files__episodes') }}
    where {{ tenant_filter('tenant_id') }}
),

downloads as (
    select
        tenant_id,
        download_date
    from {{ ref('int_downloads') }}
    where {{ tenant_filter('tenant_id') }}
),

data_days as (
    select
        tenant_id,
        max(download_date) as as_of_date
    from downloads
    group by tenant_id
),

booked as (
    select
        placements.tenant_id,
        placements.campaign_id,
        sum(placements.cost) as booked_spend
    from placements
    inner join data_days
        on data_days.tenant_id = placements.tenant_id
    inner join episodes
        on episodes.tenant_id = placements.tenant_id
        and episodes.episode_id = placements.episode_id
    where cast(episodes.published_at as date) <= data_days.as_of_date
    group by placements.tenant_id, placements.campaign_id
),

flights as (
    select
        campaigns.tenant_id,
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.start_date,
        campaigns.end_date,
        campaigns.budget,
        campaigns.currency,
        data_days.as_of_date,
        campaigns.flight_days,
        case
            when data_days.as_of_date < campaigns.start_date then 0
            when data_days.as_of_date > campaigns.end_date then campaigns.flight_days
            else {{ dbt.datediff('campaigns.start_date', 'data_days.as_of_date', 'day') }} + 1
        end as elapsed_days,
        cast(coalesce(booked.booked_spend, 0) as {{ type_double() }}) as booked_spend,
        campaigns.spend as committed_spend
    from campaigns
    inner join data_days
        on data_days.tenant_id = campaigns.tenant_id
    left join booked
        on booked.tenant_id = campaigns.tenant_id
        and booked.campaign_id = campaigns.campaign_id
),

expected as (
    select
        *,
        -- Cast before dividing: integer division truncates on PostgreSQL, not on DuckDB.
        cast(budget as {{ type_double() }}) * cast(elapsed_days as {{ type_double() }})
            / cast(flight_days as {{ type_double() }}) as expected_spend
    from flights
)

select
    tenant_id,
    campaign_id,
    campaign_name,
    start_date,
    end_date,
    as_of_date,
    flight_days,
    elapsed_days,
    case
        when elapsed_days = 0 then 'not_started'
        when as_of_date > end_date then 'ended'
        else 'in_flight'
    end as flight_status,
    budget,
    currency,
    booked_spend,
    committed_spend,
    expected_spend,
    case when expected_spend > 0 then booked_spend / expected_spend end as pacing_ratio,
    case when budget > 0 then booked_spend / budget end as budget_used_share
from expected
