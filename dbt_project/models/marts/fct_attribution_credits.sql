{#- Attribution credit per (conversion, touchpoint, model): the five models of
    macros/attribution/, each a small select over the conversion paths, unioned. For every
    converting path and every model the credits sum to 1 (tests/attribution_credits_sum_to_one). -#}
{%- set settings = attribution_settings() -%}

with

paths as (
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
        touch_count
    from {{ ref('int_conversion_paths') }}
    where {{ tenant_filter('tenant_id') }}
),

path_observation as (
    -- Observed means every touch of the path came from a household-class IP. A path belongs to
    -- one household and so has one class; should it ever mix classes the whole conversion counts
    -- as modelled, so no conversion is ever split between observed and modelled results.
    select
        tenant_id,
        conversion_id,
        min(case when ip_class = 'household' then 1 else 0 end) = 1 as is_observed
    from paths
    group by tenant_id, conversion_id
),

credits as (
    {{ attribution_first_touch('paths') }}
    union all
    {{ attribution_last_touch('paths') }}
    union all
    {{ attribution_linear('paths') }}
    union all
    {{ attribution_time_decay('paths', settings.half_life_days) }}
    union all
    {{ attribution_position_based(
        'paths', settings.position_first_weight, settings.position_last_weight) }}
)

select
    paths.tenant_id,
    paths.conversion_id,
    paths.touchpoint_id,
    credits.model,
    credits.credit,
    credits.credit * paths.revenue as credited_revenue,
    paths.revenue,
    paths.campaign_id,
    paths.placement_id,
    paths.show_id,
    paths.episode_id,
    paths.household_id,
    paths.touch_ts,
    paths.conversion_ts,
    paths.touch_index,
    paths.touch_count,
    path_observation.is_observed,
    cast({{ settings.lookback_days }} as {{ type_double() }}) as lookback_days,
    cast({{ settings.half_life_days }} as {{ type_double() }}) as half_life_days,
    cast({{ settings.position_first_weight }} as {{ type_double() }}) as position_first_weight,
    cast({{ settings.position_last_weight }} as {{ type_double() }}) as position_last_weight
from credits
inner join paths
    on paths.tenant_id = credits.tenant_id
    and paths.conversion_id = credits.conversion_id
    and paths.touchpoint_id = credits.touchpoint_id
inner join path_observation
    on path_observation.tenant_id = credits.tenant_id
    and path_observation.conversion_id = credits.conversion_id
