-- For every converting path and every model the credits sum to 1 (tolerance 1e-9). A model
-- missing for a conversion sums to 0 and fails; so do credits for a conversion without a path.

with

paths as (
    select distinct
        tenant_id,
        conversion_id
    from {{ ref('int_conversion_paths') }}
    where {{ tenant_filter('tenant_id') }}
),

models as (
    {{ attribution_model_rows() }}
),

credit_sums as (
    select
        tenant_id,
        conversion_id,
        model,
        sum(credit) as credit_sum
    from {{ ref('fct_attribution_credits') }}
    where {{ tenant_filter('tenant_id') }}
    group by tenant_id, conversion_id, model
),

expected as (
    select
        paths.tenant_id,
        paths.conversion_id,
        models.model,
        coalesce(credit_sums.credit_sum, 0) as credit_sum,
        'credits do not sum to 1' as problem
    from paths
    cross join models
    left join credit_sums
        on credit_sums.tenant_id = paths.tenant_id
        and credit_sums.conversion_id = paths.conversion_id
        and credit_sums.model = models.model
),

orphans as (
    select
        credit_sums.tenant_id,
        credit_sums.conversion_id,
        credit_sums.model,
        credit_sums.credit_sum,
        'credits for a conversion without a path' as problem
    from credit_sums
    left join paths
        on paths.tenant_id = credit_sums.tenant_id
        and paths.conversion_id = credit_sums.conversion_id
    where paths.conversion_id is null
)

select * from expected
where abs(credit_sum - 1) > 1e-9

union all

select * from orphans
