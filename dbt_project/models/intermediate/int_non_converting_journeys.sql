{#- Non-converting journeys, the Markov model's paths that end without a conversion: per tenant
    and household, its touches that no conversion followed, in time order.

    A touch is non-converting when no conversion of the same tenant and household is at or after
    it and at most var('lookback_days') later (the same window as int_conversion_paths, so a touch
    is either on some conversion's path or here, never both; a touch taken off a path by the
    prior-customer rule is neither). Only touches whose whole window lies inside the tenant's
    data count: the touch is at least lookback_days before the tenant's latest touch or
    conversion, because a later touch may still convert. A household has one journey (its
    non-converting touches, which may span months), numbered like a path and transformed by
    var('path_transform') like one. -#}
{%- set settings = attribution_settings() %}

with

conversions as (
    select
        tenant_id,
        conversion_id,
        household_id,
        conversion_ts
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
        placement_id
    from {{ ref('int_touchpoints') }}
    where {{ tenant_filter('tenant_id') }}
        and household_id is not null
        and touch_ts is not null
),

data_ends as (
    select
        tenant_id,
        max(observed_ts) as data_end_ts
    from (
        select tenant_id, touch_ts as observed_ts from touchpoints
        union all
        select tenant_id, conversion_ts as observed_ts from conversions
    ) as observed
    group by tenant_id
),

converted_touches as (
    select distinct
        touchpoints.tenant_id,
        touchpoints.touchpoint_id
    from touchpoints
    inner join conversions
        on {{ touch_in_lookback_window('touchpoints', 'conversions') }}
),

non_converting as (
    select
        touchpoints.*
    from touchpoints
    inner join data_ends
        on data_ends.tenant_id = touchpoints.tenant_id
    left join converted_touches
        on converted_touches.tenant_id = touchpoints.tenant_id
        and converted_touches.touchpoint_id = touchpoints.touchpoint_id
    where converted_touches.touchpoint_id is null
        and touchpoints.touch_ts <= {{ dbt.dateadd(
            'second', -1 * settings.lookback_seconds, 'data_ends.data_end_ts') }}
),

{{ attribution_transformed_path_ctes('non_converting', 'tenant_id, household_id') }}

select
    tenant_id,
    household_id,
    touchpoint_id,
    ip_class,
    campaign_id,
    placement_id,
    touch_ts,
    touch_index,
    touch_count
from numbered
