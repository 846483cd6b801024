{#- One row per campaign promo code (normalised as int_promo_code_redemptions compares them):
    how often it was redeemed, by how many households the campaign's impressions reached, and how
    many redemptions came from outside that audience. A redemption is `exposed` when its household
    had an impression of the campaign at or before the order (int_ad_impressions, any time before:
    a listener may keep a code for months); every other redemption, an order without a household
    included (it cannot be matched), is unexposed. A code is leaked (passed on by coupon sites and
    deal forums) when it has at least var promo_code_leakage_min_redemptions redemptions and more
    than var promo_code_leakage_max_unexposed_share of them are unexposed: the campaign's reach
    does not explain its use. -#}
{%- set min_redemptions = var('promo_code_leakage_min_redemptions') | int -%}
{%- set max_unexposed_share = var('promo_code_leakage_max_unexposed_share') | float -%}
{%- if min_redemptions < 1 -%}
    {{ exceptions.raise_compiler_error(
        "var 'promo_code_leakage_min_redemptions' must be at least 1, got: " ~ min_redemptions) }}
{%- endif -%}
{%- if max_unexposed_share < 0 or max_unexposed_share >= 1 -%}
    {{ exceptions.raise_compiler_error(
        "var 'promo_code_leakage_max_unexposed_share' must be in [0, 1), got: "
        ~ max_unexposed_share) }}
{%- endif %}

with

placements as (
    select
        tenant_id,
        campaign_id,
        promo_code
    from {{ ref('stg_files__placements') }}
    where {{ tenant_filter('tenant_id') }}
        and promo_code is not null
),

redemptions as (
    select
        tenant_id,
        order_id,
        campaign_id,
        promo_code,
        household_id,
        redeemed_at
    from {{ ref('int_promo_code_redemptions') }}
    where {{ tenant_filter('tenant_id') }}
),

impressions as (
    select
        tenant_id,
        campaign_id,
        household_id,
        impressed_at
    from {{ ref('int_ad_impressions') }}
    where {{ tenant_filter('tenant_id') }}
),

campaign_codes as (
    select distinct
        tenant_id,
        campaign_id,
        {{ normalise_promo_code('promo_code') }} as promo_code
    from placements
    where {{ normalise_promo_code('promo_code') }} is not null
),

first_exposures as (
    select
        tenant_id,
        campaign_id,
        household_id,
        min(impressed_at) as first_impressed_at
    from impressions
    where household_id is not null
    group by tenant_id, campaign_id, household_id
),

-- one row per reached household already: its count is the reach
reach as (
    select
        tenant_id,
        campaign_id,
        count(*) as reached_households
    from first_exposures
    group by tenant_id, campaign_id
),

classified_redemptions as (
    select
        redemptions.tenant_id,
        redemptions.campaign_id,
        redemptions.promo_code,
        redemptions.order_id,
        case
            when first_exposures.first_impressed_at <= redemptions.redeemed_at then 1
            else 0
        end as is_exposed
    from redemptions
    left join first_exposures
        on first_exposures.tenant_id = redemptions.tenant_id
        and first_exposures.campaign_id = redemptions.campaign_id
        and first_exposures.household_id = redemptions.household_id
),

per_code as (
    select
        tenant_id,
        campaign_id,
        promo_code,
        count(*) as redemptions,
        sum(is_exposed) as exposed_redemptions
    from classified_redemptions
    group by tenant_id, campaign_id, promo_code
),

joined as (
    select
        campaign_codes.tenant_id,
        campaign_codes.campaign_id,
        campaign_codes.promo_code,
        cast(coalesce(per_code.redemptions, 0) as {{ dbt.type_bigint() }}) as redemptions,
        cast(coalesce(reach.reached_households, 0) as {{ dbt.type_bigint() }})
            as reached_households,
        cast(coalesce(per_code.redemptions, 0) - coalesce(per_code.exposed_redemptions, 0)
            as {{ dbt.type_bigint() }}) as unexposed_redemptions
    from campaign_codes
    left join per_code
        on per_code.tenant_id = campaign_codes.tenant_id
        and per_code.campaign_id = campaign_codes.campaign_id
        and per_code.promo_code = campaign_codes.promo_code
    left join reach
        on reach.tenant_id = campaign_codes.tenant_id
        and reach.campaign_id = campaign_codes.campaign_id
),

final as (
    select
        tenant_id,
        campaign_id,
        promo_code,
        redemptions,
        reached_households,
        unexposed_redemptions,
        case
            when redemptions = 0 then null
            else cast(unexposed_redemptions as {{ type_double() }})
                / cast(redemptions as {{ type_double() }})
        end as unexposed_share,
        case
            when reached_households = 0 then null
            else cast(redemptions as {{ type_double() }})
                / cast(reached_households as {{ type_double() }})
        end as redemptions_per_reached_household,
        -- Compared without dividing, so a share exactly at the threshold is not leaked on any
        -- engine.
        (
            redemptions >= {{ min_redemptions }}
            and cast(unexposed_redemptions as {{ type_double() }})
                > {{ max_unexposed_share }} * cast(redemptions as {{ type_double() }})
        ) as is_leaked,
        cast({{ min_redemptions }} as {{ dbt.type_bigint() }}) as leakage_min_redemptions,
        cast({{ max_unexposed_share }} as {{ type_double() }}) as leakage_max_unexposed_share
    from joined
)

select * from final
