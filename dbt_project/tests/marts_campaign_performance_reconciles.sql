-- fct_campaign_performance has a row per campaign and model, and its totals per tenant and model
-- equal what it summarises: observed and modelled credits of the tenant's campaigns
-- (fct_attribution_credits), impressions (int_ad_impressions) and placement cost.
-- Catches fan-out in its joins and campaigns or models that went missing.

with

campaigns as (
    select distinct
        tenant_id,
        campaign_id
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}
),

models as (
    {{ attribution_model_rows() }}
),

performance as (
    select *
    from {{ ref('fct_campaign_performance') }}
    where {{ tenant_filter('tenant_id') }}
),

missing_rows as (
    select
        campaigns.tenant_id,
        models.model,
        'campaign ' || campaigns.campaign_id || ' has no row' as problem,
        cast(null as {{ type_double() }}) as expected,
        cast(null as {{ type_double() }}) as actual
    from campaigns
    cross join models
    left join performance
        on performance.tenant_id = campaigns.tenant_id
        and performance.campaign_id = campaigns.campaign_id
        and performance.model = models.model
    where performance.campaign_id is null
),

credits as (
    select
        credits.tenant_id,
        credits.model,
        sum(case when credits.is_observed then credits.credit else 0 end) as conversions,
        sum(case when credits.is_observed then coalesce(credits.credited_revenue, 0) else 0 end)
            as revenue,
        sum(case when credits.is_observed then 0 else credits.credit end) as modelled_conversions,
        sum(case when credits.is_observed then 0 else coalesce(credits.credited_revenue, 0) end)
            as modelled_revenue
    from {{ ref('fct_attribution_credits') }} as credits
    inner join campaigns
        on campaigns.tenant_id = credits.tenant_id
        and campaigns.campaign_id = credits.campaign_id
    where {{ tenant_filter('credits.tenant_id') }}
    group by credits.tenant_id, credits.model
),

impressions as (
    select
        impressions.tenant_id,
        count(*) as impressions
    from {{ ref('int_ad_impressions') }} as impressions
    inner join campaigns
        on campaigns.tenant_id = impressions.tenant_id
        and campaigns.campaign_id = impressions.campaign_id
    where {{ tenant_filter('impressions.tenant_id') }}
    group by impressions.tenant_id
),

spend as (
    select
        placements.tenant_id,
        sum(placements.cost) as spend
    from {{ ref('stg_files__placements') }} as placements
    inner join campaigns
        on campaigns.tenant_id = placements.tenant_id
        and campaigns.campaign_id = placements.campaign_id
    where {{ tenant_filter('placements.tenant_id') }}
    group by placements.tenant_id
),

totals as (
    select
        tenant_id,
        model,
        sum(conversions) as conversions,
        sum(revenue) as revenue,
        sum(modelled_conversions) as modelled_conversions,
        sum(modelled_revenue) as modelled_revenue,
        sum(impressions) as impressions,
        sum(spend) as spend
    from performance
    group by tenant_id, model
),

compared as (
    {%- set measures = [
        ('conversions', 'credits', 1e-6),
        ('revenue', 'credits', 0.01),
        ('modelled_conversions', 'credits', 1e-6),
        ('modelled_revenue', 'credits', 0.01),
        ('impressions', 'impressions', 0),
        ('spend', 'spend', 0.01),
    ] %}
    {%- for measure, source, tolerance in measures %}
    select
        totals.tenant_id,
        totals.model,
        '{{ measure }} differs from its source' as problem,
        cast(coalesce({{ source }}.{{ measure }}, 0) as {{ type_double() }}) as expected,
        cast(totals.{{ measure }} as {{ type_double() }}) as actual
    from totals
    left join {{ source }}
        on {{ source }}.tenant_id = totals.tenant_id
        {%- if source == 'credits' %}
        and {{ source }}.model = totals.model
        {%- endif %}
    where abs(coalesce({{ source }}.{{ measure }}, 0) - totals.{{ measure }}) > {{ tolerance }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from missing_rows
union all
select * from compared
