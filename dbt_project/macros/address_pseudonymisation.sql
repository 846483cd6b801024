{#- CTEs that turn the client addresses of `rows_cte` (columns tenant_id and `ip_column`, the
    address as received) into what may leave staging, ending in `pseudonymised_addresses`:

        tenant_id, <ip_column>   the join key back to the rows (stays inside the model)
        ip_version               4, 6, or null for a missing or malformed address
        network_key              pseudonymise(network): the IPv4 address or the IPv6 /64
        ip_class                 the network's class from `ranges_cte` (the ip_class_ranges
                                 seed, bounds inclusive), household outside every range
        address_key              pseudonymise(the address as received), for ids of rows that
                                 must tell two addresses of one /64 apart

    Every staging model that receives client addresses uses it, so an address is parsed,
    classified and hashed where it is read and only the results travel on. The work is done
    once per distinct address and network, not per row (a log has far fewer addresses than
    lines). Emits a trailing comma: the model's next CTE follows. -#}
{% macro address_pseudonymisation_ctes(rows_cte, ranges_cte, ip_column='ip') %}
distinct_addresses as (

    select distinct
        tenant_id,
        {{ ip_column }}

    from {{ rows_cte }}
    where {{ ip_column }} is not null

),

normalised_addresses as (

    select
        *,
        {{ normalise_ip(ip_column) }} as normalised_ip

    from distinct_addresses

),

versioned_addresses as (

    select
        *,
        {{ ip_version('normalised_ip') }} as ip_version

    from normalised_addresses

),

networked_addresses as (

    select
        *,
        {{ ip_network('ip_version', 'normalised_ip') }} as network

    from versioned_addresses

),

range_networks as (

    select
        cast(ip_version as integer) as ip_version,
        cast(ip_class as {{ dbt.type_string() }}) as ip_class,
        {{ ip_network('ip_version', 'lower(trim(first_address))') }} as first_network,
        {{ ip_network('ip_version', 'lower(trim(last_address))') }} as last_network

    from {{ ranges_cte }}

),

keyed_ranges as (

    -- distinct: computed once, not inlined into the range join and recomputed per pair
    select distinct
        ip_version,
        ip_class,
        {{ ip_sort_key('ip_version', 'first_network') }} as first_key,
        {{ ip_sort_key('ip_version', 'last_network') }} as last_key

    from range_networks

),

distinct_networks as (

    select distinct
        ip_version,
        network,
        {{ ip_sort_key('ip_version', 'network') }} as sort_key

    from networked_addresses
    where network is not null

),

classified_networks as (

    select
        distinct_networks.ip_version,
        distinct_networks.network,
        -- Ranges must not overlap (tests/staging_ip_class_ranges_are_disjoint.sql); min() keeps
        -- one row per network even if they did.
        coalesce(min(keyed_ranges.ip_class), 'household') as ip_class

    from distinct_networks
    left join keyed_ranges
        on distinct_networks.ip_version = keyed_ranges.ip_version
        and distinct_networks.sort_key >= keyed_ranges.first_key
        and distinct_networks.sort_key <= keyed_ranges.last_key

    group by distinct_networks.ip_version, distinct_networks.network

),

pseudonymised_addresses as (

    select
        networked_addresses.tenant_id,
        networked_addresses.{{ ip_column }},
        networked_addresses.ip_version,
        {{ pseudonymise('networked_addresses.network') }}
            as network_key,
        classified_networks.ip_class,
        {{ pseudonymise('networked_addresses.' ~ ip_column) }}
            as address_key

    from networked_addresses
    left join classified_networks
        on networked_addresses.ip_version = classified_networks.ip_version
        and networked_addresses.network = classified_networks.network

),
{% endmacro %}
