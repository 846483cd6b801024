-- A credit is a share of one conversion: never null, negative or above 1.

select
    tenant_id,
    conversion_id,
    touchpoint_id,
    model,
    credit
from {{ ref('fct_attribution_credits') }}
where {{ tenant_filter('tenant_id') }}
    and (credit is null or credit < 0 or credit > 1)
