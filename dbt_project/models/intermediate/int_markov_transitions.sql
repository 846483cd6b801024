{#- First-order Markov chain over campaigns: every transition between states counted over the
    converting paths (int_conversion_paths, ending in '#conversion') and the non-converting
    journeys (int_non_converting_journeys, ending in '#null'), both after the path transform.
    A journey of touches c1 .. ck adds '#start' -> c1, c_i -> c_i+1 (a repeat adds c -> c) and
    ck -> its end. probability = transitions / all transitions out of from_state. States:
    macros/attribution/markov.sql. -#}

with

paths as (
    select
        tenant_id,
        conversion_id,
        campaign_id,
        touch_index,
        touch_count
    from {{ ref('int_conversion_paths') }}
    where {{ tenant_filter('tenant_id') }}
),

journeys as (
    select
        tenant_id,
        household_id,
        campaign_id,
        touch_index,
        touch_count
    from {{ ref('int_non_converting_journeys') }}
    where {{ tenant_filter('tenant_id') }}
),

steps as (
    select
        tenant_id,
        {{ dbt.concat(["'conversion:'", 'conversion_id']) }} as journey_id,
        campaign_id,
        touch_index,
        touch_count,
        '#conversion' as end_state
    from paths

    union all

    select
        tenant_id,
        {{ dbt.concat(["'household:'", 'household_id']) }} as journey_id,
        campaign_id,
        touch_index,
        touch_count,
        '#null' as end_state
    from journeys
),

stated as (
    select
        steps.*,
        {{ markov_state('campaign_id') }} as state
    from steps
),

moves as (
    -- Into each touch from the previous one ('#start' for the first) ...
    select
        tenant_id,
        coalesce(
            lag(state) over (partition by tenant_id, journey_id order by touch_index),
            '#start'
        ) as from_state,
        state as to_state
    from stated

    union all

    -- ... and out of the last touch to the journey's end.
    select
        tenant_id,
        state as from_state,
        end_state as to_state
    from stated
    where touch_index = touch_count
),

counted as (
    select
        tenant_id,
        from_state,
        to_state,
        cast(count(*) as {{ dbt.type_bigint() }}) as transitions
    from moves
    group by tenant_id, from_state, to_state
),

with_totals as (
    select
        counted.*,
        cast(sum(transitions) over (partition by tenant_id, from_state) as {{ dbt.type_bigint() }})
            as from_state_transitions
    from counted
)

select
    tenant_id,
    from_state,
    to_state,
    transitions,
    from_state_transitions,
    cast(transitions as {{ type_double() }}) / cast(from_state_transitions as {{ type_double() }})
        as probability
from with_totals
