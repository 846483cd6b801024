{#- The IP class ranges must be well formed (first <= last, both parseable) and must not
    overlap: a network in two ranges would have two classes. Returns the offending ranges. -#}

with

ranges as (

    select
        cast(ip_version as integer) as ip_version,
        first_address,
        last_address,
        ip_class,
        row_number() over (
            order by ip_version, first_address, last_address, ip_class
        ) as range_no,
        {{ ip_network('ip_version', 'lower(trim(first_address))') }} as first_network,
        {{ ip_network('ip_version', 'lower(trim(last_address))') }} as last_network

    from {{ ref('ip_class_ranges') }}

),

keyed as (

    select
        *,
        {{ ip_sort_key('ip_version', 'first_network') }} as first_key,
        {{ ip_sort_key('ip_version', 'last_network') }} as last_key

    from ranges

),

malformed as (

    select ip_version, first_address, last_address, ip_class, 'malformed or inverted' as problem
    from keyed
    where first_key is null or last_key is null or first_key > last_key

),

overlapping as (

    select
        a.ip_version,
        a.first_address,
        a.last_address,
        a.ip_class,
        'overlaps ' || b.first_address || ' - ' || b.last_address as problem

    from keyed as a
    inner join keyed as b
        on a.ip_version = b.ip_version
        and a.range_no <> b.range_no
        and b.first_key >= a.first_key
        and b.first_key <= a.last_key

)

select * from malformed
union all
select * from overlapping
