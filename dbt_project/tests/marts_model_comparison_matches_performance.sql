-- rpt_attribution_model_comparison and fct_campaign_performance tell the same story: per
-- campaign, each model's conversions and revenue summed over shows equal the campaign's observed
-- figures for that model, and so do impressions.

with

comparison as (
    select *
    from {{ ref('rpt_attribution_model_comparison') }}
    where {{ tenant_filter('tenant_id') }}
),

performance as (
    select *
    from {{ ref('fct_campaign_performance') }}
    where {{ tenant_filter('tenant_id') }}
),

comparison_per_model as (
    {%- for name in attribution_model_names() %}
    select
        tenant_id,
        campaign_id,
        '{{ name }}' as model,
        sum(impressions) as impressions,
        sum({{ name }}_conversions) as conversions,
        sum({{ name }}_revenue) as revenue
    from comparison
    group by tenant_id, campaign_id
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    performance.tenant_id,
    performance.campaign_id,
    performance.model,
    performance.impressions as performance_impressions,
    comparison_per_model.impressions as comparison_impressions,
    performance.conversions as performance_conversions,
    comparison_per_model.conversions as comparison_conversions,
    performance.revenue as performance_revenue,
    comparison_per_model.revenue as comparison_revenue
from performance
left join comparison_per_model
    on comparison_per_model.tenant_id = performance.tenant_id
    and comparison_per_model.campaign_id = performance.campaign_id
    and comparison_per_model.model = performance.model
where coalesce(comparison_per_model.impressions, 0) <> performance.impressions
    or abs(coalesce(comparison_per_model.conversions, 0) - performance.conversions) > 1e-6
    or abs(coalesce(comparison_per_model.revenue, 0) - performance.revenue) > 0.01
