{#- Every conversion, one row each, one CTE per kind. Today the only kind is the ecommerce
    order; leads and site goals become more CTEs with these columns, added to the union in
    `conversions`. The household is the order's network (null when the order carried no usable
    address: such an order still converts, it just cannot be matched to listening). Its ip_class
    is the household's final class (int_households), the one its touches carry. -#}

with

orders as (

    select * from {{ ref('stg_files__orders') }}
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

orders_with_household as (

    select
        *,
        {{ hashed_id(['tenant_id', "'order'", 'order_id']) }} as conversion_id,
        {{ household_id_for_network('network_key') }} as household_id
    from orders

),

order_conversions as (

    select
        orders_with_household.tenant_id,
        orders_with_household.conversion_id,
        'order' as conversion_type,
        orders_with_household.household_id,
        households.ip_class,
        orders_with_household.ordered_at as conversion_ts,
        orders_with_household.revenue,
        orders_with_household.currency,
        orders_with_household.order_id as source_record_id

    from orders_with_household
    left join households
        on households.tenant_id = orders_with_household.tenant_id
        and households.household_id = orders_with_household.household_id

),

conversions as (

    select * from order_conversions

),

final as (

    select
        tenant_id,
        conversion_id,
        cast(conversion_type as {{ dbt.type_string() }}) as conversion_type,
        household_id,
        ip_class,
        conversion_ts,
        revenue,
        currency,
        source_record_id

    from conversions

)

select * from final
