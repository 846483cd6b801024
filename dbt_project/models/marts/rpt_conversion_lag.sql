{#- The lag curve (docs/user/marts.md, docs/user/attribution.md "Reach, overlap and lag"): per
    tenant and campaign, the observed conversions by whole days between the household's first
    exposure to the campaign within the conversion's lookback window and the conversion.

    A conversion counts for a campaign when its path (int_conversion_paths) holds a touch of
    the campaign; its lag is the age of the campaign's earliest touch on the path,
    floor(seconds / 86400), so 0 = within 24 hours. The path only holds touches inside the
    window, so the lag runs from 0 to the whole days of var('lookback_days'), and every day of
    that range has a row (0 conversions included) for every campaign with a conversion. A
    conversion counts once per campaign (not split like attribution credit), so a conversion
    touched by two campaigns is in both curves. Observed only: conversions whose path touches
    all came from household-class networks, the rule of fct_attribution_credits.is_observed. -#}
{%- set settings = attribution_settings() -%}
{%- set last_day = (settings.lookback_seconds // 86400) | int %}

with

paths as (

    select
        tenant_id,
        conversion_id,
        campaign_id,
        ip_class,
        seconds_before_conversion
    from {{ ref('int_conversion_paths') }}
    where {{ tenant_filter('tenant_id') }}

),

observed_conversions as (

    -- A path belongs to one household and so has one class; should it mix classes it counts
    -- as modelled, as in fct_attribution_credits.
    select
        tenant_id,
        conversion_id
    from paths
    group by tenant_id, conversion_id
    having min(case when ip_class = 'household' then 1 else 0 end) = 1

),

first_exposures as (

    select
        paths.tenant_id,
        paths.campaign_id,
        paths.conversion_id,
        max(paths.seconds_before_conversion) as seconds_since_first_exposure
    from paths
    inner join observed_conversions
        on observed_conversions.tenant_id = paths.tenant_id
        and observed_conversions.conversion_id = paths.conversion_id
    where paths.campaign_id is not null
    group by paths.tenant_id, paths.campaign_id, paths.conversion_id

),

lags as (

    select
        tenant_id,
        campaign_id,
        conversion_id,
        cast(
            floor(seconds_since_first_exposure / cast(86400 as {{ type_double() }}))
            as {{ dbt.type_bigint() }}
        ) as days_since_first_exposure
    from first_exposures

),

days as (

    {%- for day in range(last_day + 1) %}
    select cast({{ day }} as {{ dbt.type_bigint() }}) as days_since_first_exposure
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

campaigns as (

    select distinct
        tenant_id,
        campaign_id
    from lags

),

conversions_per_day as (

    select
        tenant_id,
        campaign_id,
        days_since_first_exposure,
        count(*) as conversions
    from lags
    group by tenant_id, campaign_id, days_since_first_exposure

),

curve as (

    select
        campaigns.tenant_id,
        campaigns.campaign_id,
        days.days_since_first_exposure,
        cast(coalesce(conversions_per_day.conversions, 0) as {{ dbt.type_bigint() }})
            as conversions
    from campaigns
    cross join days
    left join conversions_per_day
        on conversions_per_day.tenant_id = campaigns.tenant_id
        and conversions_per_day.campaign_id = campaigns.campaign_id
        and conversions_per_day.days_since_first_exposure = days.days_since_first_exposure

),

cumulated as (

    select
        tenant_id,
        campaign_id,
        days_since_first_exposure,
        conversions,
        cast(
            sum(conversions) over (
                partition by tenant_id, campaign_id
                order by days_since_first_exposure
                rows between unbounded preceding and current row
            ) as {{ dbt.type_bigint() }}
        ) as cumulative_conversions,
        cast(
            sum(conversions) over (partition by tenant_id, campaign_id)
            as {{ dbt.type_bigint() }}
        ) as total_conversions
    from curve

),

final as (

    select
        tenant_id,
        campaign_id,
        days_since_first_exposure,
        conversions,
        cast(conversions as {{ type_double() }}) / cast(total_conversions as {{ type_double() }})
            as share,
        cumulative_conversions,
        -- The last day's cumulative count is the total, so the curve ends at exactly 1.
        cast(cumulative_conversions as {{ type_double() }})
            / cast(total_conversions as {{ type_double() }}) as cumulative_share,
        total_conversions,
        cast({{ settings.lookback_days }} as {{ type_double() }}) as lookback_days
    from cumulated

)

select * from final
