{#- The two groups of an incrementality study, one row per (campaign, household):
      exposed  households with an impression of the campaign (int_ad_impressions holds only
               in-flight impressions); exposed_at is the first one, show_id its show;
      control  households that downloaded one of the campaign's shows (the shows of its
               placements' episodes) during the flight, both ends inclusive, and had no
               impression of the campaign. exposed_at is a pseudo exposure: the household's
               first download of one of those shows in the flight, the moment it would have
               been exposed had that episode carried the ad; show_id is that download's show.
    Both groups are matched by coarsened exact matching on (show_id, ip_class,
    pre_period_bucket): pre_period_bucket counts the household's valid downloads (any show)
    in the var incrementality_pre_period_days days before the flight start, coarsened by the
    lower bounds in var incrementality_pre_period_buckets. A stratum is matched when it holds
    both groups; unmatched households get weight 0. Within (campaign, is_observed) an exposed
    household weighs 1 and a control household n_e,s * N_c / (n_c,s * N_e) (n: households of
    its stratum, N: matched households of the group), so the weighted controls have the
    exposed households' distribution over the strata and still sum to N_c.
    Outcomes: conversions (int_conversions of the household) with exposed_at <= conversion_ts
    <= exposed_at + var incrementality_conversion_window_days. -#}
{%- set settings = incrementality_settings() %}

with

campaigns as (

    select
        tenant_id,
        campaign_id,
        start_date,
        end_date
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}

),

placements as (

    select
        tenant_id,
        campaign_id,
        episode_id
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

impressions as (

    select
        tenant_id,
        campaign_id,
        show_id,
        household_id,
        impressed_at
    from {{ ref('int_ad_impressions') }}
    where {{ tenant_filter('tenant_id') }}

),

downloads as (

    select
        tenant_id,
        show_id,
        network_key,
        download_date,
        downloaded_at
    from {{ ref('int_downloads') }}
    where {{ tenant_filter('tenant_id') }}

),

households as (

    select
        tenant_id,
        household_id,
        ip_class
    from {{ ref('int_households') }}
    where {{ tenant_filter('tenant_id') }}

),

conversions as (

    select
        tenant_id,
        household_id,
        conversion_ts,
        revenue
    from {{ ref('int_conversions') }}
    where {{ tenant_filter('tenant_id') }}
        and household_id is not null

),

campaign_shows as (

    select distinct
        placements.tenant_id,
        placements.campaign_id,
        episodes.show_id
    from placements
    inner join episodes
        on episodes.tenant_id = placements.tenant_id
        and episodes.episode_id = placements.episode_id

),

-- Every download of a campaign's shows in its flight (the same flight rule as
-- int_ad_impressions: UTC dates, both ends inclusive, a missing bound open).
flight_downloads as (

    select
        downloads.tenant_id,
        campaign_shows.campaign_id,
        downloads.show_id,
        {{ household_id_for_network('downloads.network_key') }} as household_id,
        downloads.downloaded_at
    from downloads
    inner join campaign_shows
        on campaign_shows.tenant_id = downloads.tenant_id
        and campaign_shows.show_id = downloads.show_id
    inner join campaigns
        on campaigns.tenant_id = campaign_shows.tenant_id
        and campaigns.campaign_id = campaign_shows.campaign_id
    where {{ in_campaign_flight('downloads.download_date', 'campaigns') }}

),

exposed_ranked as (

    select
        tenant_id,
        campaign_id,
        household_id,
        show_id,
        impressed_at as exposed_at,
        row_number() over (
            partition by tenant_id, campaign_id, household_id
            order by impressed_at, {{ attribution_id_order('show_id') }}
        ) as exposure_rank
    from impressions

),

control_ranked as (

    select
        flight_downloads.tenant_id,
        flight_downloads.campaign_id,
        flight_downloads.household_id,
        flight_downloads.show_id,
        flight_downloads.downloaded_at as exposed_at,
        row_number() over (
            partition by
                flight_downloads.tenant_id,
                flight_downloads.campaign_id,
                flight_downloads.household_id
            order by
                flight_downloads.downloaded_at,
                {{ attribution_id_order('flight_downloads.show_id') }}
        ) as exposure_rank
    from flight_downloads
    where not exists (
        select 1
        from impressions
        where impressions.tenant_id = flight_downloads.tenant_id
            and impressions.campaign_id = flight_downloads.campaign_id
            and impressions.household_id = flight_downloads.household_id
    )

),

study_households as (

    select tenant_id, campaign_id, household_id, show_id, exposed_at, 'exposed' as study_group
    from exposed_ranked
    where exposure_rank = 1

    union all

    select tenant_id, campaign_id, household_id, show_id, exposed_at, 'control' as study_group
    from control_ranked
    where exposure_rank = 1

),

-- Valid downloads per household in the pre-period [start - N days, start). A campaign without
-- a start date has no "before": every household is in bucket 0.
pre_period_activity as (

    select
        study_households.tenant_id,
        study_households.campaign_id,
        study_households.household_id,
        cast(count(*) as {{ dbt.type_bigint() }}) as pre_period_downloads
    from study_households
    inner join campaigns
        on campaigns.tenant_id = study_households.tenant_id
        and campaigns.campaign_id = study_households.campaign_id
    inner join downloads
        on downloads.tenant_id = study_households.tenant_id
        and {{ household_id_for_network('downloads.network_key') }} = study_households.household_id
        and downloads.download_date < campaigns.start_date
        and downloads.download_date
            >= cast({{ dbt.dateadd('day', -settings.pre_period_days, 'campaigns.start_date') }} as date)
    group by study_households.tenant_id, study_households.campaign_id, study_households.household_id

),

outcomes as (

    select
        study_households.tenant_id,
        study_households.campaign_id,
        study_households.household_id,
        cast(count(*) as {{ dbt.type_bigint() }}) as conversions,
        cast(sum(conversions.revenue) as {{ type_double() }}) as revenue,
        min(
            {{ epoch_seconds_between('study_households.exposed_at', 'conversions.conversion_ts') }}
        ) as first_conversion_seconds
    from study_households
    inner join conversions
        on conversions.tenant_id = study_households.tenant_id
        and conversions.household_id = study_households.household_id
        and conversions.conversion_ts >= study_households.exposed_at
    where {{ epoch_seconds_between('study_households.exposed_at', 'conversions.conversion_ts') }}
        <= {{ settings.window_seconds }}
    group by study_households.tenant_id, study_households.campaign_id, study_households.household_id

),

classified as (

    select
        study_households.tenant_id,
        study_households.campaign_id,
        study_households.household_id,
        study_households.study_group,
        study_households.show_id,
        coalesce(households.ip_class, 'unknown') as ip_class,
        coalesce(households.ip_class = 'household', false) as is_observed,
        study_households.exposed_at,
        coalesce(pre_period_activity.pre_period_downloads, 0) as pre_period_downloads,
        case
            {%- for edge in settings.pre_period_buckets | reverse %}
            when coalesce(pre_period_activity.pre_period_downloads, 0) >= {{ edge }}
                then {{ settings.pre_period_buckets | length - loop.index0 }}
            {%- endfor %}
            else 0
        end as pre_period_bucket,
        coalesce(outcomes.conversions, 0) as conversions,
        coalesce(outcomes.revenue, 0) as revenue,
        outcomes.first_conversion_seconds
    from study_households
    left join households
        on households.tenant_id = study_households.tenant_id
        and households.household_id = study_households.household_id
    left join pre_period_activity
        on pre_period_activity.tenant_id = study_households.tenant_id
        and pre_period_activity.campaign_id = study_households.campaign_id
        and pre_period_activity.household_id = study_households.household_id
    left join outcomes
        on outcomes.tenant_id = study_households.tenant_id
        and outcomes.campaign_id = study_households.campaign_id
        and outcomes.household_id = study_households.household_id

),

strata as (

    select
        classified.*,
        sum(case when study_group = 'exposed' then 1 else 0 end) over (
            partition by tenant_id, campaign_id, show_id, ip_class, pre_period_bucket
        ) as stratum_exposed,
        sum(case when study_group = 'control' then 1 else 0 end) over (
            partition by tenant_id, campaign_id, show_id, ip_class, pre_period_bucket
        ) as stratum_control
    from classified

),

matched as (

    select
        strata.*,
        stratum_exposed > 0 and stratum_control > 0 as is_matched
    from strata

),

group_sizes as (

    select
        matched.*,
        sum(case when is_matched and study_group = 'exposed' then 1 else 0 end) over (
            partition by tenant_id, campaign_id, is_observed
        ) as matched_exposed,
        sum(case when is_matched and study_group = 'control' then 1 else 0 end) over (
            partition by tenant_id, campaign_id, is_observed
        ) as matched_control
    from matched

),

final as (

    select
        tenant_id,
        campaign_id,
        household_id,
        study_group,
        show_id,
        ip_class,
        is_observed,
        exposed_at,
        pre_period_downloads,
        pre_period_bucket,
        {{ hashed_id(['tenant_id', 'campaign_id', 'show_id', 'ip_class', 'pre_period_bucket']) }}
            as stratum_id,
        cast(stratum_exposed as {{ dbt.type_bigint() }}) as stratum_exposed_households,
        cast(stratum_control as {{ dbt.type_bigint() }}) as stratum_control_households,
        is_matched,
        case
            when not is_matched then 0.0
            when study_group = 'exposed' then 1.0
            else cast(stratum_exposed as {{ type_double() }})
                * cast(matched_control as {{ type_double() }})
                / (cast(stratum_control as {{ type_double() }})
                    * cast(matched_exposed as {{ type_double() }}))
        end as match_weight,
        conversions > 0 as converted,
        conversions,
        revenue,
        first_conversion_seconds
    from group_sizes

)

select * from final
