{#- Prior customers (docs/user/attribution.md): one row per (conversion, campaign) where the
    converting household had already ordered before the campaign's start date and a touch of the
    campaign lies in the conversion's lookback window (the touches int_conversion_paths would
    otherwise keep). `is_excluded` is var exclude_prior_customers (a tenant setting, off by
    default): when true int_conversion_paths drops those touches, so the campaign takes no credit
    for a customer it did not win, and fct_campaign_performance counts the conversions. A
    campaign without a start date has no "before" and excludes nothing. -#}
{%- set exclude = var('exclude_prior_customers', false) -%}
{%- if exclude is string -%}
    {%- set exclude = exclude | lower in ('true', '1', 'yes') -%}
{%- endif %}

with

conversions as (
    select
        tenant_id,
        conversion_id,
        conversion_type,
        household_id,
        conversion_ts
    from {{ ref('int_conversions') }}
    where {{ tenant_filter('tenant_id') }}
        and household_id is not null
        and conversion_ts is not null
),

first_orders as (
    select
        tenant_id,
        household_id,
        min(conversion_ts) as first_order_ts
    from conversions
    where conversion_type = 'order'
    group by tenant_id, household_id
),

campaigns as (
    select
        tenant_id,
        campaign_id,
        cast(start_date as {{ dbt.type_timestamp() }}) as campaign_start_ts
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}
        and start_date is not null
),

touchpoints as (
    select
        tenant_id,
        household_id,
        campaign_id,
        touch_ts
    from {{ ref('int_touchpoints') }}
    where {{ tenant_filter('tenant_id') }}
        and household_id is not null
        and touch_ts is not null
),

prior_customer_conversions as (
    -- The same window as int_conversion_paths: at or before the conversion, at most
    -- lookback_days before it.
    select distinct
        conversions.tenant_id,
        conversions.conversion_id,
        touchpoints.campaign_id,
        conversions.household_id,
        first_orders.first_order_ts,
        campaigns.campaign_start_ts
    from conversions
    inner join first_orders
        on first_orders.tenant_id = conversions.tenant_id
        and first_orders.household_id = conversions.household_id
    inner join touchpoints
        on {{ touch_in_lookback_window('touchpoints', 'conversions') }}
    inner join campaigns
        on campaigns.tenant_id = touchpoints.tenant_id
        and campaigns.campaign_id = touchpoints.campaign_id
    where first_orders.first_order_ts < campaigns.campaign_start_ts
)

select
    tenant_id,
    conversion_id,
    campaign_id,
    household_id,
    first_order_ts,
    campaign_start_ts,
    {{ 'true' if exclude else 'false' }} as is_excluded
from prior_customer_conversions
