{#- Removal effect of every campaign state of the Markov chain (int_markov_transitions).

    P(conversion) is the probability that a walk from '#start' is absorbed in '#conversion'.
    Removing a campaign sends every transition into it to '#null'; its removal effect is
    1 - P(conversion without it) / P(conversion).

    The absorption probabilities come from value iteration: v_0 = 0 for every transient state
    (1 for '#conversion'), v_k+1(s) = sum over t of p(s, t) * v_k(t). v_k(start) is the
    probability of converting within k steps, so it rises to P(conversion) and the error after
    N = var('markov_iterations') steps is at most the probability of not being absorbed within
    N steps, which is computed beside it (the same iteration for '#null') and reported as
    unabsorbed_probability. A campaign's self-loop (a repeat c -> c) is folded first: with
    self-loop probability q, s leaves to t with p(s, t) / (1 - q) - the same absorption
    probabilities without the slow geometric tail a run of repeats would otherwise need.
    PostgreSQL refuses aggregates in recursive CTEs, so the N steps are unrolled by Jinja, every
    scenario (no removal, then each campaign removed) in one pass. -#}
{%- set iterations = markov_iterations() %}

with

transitions as (
    select
        tenant_id,
        from_state,
        to_state,
        probability
    from {{ ref('int_markov_transitions') }}
    where {{ tenant_filter('tenant_id') }}
),

self_loops as (
    select
        tenant_id,
        from_state,
        probability as self_probability
    from transitions
    where from_state = to_state
),

edges as (
    -- Every state that has a self-loop also leaves it (each journey ends), so q < 1.
    select
        transitions.tenant_id,
        transitions.from_state,
        transitions.to_state,
        transitions.probability
            / (1 - coalesce(self_loops.self_probability, 0)) as probability
    from transitions
    left join self_loops
        on self_loops.tenant_id = transitions.tenant_id
        and self_loops.from_state = transitions.from_state
    where transitions.from_state <> transitions.to_state
),

scenarios as (
    select distinct
        tenant_id,
        from_state as scenario
    from transitions
    where from_state <> '#start'

    union all

    select distinct
        tenant_id,
        '#none' as scenario
    from transitions
),

scenario_edges as (
    -- In the scenario that removes a state, transitions into it go to '#null' and it has none.
    select
        scenarios.tenant_id,
        scenarios.scenario,
        edges.from_state,
        case when edges.to_state = scenarios.scenario then '#null' else edges.to_state end
            as to_state,
        edges.probability
    from scenarios
    inner join edges
        on edges.tenant_id = scenarios.tenant_id
        and edges.from_state <> scenarios.scenario
),

absorbing as (
    select
        tenant_id,
        scenario,
        '#conversion' as state,
        cast(1 as {{ type_double() }}) as p_conversion,
        cast(0 as {{ type_double() }}) as p_null
    from scenarios

    union all

    select
        tenant_id,
        scenario,
        '#null' as state,
        cast(0 as {{ type_double() }}) as p_conversion,
        cast(1 as {{ type_double() }}) as p_null
    from scenarios
),

step_0 as (
    select * from absorbing
),
{%- for k in range(1, iterations + 1) %}

step_{{ k }} as (
    select
        scenario_edges.tenant_id,
        scenario_edges.scenario,
        scenario_edges.from_state as state,
        sum(scenario_edges.probability * coalesce(previous.p_conversion, 0)) as p_conversion,
        sum(scenario_edges.probability * coalesce(previous.p_null, 0)) as p_null
    from scenario_edges
    left join step_{{ k - 1 }} as previous
        on previous.tenant_id = scenario_edges.tenant_id
        and previous.scenario = scenario_edges.scenario
        and previous.state = scenario_edges.to_state
    group by scenario_edges.tenant_id, scenario_edges.scenario, scenario_edges.from_state

    union all

    select * from absorbing
),
{%- endfor %}

from_start as (
    select
        tenant_id,
        scenario,
        p_conversion,
        p_null
    from step_{{ iterations }}
    where state = '#start'
),

baseline as (
    select
        tenant_id,
        p_conversion as conversion_probability,
        1 - p_conversion - p_null as unabsorbed_probability
    from from_start
    where scenario = '#none'
),

removed as (
    -- A campaign whose removal leaves no way to convert has no row from '#start' at all.
    select
        scenarios.tenant_id,
        scenarios.scenario as state,
        coalesce(from_start.p_conversion, 0) as conversion_probability_without
    from scenarios
    left join from_start
        on from_start.tenant_id = scenarios.tenant_id
        and from_start.scenario = scenarios.scenario
    where scenarios.scenario <> '#none'
)

select
    removed.tenant_id,
    removed.state,
    case
        when removed.state like 'campaign:%'
            then {{ dbt.right('removed.state', dbt.length('removed.state') ~ ' - 9') }}
    end as campaign_id,
    cast(baseline.conversion_probability as {{ type_double() }}) as conversion_probability,
    cast(removed.conversion_probability_without as {{ type_double() }})
        as conversion_probability_without,
    cast(
        case
            when baseline.conversion_probability > 0
                -- Removing a state can only lower P(conversion); the clamp absorbs rounding.
                then greatest(0, least(1,
                    1 - removed.conversion_probability_without / baseline.conversion_probability))
        end
        as {{ type_double() }}
    ) as removal_effect,
    cast(greatest(0, baseline.unabsorbed_probability) as {{ type_double() }})
        as unabsorbed_probability,
    {{ iterations }} as iterations
from removed
inner join baseline
    on baseline.tenant_id = removed.tenant_id
