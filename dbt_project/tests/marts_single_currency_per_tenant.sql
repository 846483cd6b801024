-- Revenue and spend are summed as numbers, so roas and cac assume a tenant's attributed
-- conversions and its campaigns share one currency. Warns with the tenants where they do not.
{{ config(severity='warn') }}

with

attributed_conversions as (
    select distinct
        tenant_id,
        conversion_id
    from {{ ref('int_conversion_paths') }}
    where {{ tenant_filter('tenant_id') }}
),

currencies as (
    select
        conversions.tenant_id,
        conversions.currency
    from {{ ref('int_conversions') }} as conversions
    inner join attributed_conversions
        on attributed_conversions.tenant_id = conversions.tenant_id
        and attributed_conversions.conversion_id = conversions.conversion_id
    where conversions.currency is not null and conversions.revenue is not null

    union

    select
        tenant_id,
        currency
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}
        and currency is not null
)

select
    tenant_id,
    count(*) as currencies
from currencies
group by tenant_id
having count(*) > 1
