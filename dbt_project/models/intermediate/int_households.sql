{#- One row per network seen listening (a valid download), buying (an order), browsing (a site
    event) or signing up (a CRM lead): the household that links exposure to conversion. Today a household is one network
    (an IPv4 address or an IPv6 /64); its ip_class says whether results for it are observed
    (household) or modelled (cellular, commercial, data_centre, relay).

    The class starts from the network's range (range_ip_class, the ip_class_ranges seed, applied
    in staging). A network the ranges call household but that listens like a shared one
    (int_network_behaviour: many user agents, volume, round the clock) is commercial instead;
    ip_class_reason says which rule decided. Attribution takes ip_class from here only. -#}

with

downloads as (

    select * from {{ ref('int_downloads') }}
    where {{ tenant_filter('tenant_id') }}

),

orders as (

    select * from {{ ref('stg_files__orders') }}
    where {{ tenant_filter('tenant_id') }}

),

site_events as (

    select * from {{ ref('stg_files__site_events') }}
    where {{ tenant_filter('tenant_id') }}

),

leads as (

    select * from {{ ref('stg_files__leads') }}
    where {{ tenant_filter('tenant_id') }}

),

behaviour as (

    select * from {{ ref('int_network_behaviour') }}
    where {{ tenant_filter('tenant_id') }}

),

sightings as (

    select
        tenant_id,
        network_key,
        ip_version,
        ip_class,
        downloaded_at as seen_at,
        1 as is_download,
        0 as is_order,
        0 as is_site_event,
        0 as is_lead
    from downloads

    union all

    select
        tenant_id,
        network_key,
        ip_version,
        ip_class,
        ordered_at as seen_at,
        0 as is_download,
        1 as is_order,
        0 as is_site_event,
        0 as is_lead
    from orders
    where network_key is not null

    union all

    select
        tenant_id,
        network_key,
        ip_version,
        ip_class,
        occurred_at as seen_at,
        0 as is_download,
        0 as is_order,
        1 as is_site_event,
        0 as is_lead
    from site_events
    where network_key is not null

    union all

    select
        tenant_id,
        network_key,
        ip_version,
        ip_class,
        created_at as seen_at,
        0 as is_download,
        0 as is_order,
        0 as is_site_event,
        1 as is_lead
    from leads
    where network_key is not null

),

households as (

    select
        tenant_id,
        network_key,
        -- one network has one version and one class (both follow from the network itself)
        min(ip_version) as ip_version,
        min(ip_class) as ip_class,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        cast(sum(is_download) as {{ dbt.type_bigint() }}) as downloads,
        cast(sum(is_order) as {{ dbt.type_bigint() }}) as orders,
        cast(sum(is_site_event) as {{ dbt.type_bigint() }}) as site_events,
        cast(sum(is_lead) as {{ dbt.type_bigint() }}) as leads

    from sightings
    group by tenant_id, network_key

),

classified as (

    select
        households.*,
        coalesce(households.ip_class, 'household') as range_ip_class,
        -- Behaviour only ever demotes a household range: a cellular or data-centre range says
        -- more about a network than how much it listens.
        case
            when coalesce(households.ip_class, 'household') = 'household'
                and behaviour.behaviour_reason is not null
                then behaviour.behaviour_reason
            else 'range'
        end as ip_class_reason,
        behaviour.user_agents,
        behaviour.active_days,
        behaviour.downloads_per_active_day,
        behaviour.max_downloads_per_day,
        behaviour.mean_active_hours_per_day

    from households
    left join behaviour
        on behaviour.tenant_id = households.tenant_id
        and behaviour.network_key = households.network_key

),

final as (

    select
        tenant_id,
        {{ household_id_for_network('network_key') }} as household_id,
        ip_version,
        cast(
            case when ip_class_reason = 'range' then range_ip_class else 'commercial' end
            as {{ dbt.type_string() }}
        ) as ip_class,
        first_seen_at,
        last_seen_at,
        downloads,
        orders,
        network_key,
        site_events,
        cast(range_ip_class as {{ dbt.type_string() }}) as range_ip_class,
        cast(ip_class_reason as {{ dbt.type_string() }}) as ip_class_reason,
        cast(coalesce(user_agents, 0) as {{ dbt.type_bigint() }}) as user_agents,
        cast(coalesce(active_days, 0) as {{ dbt.type_bigint() }}) as active_days,
        downloads_per_active_day,
        max_downloads_per_day,
        mean_active_hours_per_day,
        leads

    from classified

)

select * from final
