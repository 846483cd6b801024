{#- Unrealistic volume (IAB: "IPs with unrealistic volume"): the networks that fetched more
    distinct (user agent, episode) pairs on one UTC day than var('max_listens_per_network_per_day'),
    counting only requests the request-level screen lets through. Counting pairs, not requests,
    keeps clients that stream in many small ranges from looking busy. Every request of such a
    network-day is excluded as unrealistic_volume (int_download_requests_classified).

    A table of the few busy days only: the requests are read once here, and the classification
    view joins this small table instead of recounting the pairs for each of its readers. -#}

with

screened as (

    select * from {{ ref('int_download_requests_screened') }}
    where {{ tenant_filter('tenant_id') }}
        and exclusion_reason is null

),

network_day_pairs as (

    select distinct
        tenant_id,
        network_key,
        request_date,
        user_agent,
        episode_id

    from screened

),

final as (

    select
        tenant_id,
        network_key,
        request_date,
        cast(count(*) as {{ dbt.type_bigint() }}) as listener_episodes,
        cast({{ var('max_listens_per_network_per_day') | int }} as {{ dbt.type_bigint() }})
            as max_listener_episodes

    from network_day_pairs
    group by tenant_id, network_key, request_date
    having count(*) > {{ var('max_listens_per_network_per_day') | int }}

)

select * from final
