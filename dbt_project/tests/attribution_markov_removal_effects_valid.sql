-- The Markov model's figures are probabilities: P(conversion) in [0, 1], never raised by
-- removing a campaign (the check that would catch a wrong chain: int_markov_removal_effects
-- clamps removal_effect into [0, 1] against rounding, so its bounds prove nothing), and a
-- removal effect wherever P(conversion) is positive. Blocks.

select
    tenant_id,
    state,
    conversion_probability,
    conversion_probability_without,
    removal_effect
from {{ ref('int_markov_removal_effects') }}
where {{ tenant_filter('tenant_id') }}
    and (
        conversion_probability < 0
        or conversion_probability > 1
        or conversion_probability_without < 0
        or conversion_probability_without > conversion_probability + 1e-12
        or (conversion_probability > 0 and removal_effect is null)
    )
