{#- Markov credit of every touch of every converting path: the path's campaigns share the
    conversion in proportion to their removal effects (int_markov_removal_effects), and a
    campaign's share is split equally between its touches on the path (the removal effect
    belongs to the campaign; repeating it does not make it more necessary). The credits of a
    path sum to 1. Should every campaign of a path have removal effect 0 (it cannot in exact
    arithmetic: each one lies on this converting path), the path is shared linearly. -#}

with

paths as (
    select
        tenant_id,
        conversion_id,
        touchpoint_id,
        campaign_id,
        touch_count
    from {{ ref('int_conversion_paths') }}
    where {{ tenant_filter('tenant_id') }}
),

removal_effects as (
    select
        tenant_id,
        state,
        removal_effect
    from {{ ref('int_markov_removal_effects') }}
    where {{ tenant_filter('tenant_id') }}
),

touch_effects as (
    select
        paths.*,
        coalesce(removal_effects.removal_effect, 0) as removal_effect,
        count(*) over (
            partition by paths.tenant_id, paths.conversion_id, {{ markov_state('paths.campaign_id') }}
        ) as campaign_touches
    from paths
    left join removal_effects
        on removal_effects.tenant_id = paths.tenant_id
        and removal_effects.state = {{ markov_state('paths.campaign_id') }}
),

shared as (
    -- Each campaign's touches add up to its removal effect, so this is the sum over the
    -- path's distinct campaigns.
    select
        touch_effects.*,
        sum(removal_effect / cast(campaign_touches as {{ type_double() }})) over (
            partition by tenant_id, conversion_id
        ) as path_removal_effect
    from touch_effects
)

select
    tenant_id,
    conversion_id,
    touchpoint_id,
    campaign_id,
    cast(removal_effect as {{ type_double() }}) as removal_effect,
    cast(
        case
            when path_removal_effect > 0
                then removal_effect / cast(campaign_touches as {{ type_double() }})
                    / path_removal_effect
            else cast(1 as {{ type_double() }}) / cast(touch_count as {{ type_double() }})
        end
        as {{ type_double() }}
    ) as credit
from shared
