{#- Every conversion, one row each, one CTE per kind. Today the only kind is the ecommerce
    order; leads and site goals become more CTEs with these columns, added to the union in
    `conversions`. The household is the order's network (null when the order carried no usable
    address: such an order still converts, it just cannot be matched to listening). -#}

with

orders as (

    select * from {{ ref('stg_files__orders') }}
    where {{ tenant_filter('tenant_id') }}

),

order_conversions as (

    select
        tenant_id,
        {{ hashed_id(['tenant_id', "'order'", 'order_id']) }} as conversion_id,
        'order' as conversion_type,
        {{ household_id_for_network('network_key') }} as household_id,
        ip_class,
        ordered_at as conversion_ts,
        revenue,
        currency,
        order_id as source_record_id

    from orders

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
