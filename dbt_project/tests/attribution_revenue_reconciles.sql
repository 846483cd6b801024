-- Per tenant, model and observed/modelled: the credited revenue adds up to the revenue of the
-- conversions that were attributed (those with a path), taken from int_conversions itself
-- (tolerance 0.01). Catches lost or duplicated credit rows and a conversion split between
-- observed and modelled.

with

attributed as (
    select
        tenant_id,
        conversion_id,
        min(case when ip_class = 'household' then 1 else 0 end) = 1 as is_observed
    from {{ ref('int_conversion_paths') }}
    where {{ tenant_filter('tenant_id') }}
    group by tenant_id, conversion_id
),

conversions as (
    select
        tenant_id,
        conversion_id,
        revenue
    from {{ ref('int_conversions') }}
    where {{ tenant_filter('tenant_id') }}
),

models as (
    {{ attribution_model_rows() }}
),

expected as (
    select
        attributed.tenant_id,
        attributed.is_observed,
        sum(coalesce(conversions.revenue, 0)) as revenue
    from attributed
    inner join conversions
        on conversions.tenant_id = attributed.tenant_id
        and conversions.conversion_id = attributed.conversion_id
    group by attributed.tenant_id, attributed.is_observed
),

credited as (
    select
        tenant_id,
        model,
        is_observed,
        sum(coalesce(credited_revenue, 0)) as revenue
    from {{ ref('fct_attribution_credits') }}
    where {{ tenant_filter('tenant_id') }}
    group by tenant_id, model, is_observed
),

expected_per_model as (
    select
        expected.tenant_id,
        models.model,
        expected.is_observed,
        expected.revenue
    from expected
    cross join models
),

compared as (
    select
        coalesce(expected_per_model.tenant_id, credited.tenant_id) as tenant_id,
        coalesce(expected_per_model.model, credited.model) as model,
        coalesce(expected_per_model.is_observed, credited.is_observed) as is_observed,
        coalesce(expected_per_model.revenue, 0) as attributed_conversion_revenue,
        coalesce(credited.revenue, 0) as credited_revenue
    from expected_per_model
    full outer join credited
        on credited.tenant_id = expected_per_model.tenant_id
        and credited.model = expected_per_model.model
        and credited.is_observed = expected_per_model.is_observed
)

select *
from compared
where abs(attributed_conversion_revenue - credited_revenue) > 0.01
