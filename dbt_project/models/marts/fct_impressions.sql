{#- Ad impressions per day, for BI users (docs/user/marts.md, docs/user/counting.md
    "Impressions"): one row per tenant, campaign, placement, show, episode, UTC day of the
    impression and counting window, with the impressions counted that day (int_ad_impressions),
    the distinct households they reached, and how many came from household IPs (observed) and
    from other networks (cellular, commercial, data-centre, relay: modelled). The placement's
    position, read type and insertion type ride along; they are one per placement, so they do
    not split a row. -#}

with

impressions as (

    select * from {{ ref('int_ad_impressions') }}
    where {{ tenant_filter('tenant_id') }}

),

households as (

    select * from {{ ref('int_households') }}
    where {{ tenant_filter('tenant_id') }}

),

classified as (

    select
        impressions.tenant_id,
        impressions.campaign_id,
        impressions.placement_id,
        impressions.show_id,
        impressions.episode_id,
        cast(impressions.impressed_at as date) as impression_date,
        impressions.count_window,
        impressions.position,
        impressions.read_type,
        impressions.insertion_type,
        impressions.household_id,
        -- The household's class (int_households, one per household); the download's own class
        -- is the same network's and stands in should the household be missing.
        coalesce(households.ip_class, impressions.ip_class) as ip_class

    from impressions
    left join households
        on impressions.tenant_id = households.tenant_id
        and impressions.household_id = households.household_id

),

final as (

    select
        tenant_id,
        campaign_id,
        placement_id,
        show_id,
        episode_id,
        impression_date,
        count_window,
        position,
        read_type,
        insertion_type,
        cast(count(*) as {{ dbt.type_bigint() }}) as impressions,
        cast(count(distinct household_id) as {{ dbt.type_bigint() }}) as households_reached,
        cast(
            sum(case when ip_class = 'household' then 1 else 0 end) as {{ dbt.type_bigint() }}
        ) as household_ip_impressions,
        cast(
            sum(case when ip_class = 'household' then 0 else 1 end) as {{ dbt.type_bigint() }}
        ) as other_ip_impressions

    from classified
    group by
        tenant_id,
        campaign_id,
        placement_id,
        show_id,
        episode_id,
        impression_date,
        count_window,
        position,
        read_type,
        insertion_type

)

select * from final
