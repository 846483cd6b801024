{#- Every contact of a household with a campaign, one row per touch, one CTE per signal.
    Today the only signal is the podcast impression; promo codes, vanity URL visits, UTM clicks
    and survey mentions are later signals: each becomes one more CTE with these columns, added
    to the union in `touchpoints`. -#}

with

impressions as (

    select * from {{ ref('int_ad_impressions') }}
    where {{ tenant_filter('tenant_id') }}

),

podcast_impressions as (

    select
        tenant_id,
        impression_id as touchpoint_id,
        'podcast_impression' as touch_type,
        household_id,
        ip_class,
        impressed_at as touch_ts,
        campaign_id,
        placement_id,
        show_id,
        episode_id

    from impressions

),

touchpoints as (

    select * from podcast_impressions

),

final as (

    select
        tenant_id,
        touchpoint_id,
        cast(touch_type as {{ dbt.type_string() }}) as touch_type,
        household_id,
        ip_class,
        touch_ts,
        campaign_id,
        placement_id,
        show_id,
        episode_id

    from touchpoints

)

select * from final
