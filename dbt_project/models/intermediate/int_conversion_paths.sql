{#- Every conversion with the touches that may take credit for it: same tenant, same household,
    at or before the conversion and at most var('lookback_days') before it (a touch exactly at the
    window's edge counts). Touches are numbered in (touch_ts, placement_id, touchpoint_id) order, so ties are
    broken the same way on every engine and every run. A conversion without a touch in its window
    has no path and takes no part in attribution. With var exclude_prior_customers, the touches
    of a campaign whose start the household had already ordered before are left out
    (int_prior_customer_exclusions); a conversion left without touches has no path.
    Last, var('path_transform') (macros/attribution/path_transform.sql) drops repeated touches
    by campaign and touch_index/touch_count are renumbered over the touches that stay. -#}
{%- set transform = attribution_path_transform() %}

with

conversions as (
    select
        tenant_id,
        conversion_id,
        household_id,
        conversion_ts,
        revenue
    from {{ ref('int_conversions') }}
    where {{ tenant_filter('tenant_id') }}
        and household_id is not null
        and conversion_ts is not null
),

touchpoints as (
    select
        tenant_id,
        touchpoint_id,
        household_id,
        ip_class,
        touch_ts,
        campaign_id,
        placement_id,
        show_id,
        episode_id
    from {{ ref('int_touchpoints') }}
    where {{ tenant_filter('tenant_id') }}
        and household_id is not null
        and touch_ts is not null
),

exclusions as (
    select
        tenant_id,
        conversion_id,
        campaign_id
    from {{ ref('int_prior_customer_exclusions') }}
    where {{ tenant_filter('tenant_id') }}
        and is_excluded
),

touches_in_window as (
    -- The window is compared on timestamps (conversion_ts minus a whole number of seconds),
    -- which is exact on every engine; the elapsed seconds are computed once for time decay.
    select
        conversions.tenant_id,
        conversions.conversion_id,
        touchpoints.touchpoint_id,
        conversions.household_id,
        touchpoints.ip_class,
        touchpoints.campaign_id,
        touchpoints.placement_id,
        touchpoints.show_id,
        touchpoints.episode_id,
        touchpoints.touch_ts,
        conversions.conversion_ts,
        conversions.revenue,
        {{ epoch_seconds_between('touchpoints.touch_ts', 'conversions.conversion_ts') }}
            as seconds_before_conversion
    from conversions
    inner join touchpoints
        on {{ touch_in_lookback_window('touchpoints', 'conversions') }}
    left join exclusions
        on exclusions.tenant_id = conversions.tenant_id
        and exclusions.conversion_id = conversions.conversion_id
        and exclusions.campaign_id = touchpoints.campaign_id
    where exclusions.conversion_id is null
),

{{ attribution_transformed_path_ctes('touches_in_window', 'tenant_id, conversion_id') }}

select
    tenant_id,
    conversion_id,
    touchpoint_id,
    household_id,
    ip_class,
    campaign_id,
    placement_id,
    show_id,
    episode_id,
    touch_ts,
    conversion_ts,
    revenue,
    seconds_before_conversion,
    touch_index,
    touch_count,
    cast({{ attribution_sql_string(transform.name) }} as {{ dbt.type_string() }})
        as path_transform
from numbered
