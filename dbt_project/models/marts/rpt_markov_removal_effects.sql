{#- The Markov model per tenant and campaign state: how often the chain passes through the
    campaign (transition counts), P(conversion) with and without it and its removal effect, with
    the share of the tenant's total removal effect (how the model would split all conversions
    between campaigns). Semantics: docs/user/attribution.md, "The sixth model: markov". -#}

with

removal_effects as (
    select
        tenant_id,
        state,
        campaign_id,
        conversion_probability,
        conversion_probability_without,
        removal_effect,
        unabsorbed_probability,
        iterations
    from {{ ref('int_markov_removal_effects') }}
    where {{ tenant_filter('tenant_id') }}
),

transitions as (
    select
        tenant_id,
        from_state,
        to_state,
        transitions
    from {{ ref('int_markov_transitions') }}
    where {{ tenant_filter('tenant_id') }}
),

campaigns as (
    select
        tenant_id,
        campaign_id,
        campaign_name
    from {{ ref('dim_campaigns') }}
    where {{ tenant_filter('tenant_id') }}
),

outgoing as (
    select
        tenant_id,
        from_state as state,
        sum(transitions) as transitions_out,
        sum(case when to_state = '#conversion' then transitions else 0 end)
            as transitions_to_conversion,
        sum(case when to_state = '#null' then transitions else 0 end) as transitions_to_null,
        sum(case when to_state = from_state then transitions else 0 end) as repeat_transitions
    from transitions
    group by tenant_id, from_state
),

incoming as (
    select
        tenant_id,
        to_state as state,
        sum(case when from_state = '#start' then transitions else 0 end) as journeys_started,
        sum(transitions) as transitions_in
    from transitions
    group by tenant_id, to_state
),

totals as (
    select
        tenant_id,
        sum(removal_effect) as total_removal_effect
    from removal_effects
    group by tenant_id
)

select
    removal_effects.tenant_id,
    removal_effects.campaign_id,
    campaigns.campaign_name,
    removal_effects.state,
    cast(coalesce(incoming.journeys_started, 0) as {{ dbt.type_bigint() }}) as journeys_started,
    cast(coalesce(incoming.transitions_in, 0) as {{ dbt.type_bigint() }}) as transitions_in,
    cast(coalesce(outgoing.transitions_out, 0) as {{ dbt.type_bigint() }}) as transitions_out,
    cast(coalesce(outgoing.transitions_to_conversion, 0) as {{ dbt.type_bigint() }})
        as transitions_to_conversion,
    cast(coalesce(outgoing.transitions_to_null, 0) as {{ dbt.type_bigint() }})
        as transitions_to_null,
    cast(coalesce(outgoing.repeat_transitions, 0) as {{ dbt.type_bigint() }})
        as repeat_transitions,
    removal_effects.conversion_probability,
    removal_effects.conversion_probability_without,
    removal_effects.removal_effect,
    cast(
        case
            when totals.total_removal_effect > 0
                then removal_effects.removal_effect / totals.total_removal_effect
        end
        as {{ type_double() }}
    ) as removal_effect_share,
    removal_effects.unabsorbed_probability,
    removal_effects.iterations
from removal_effects
inner join totals
    on totals.tenant_id = removal_effects.tenant_id
left join incoming
    on incoming.tenant_id = removal_effects.tenant_id
    and incoming.state = removal_effects.state
left join outgoing
    on outgoing.tenant_id = removal_effects.tenant_id
    and outgoing.state = removal_effects.state
left join campaigns
    on campaigns.tenant_id = removal_effects.tenant_id
    and campaigns.campaign_id = removal_effects.campaign_id
