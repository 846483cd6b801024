-- The value iteration ran long enough: after var('markov_iterations') steps the probability of
-- a walk still moving between campaigns, an upper bound on the error of P(conversion), is below
-- 1e-6. Warns: the credits are still usable, but a tenant whose journeys cycle between
-- campaigns for long needs more steps (raise markov_iterations).
{{ config(severity='warn') }}

select distinct
    tenant_id,
    unabsorbed_probability,
    iterations
from {{ ref('int_markov_removal_effects') }}
where {{ tenant_filter('tenant_id') }}
    and unabsorbed_probability > 1e-6
