{#- Attribution credit per (conversion, touchpoint, model): the five rule-based models of
    macros/attribution/, each a credit expression, applied in one pass over the conversion
    paths, and the data-driven markov model (int_markov_credits) beside them. For every
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
        touch_count,
        path_transform
    from {{ ref('int_conversion_paths') }}
    where {{ tenant_filter('tenant_id') }}
),

markov_credits as (
    select
        tenant_id,
        conversion_id,
        touchpoint_id,
        credit
    from {{ ref('int_markov_credits') }}
    where {{ tenant_filter('tenant_id') }}
),

weighted_paths as (
    -- Observed means every touch of the path came from a household-class IP. A path belongs to
    -- one household and so has one class; should it ever mix classes the whole conversion counts
    -- as modelled, so no conversion is ever split between observed and modelled results.
    select
        paths.*,
        min(case when ip_class = 'household' then 1 else 0 end) over (
            partition by tenant_id, conversion_id
        ) = 1 as is_observed,
        {{ attribution_time_decay_weight(settings.half_life_days) }} as decay_weight
    from paths
),

decayed_paths as (
    -- The time-decay share needs the path's total weight: a window over the weights.
    select
        weighted_paths.*,
        {{ attribution_time_decay_credit() }} as time_decay_share
    from weighted_paths
),

models as (
    {{ attribution_model_rows(attribution_rule_model_names()) }}
),

credits as (
    -- One pass over the paths: each touch meets the five models, each model's credit is one
    -- expression of macros/attribution/.
    select
        decayed_paths.*,
        models.model,
        cast(
            case models.model
                when 'first_touch' then {{ attribution_first_touch_credit() }}
                when 'last_touch' then {{ attribution_last_touch_credit() }}
                when 'linear' then {{ attribution_linear_credit() }}
                when 'time_decay' then time_decay_share
                when 'position_based' then {{ attribution_position_based_credit(
                    settings.position_first_weight, settings.position_last_weight) }}
            end
            as {{ type_double() }}
        ) as credit
    from decayed_paths
    cross join models

    union all

    -- The sixth model's credits were computed from the whole tenant's journeys; a touch
    -- without one (none should lack it) gets no markov row and fails the sum-to-one test.
    select
        decayed_paths.*,
        cast('markov' as {{ dbt.type_string() }}) as model,
        cast(markov_credits.credit as {{ type_double() }}) as credit
    from decayed_paths
    inner join markov_credits
        on markov_credits.tenant_id = decayed_paths.tenant_id
        and markov_credits.conversion_id = decayed_paths.conversion_id
        and markov_credits.touchpoint_id = decayed_paths.touchpoint_id
)

select
    tenant_id,
    conversion_id,
    touchpoint_id,
    model,
    credit,
    credit * revenue as credited_revenue,
    revenue,
    campaign_id,
    placement_id,
    show_id,
    episode_id,
    household_id,
    touch_ts,
    conversion_ts,
    touch_index,
    touch_count,
    path_transform,
    is_observed,
    cast({{ settings.lookback_days }} as {{ type_double() }}) as lookback_days,
    cast({{ settings.half_life_days }} as {{ type_double() }}) as half_life_days,
    cast({{ settings.position_first_weight }} as {{ type_double() }}) as position_first_weight,
    cast({{ settings.position_last_weight }} as {{ type_double() }}) as position_last_weight
from credits
-- First and last touch keep only the credited touch (see their macros).
where credit <> 0 or model not in ('first_touch', 'last_touch')
