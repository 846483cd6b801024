-- fct_impressions adds up to int_ad_impressions: per tenant and campaign its impressions equal
-- the impression rows, and every row splits its impressions into household-IP and other
-- impressions with no remainder. Catches fan-out in its join to int_households and rows lost
-- to its grouping (a null key column, a missing household).

with

source_counts as (
    select
        tenant_id,
        campaign_id,
        count(*) as impressions
    from {{ ref('int_ad_impressions') }}
    where {{ tenant_filter('tenant_id') }}
    group by tenant_id, campaign_id
),

mart_counts as (
    select
        tenant_id,
        campaign_id,
        sum(impressions) as impressions
    from {{ ref('fct_impressions') }}
    where {{ tenant_filter('tenant_id') }}
    group by tenant_id, campaign_id
),

totals_differ as (
    select
        coalesce(source_counts.tenant_id, mart_counts.tenant_id) as tenant_id,
        coalesce(source_counts.campaign_id, mart_counts.campaign_id) as campaign_id,
        'impressions differ from int_ad_impressions' as problem,
        coalesce(source_counts.impressions, 0) as expected,
        coalesce(mart_counts.impressions, 0) as actual
    from source_counts
    full outer join mart_counts
        on source_counts.tenant_id = mart_counts.tenant_id
        and source_counts.campaign_id = mart_counts.campaign_id
    where coalesce(source_counts.impressions, 0) <> coalesce(mart_counts.impressions, 0)
),

split_differs as (
    select
        tenant_id,
        campaign_id,
        'household_ip_impressions + other_ip_impressions <> impressions' as problem,
        impressions as expected,
        household_ip_impressions + other_ip_impressions as actual
    from {{ ref('fct_impressions') }}
    where {{ tenant_filter('tenant_id') }}
        and household_ip_impressions + other_ip_impressions <> impressions
)

select * from totals_differ
union all
select * from split_differs
