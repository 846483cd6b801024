{#- The six attribution models side by side, per tenant, campaign and show: observed conversions
    and revenue credited by each model, next to the impressions delivered. A (campaign, show)
    appears when it delivered an impression or was credited with a conversion. -#}

with

impressions as (
    select
        tenant_id,
        campaign_id,
        show_id
    from {{ ref('int_ad_impressions') }}
    where {{ tenant_filter('tenant_id') }}
),

credits as (
    select
        tenant_id,
        campaign_id,
        show_id,
        model,
        credit,
        credited_revenue
    from {{ ref('fct_attribution_credits') }}
    where {{ tenant_filter('tenant_id') }}
        and is_observed
),

campaigns as (
    select
        tenant_id,
        campaign_id,
        campaign_name,
        advertiser
    from {{ ref('dim_campaigns') }}
    where {{ tenant_filter('tenant_id') }}
),

shows as (
    select
        tenant_id,
        show_id,
        show_name
    from {{ ref('dim_shows') }}
    where {{ tenant_filter('tenant_id') }}
),

-- Impressions and credits are stacked and summed rather than joined: a campaign or show may be
-- missing on one side (or be null on a touch without a show), and a join on it would drop rows.
stacked as (
    select
        tenant_id,
        campaign_id,
        show_id,
        1 as impressions
        {%- for name in attribution_model_names() %},
        cast(0 as {{ type_double() }}) as {{ name }}_conversions,
        cast(0 as {{ type_double() }}) as {{ name }}_revenue
        {%- endfor %}
    from impressions

    union all

    select
        tenant_id,
        campaign_id,
        show_id,
        0 as impressions
        {%- for name in attribution_model_names() %},
        case when model = '{{ name }}' then credit else 0 end as {{ name }}_conversions,
        case when model = '{{ name }}' then coalesce(credited_revenue, 0) else 0 end
            as {{ name }}_revenue
        {%- endfor %}
    from credits
),

compared as (
    select
        tenant_id,
        campaign_id,
        show_id,
        sum(impressions) as impressions
        {%- for name in attribution_model_names() %},
        sum({{ name }}_conversions) as {{ name }}_conversions,
        sum({{ name }}_revenue) as {{ name }}_revenue
        {%- endfor %}
    from stacked
    group by tenant_id, campaign_id, show_id
)

select
    compared.tenant_id,
    compared.campaign_id,
    campaigns.campaign_name,
    campaigns.advertiser,
    compared.show_id,
    shows.show_name,
    compared.impressions
    {%- for name in attribution_model_names() %},
    compared.{{ name }}_conversions,
    compared.{{ name }}_revenue
    {%- endfor %}
from compared
left join campaigns
    on campaigns.tenant_id = compared.tenant_id
    and campaigns.campaign_id = compared.campaign_id
left join shows
    on shows.tenant_id = compared.tenant_id
    and shows.show_id = compared.show_id
