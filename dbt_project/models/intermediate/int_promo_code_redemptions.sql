{#- One row per (order conversion, campaign) whose discount codes include one of the campaign's
    promo codes (stg_files__placements.promo_code, one per campaign and show). Both sides are
    normalised alike (upper case, whitespace removed; macros/signals.sql), and an order's
    discount_codes are split on commas (docs/user/file-import.md), so an order with codes of two
    campaigns evidences both. A code counts for a campaign only from the campaign's start date on:
    before it the code had not been read out (a show that reuses a code for a later campaign
    thereby evidences the campaigns already running). -#}

with

orders as (

    select
        tenant_id,
        order_id,
        ordered_at,
        discount_codes
    from {{ ref('stg_files__orders') }}
    where {{ tenant_filter('tenant_id') }}
        and discount_codes is not null

),

conversions as (

    select
        tenant_id,
        conversion_id,
        household_id,
        ip_class,
        revenue,
        source_record_id
    from {{ ref('int_conversions') }}
    where {{ tenant_filter('tenant_id') }}
        and conversion_type = 'order'

),

placements as (

    select
        tenant_id,
        campaign_id,
        promo_code
    from {{ ref('stg_files__placements') }}
    where {{ tenant_filter('tenant_id') }}
        and promo_code is not null

),

campaigns as (

    select
        tenant_id,
        campaign_id,
        start_date
    from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}

),

numbers as (

    {{ signal_numbers() }}

),

campaign_codes as (

    select distinct
        placements.tenant_id,
        placements.campaign_id,
        {{ normalise_promo_code('placements.promo_code') }} as promo_code,
        campaigns.start_date
    from placements
    left join campaigns
        on campaigns.tenant_id = placements.tenant_id
        and campaigns.campaign_id = placements.campaign_id
    where {{ normalise_promo_code('placements.promo_code') }} is not null

),

orders_with_code_count as (

    select
        *,
        length(discount_codes) - length(replace(discount_codes, ',', '')) + 1 as code_count
    from orders

),

order_codes as (

    -- Only parts that exist are split out (n <= code_count): engines disagree on what
    -- split_part returns beyond the last part.
    select
        orders_with_code_count.tenant_id,
        orders_with_code_count.order_id,
        orders_with_code_count.ordered_at,
        {{ normalise_promo_code(split_part_at('orders_with_code_count.discount_codes', "','", 'numbers.n')) }}
            as promo_code
    from orders_with_code_count
    inner join numbers
        on numbers.n <= orders_with_code_count.code_count

),

matched as (

    select
        order_codes.tenant_id,
        order_codes.order_id,
        order_codes.ordered_at,
        campaign_codes.campaign_id,
        campaign_codes.promo_code
    from order_codes
    inner join campaign_codes
        on campaign_codes.tenant_id = order_codes.tenant_id
        and campaign_codes.promo_code = order_codes.promo_code
    where campaign_codes.start_date is null
        or order_codes.ordered_at >= cast(campaign_codes.start_date as {{ dbt.type_timestamp() }})

),

per_order_campaign as (

    -- Two codes of one campaign on one order (codes of two of its shows) are one redemption.
    select
        tenant_id,
        order_id,
        campaign_id,
        min(ordered_at) as redeemed_at,
        -- byte order on every engine (PostgreSQL's collation would pick another code)
        min({{ attribution_id_order('promo_code') }}) as promo_code,
        cast(count(distinct promo_code) as {{ dbt.type_bigint() }}) as matched_codes
    from matched
    group by tenant_id, order_id, campaign_id

),

final as (

    select
        per_order_campaign.tenant_id,
        {{ hashed_id(['per_order_campaign.tenant_id', 'per_order_campaign.order_id', 'per_order_campaign.campaign_id']) }}
            as redemption_id,
        conversions.conversion_id,
        per_order_campaign.order_id,
        per_order_campaign.campaign_id,
        per_order_campaign.promo_code,
        per_order_campaign.matched_codes,
        conversions.household_id,
        conversions.ip_class,
        per_order_campaign.redeemed_at,
        conversions.revenue
    from per_order_campaign
    inner join conversions
        on conversions.tenant_id = per_order_campaign.tenant_id
        and conversions.source_record_id = per_order_campaign.order_id

)

select * from final
