{#- Every contact of a household with a campaign, one row per touch: the podcast impressions,
    which the attribution paths and models are built from. The other signals (promo
    codes, vanity URL and UTM visits, survey mentions) live in their own models
    (int_promo_code_redemptions, int_site_visits, int_survey_mentions), combined with these
    touches per conversion in int_signal_conversions: a code or a survey answer needs no
    household, so it is evidence for a conversion rather than a touch on a path. A touch's
    ip_class is its household's final class (int_households: range, then behaviour), so a touch
    and the conversions of its household always agree on observed (household) or modelled. -#}

with

impressions as (

    select * from {{ ref('int_ad_impressions') }}
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

podcast_impressions as (

    select
        impressions.tenant_id,
        impressions.impression_id as touchpoint_id,
        'podcast_impression' as touch_type,
        impressions.household_id,
        households.ip_class,
        impressions.impressed_at as touch_ts,
        impressions.campaign_id,
        impressions.placement_id,
        impressions.show_id,
        impressions.episode_id

    from impressions
    left join households
        on households.tenant_id = impressions.tenant_id
        and households.household_id = impressions.household_id

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
