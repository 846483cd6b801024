{#- Performance by placement position, read type and insertion type (docs/user/marts.md): one
    row per tenant, campaign, position, read type, insertion type and attribution model. The
    models are those present in the tenant's fct_attribution_credits (read from the data, so a
    new model appears without a change here); a tenant without any credit gets one row per
    group with a null model, so its delivery and cost still show.

    Delivery and cost are the same on every model row of a group: placements and their cost
    (stg_files__placements), downloads_in_flight (valid downloads of the placements' episodes
    inside the campaign's flight, one per download and placement: the chances to deliver the
    ads), impressions (int_ad_impressions) and the distinct households they reached.
    Conversions and revenue are observed credits (household IPs) of touches on the group's
    placements; modelled credits are never added in, and touches without a placement (codes,
    vanity URLs) belong to no group. -#}

with

placements as (

    select
        tenant_id,
        placement_id,
        campaign_id,
        episode_id,
        position,
        read_type,
        insertion_type,
        cost
    from {{ ref('stg_files__placements') }}
    where {{ tenant_filter('tenant_id') }}

),

campaigns as (

    select
        tenant_id,
        campaign_id,
        start_date,
        end_date
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}

),

downloads as (

    select
        tenant_id,
        episode_id,
        download_date
    from {{ ref('int_downloads') }}
    where {{ tenant_filter('tenant_id') }}

),

impressions as (

    select
        tenant_id,
        placement_id,
        household_id
    from {{ ref('int_ad_impressions') }}
    where {{ tenant_filter('tenant_id') }}

),

credits as (

    select
        tenant_id,
        placement_id,
        model,
        credit,
        credited_revenue,
        is_observed
    from {{ ref('fct_attribution_credits') }}
    where {{ tenant_filter('tenant_id') }}

),

placement_groups as (

    -- The group's columns may be null (an export without insertion types); a hashed key with
    -- null markers lets the measures below join back on one non-null column.
    select
        placements.*,
        {{ hashed_id(['campaign_id', 'position', 'read_type', 'insertion_type']) }} as group_key
    from placements

),

models as (

    select distinct
        tenant_id,
        model
    from credits

),

groups as (

    select
        tenant_id,
        group_key,
        campaign_id,
        position,
        read_type,
        insertion_type,
        count(*) as placements,
        sum(cost) as cost
    from placement_groups
    group by tenant_id, group_key, campaign_id, position, read_type, insertion_type

),

downloads_per_group as (

    -- The same flight rule as int_ad_impressions: UTC download date within the campaign's
    -- flight, both ends inclusive, a missing bound open.
    select
        placement_groups.tenant_id,
        placement_groups.group_key,
        count(*) as downloads_in_flight
    from placement_groups
    inner join campaigns
        on campaigns.tenant_id = placement_groups.tenant_id
        and campaigns.campaign_id = placement_groups.campaign_id
    inner join downloads
        on downloads.tenant_id = placement_groups.tenant_id
        and downloads.episode_id = placement_groups.episode_id
    where {{ in_campaign_flight('downloads.download_date', 'campaigns') }}
    group by placement_groups.tenant_id, placement_groups.group_key

),

impressions_per_group as (

    select
        placement_groups.tenant_id,
        placement_groups.group_key,
        count(*) as impressions,
        count(distinct impressions.household_id) as households_reached
    from impressions
    inner join placement_groups
        on placement_groups.tenant_id = impressions.tenant_id
        and placement_groups.placement_id = impressions.placement_id
    group by placement_groups.tenant_id, placement_groups.group_key

),

credits_per_group as (

    select
        placement_groups.tenant_id,
        placement_groups.group_key,
        credits.model,
        sum(credits.credit) as conversions,
        sum(credits.credited_revenue) as revenue
    from credits
    inner join placement_groups
        on placement_groups.tenant_id = credits.tenant_id
        and placement_groups.placement_id = credits.placement_id
    where credits.is_observed
    group by placement_groups.tenant_id, placement_groups.group_key, credits.model

),

joined as (

    select
        groups.tenant_id,
        groups.campaign_id,
        groups.position,
        groups.read_type,
        groups.insertion_type,
        models.model,
        cast(groups.placements as {{ dbt.type_bigint() }}) as placements,
        cast(coalesce(groups.cost, 0) as {{ type_double() }}) as cost,
        cast(coalesce(downloads_per_group.downloads_in_flight, 0) as {{ dbt.type_bigint() }})
            as downloads_in_flight,
        cast(coalesce(impressions_per_group.impressions, 0) as {{ dbt.type_bigint() }})
            as impressions,
        cast(coalesce(impressions_per_group.households_reached, 0) as {{ dbt.type_bigint() }})
            as households_reached,
        cast(coalesce(credits_per_group.conversions, 0) as {{ type_double() }}) as conversions,
        cast(coalesce(credits_per_group.revenue, 0) as {{ type_double() }}) as revenue

    from groups
    left join models
        on models.tenant_id = groups.tenant_id
    left join downloads_per_group
        on downloads_per_group.tenant_id = groups.tenant_id
        and downloads_per_group.group_key = groups.group_key
    left join impressions_per_group
        on impressions_per_group.tenant_id = groups.tenant_id
        and impressions_per_group.group_key = groups.group_key
    left join credits_per_group
        on credits_per_group.tenant_id = groups.tenant_id
        and credits_per_group.group_key = groups.group_key
        and credits_per_group.model = models.model

),

final as (

    select
        tenant_id,
        campaign_id,
        position,
        read_type,
        insertion_type,
        model,
        placements,
        cost,
        downloads_in_flight,
        impressions,
        case
            when downloads_in_flight = 0 then null
            else cast(impressions as {{ type_double() }})
                / cast(downloads_in_flight as {{ type_double() }})
        end as delivery_rate,
        households_reached,
        conversions,
        revenue,
        case when cost = 0 then null else revenue / cost end as roas,
        case when conversions = 0 then null else cost / conversions end as cost_per_conversion

    from joined

)

select * from final
