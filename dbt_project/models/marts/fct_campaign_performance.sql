{#- One row per campaign and attribution model, for every campaign of stg_files__campaigns
    (a campaign without impressions or conversions gets zeros, not a missing row). The headline
    conversions and revenue are observed (household IPs); modelled results have their own
    columns and never enter cac or roas. usable_ip_share is the share of impressions delivered to
    household-class networks (the final class of int_households), the ones observed results can
    come from; campaigns below var low_usable_ip_share_threshold are flagged. -#}
{%- set low_share = var('low_usable_ip_share_threshold') | float %}

with

campaigns as (
    select
        tenant_id,
        campaign_id
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}
),

placements as (
    select
        tenant_id,
        campaign_id,
        cost
    from {{ ref('stg_files__placements') }}
    where {{ tenant_filter('tenant_id') }}
),

impressions as (
    select
        tenant_id,
        campaign_id,
        household_id
    from {{ ref('int_ad_impressions') }}
    where {{ tenant_filter('tenant_id') }}
),

households as (
    select
        tenant_id,
        household_id,
        ip_class
    from {{ ref('int_households') }}
    where {{ tenant_filter('tenant_id') }}
),

exclusions as (
    select
        tenant_id,
        campaign_id,
        conversion_id
    from {{ ref('int_prior_customer_exclusions') }}
    where {{ tenant_filter('tenant_id') }}
        and is_excluded
),

credits as (
    select
        tenant_id,
        campaign_id,
        model,
        credit,
        credited_revenue,
        is_observed
    from {{ ref('fct_attribution_credits') }}
    where {{ tenant_filter('tenant_id') }}
),

models as (
    {{ attribution_model_rows() }}
),

spend_per_campaign as (
    select
        tenant_id,
        campaign_id,
        sum(cost) as spend
    from placements
    group by tenant_id, campaign_id
),

impressions_per_campaign as (
    select
        impressions.tenant_id,
        impressions.campaign_id,
        count(*) as impressions,
        count(distinct impressions.household_id) as reach,
        sum(case when households.ip_class = 'household' then 1 else 0 end)
            as household_impressions
    from impressions
    left join households
        on households.tenant_id = impressions.tenant_id
        and households.household_id = impressions.household_id
    group by impressions.tenant_id, impressions.campaign_id
),

exclusions_per_campaign as (
    select
        tenant_id,
        campaign_id,
        count(distinct conversion_id) as excluded_prior_customer_conversions
    from exclusions
    group by tenant_id, campaign_id
),

credits_per_campaign as (
    select
        tenant_id,
        campaign_id,
        model,
        sum(case when is_observed then credit else 0 end) as conversions,
        sum(case when is_observed then credited_revenue else 0 end) as revenue,
        sum(case when is_observed then 0 else credit end) as modelled_conversions,
        sum(case when is_observed then 0 else credited_revenue end) as modelled_revenue
    from credits
    group by tenant_id, campaign_id, model
),

joined as (
    select
        campaigns.tenant_id,
        campaigns.campaign_id,
        models.model,
        coalesce(impressions_per_campaign.impressions, 0) as impressions,
        coalesce(impressions_per_campaign.reach, 0) as reach,
        cast(coalesce(impressions_per_campaign.household_impressions, 0) as {{ dbt.type_bigint() }})
            as household_impressions,
        cast(
            coalesce(exclusions_per_campaign.excluded_prior_customer_conversions, 0)
            as {{ dbt.type_bigint() }}
        ) as excluded_prior_customer_conversions,
        cast(coalesce(credits_per_campaign.conversions, 0) as {{ type_double() }})
            as conversions,
        cast(coalesce(credits_per_campaign.revenue, 0) as {{ type_double() }}) as revenue,
        cast(coalesce(credits_per_campaign.modelled_conversions, 0) as {{ type_double() }})
            as modelled_conversions,
        cast(coalesce(credits_per_campaign.modelled_revenue, 0) as {{ type_double() }})
            as modelled_revenue,
        cast(coalesce(spend_per_campaign.spend, 0) as {{ type_double() }}) as spend
    from campaigns
    cross join models
    left join spend_per_campaign
        on spend_per_campaign.tenant_id = campaigns.tenant_id
        and spend_per_campaign.campaign_id = campaigns.campaign_id
    left join impressions_per_campaign
        on impressions_per_campaign.tenant_id = campaigns.tenant_id
        and impressions_per_campaign.campaign_id = campaigns.campaign_id
    left join exclusions_per_campaign
        on exclusions_per_campaign.tenant_id = campaigns.tenant_id
        and exclusions_per_campaign.campaign_id = campaigns.campaign_id
    left join credits_per_campaign
        on credits_per_campaign.tenant_id = campaigns.tenant_id
        and credits_per_campaign.campaign_id = campaigns.campaign_id
        and credits_per_campaign.model = models.model
),

shares as (
    select
        joined.*,
        case
            when impressions = 0 then null
            else cast(household_impressions as {{ type_double() }})
                / cast(impressions as {{ type_double() }})
        end as usable_ip_share
    from joined
)

select
    tenant_id,
    campaign_id,
    model,
    impressions,
    reach,
    conversions,
    revenue,
    modelled_conversions,
    modelled_revenue,
    spend,
    case when conversions = 0 then null else spend / conversions end as cac,
    case when spend = 0 then null else revenue / spend end as roas,
    household_impressions,
    usable_ip_share,
    -- A campaign without impressions has no share to judge: not flagged.
    coalesce(usable_ip_share < {{ low_share }}, false) as low_usable_ip_share,
    excluded_prior_customer_conversions
from shares
