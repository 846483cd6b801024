{#- Unrealistic volume (IAB: "IPs with unrealistic volume"): the networks that fetched more
    distinct (user agent, episode) pairs on one UTC day than var('max_listens_per_network_per_day'),
    counting only requests the request-level screen lets through. Counting pairs, not requests,
    keeps clients that stream in many small ranges from looking busy. Every request of such a
    network-day is excluded as unrealistic_volume (int_download_requests_classified).

    A table of the few busy days only: the requests are read once here, and the classification
    view joins this small table instead of recounting the pairs for each of its readers. -#}

{%- set max_pairs = var('max_listens_per_network_per_day') | int %}

with

-- read twice (the busy candidates and their pairs): `not materialized` keeps each a scan
screened as not materialized (

    select * from {{ ref('int_download_requests_screened') }}
    where {{ tenant_filter('tenant_id') }}
        and exclusion_reason is null

),

-- A network-day can hold more pairs than the limit only with more requests than it: counting
-- requests per network-day is cheap, and leaves the distinct pairs to be found for the few busy
-- candidates instead of for every request (at 10M requests, 0.6 s instead of 1.4 s).
candidate_network_days as (

    select
        tenant_id,
        network_key,
        request_date

    from screened
    group by tenant_id, network_key, request_date
    having count(*) > {{ max_pairs }}

),

network_day_pairs as (

    select distinct
        screened.tenant_id,
        screened.network_key,
        screened.request_date,
        screened.user_agent,
        screened.episode_id

    from screened
    inner join candidate_network_days
        on screened.tenant_id = candidate_network_days.tenant_id
        and screened.network_key = candidate_network_days.network_key
        and screened.request_date = candidate_network_days.request_date

),

final as (

    select
        tenant_id,
        network_key,
        request_date,
        cast(count(*) as {{ dbt.type_bigint() }}) as listener_episodes,
        cast({{ max_pairs }} as {{ dbt.type_bigint() }}) as max_listener_episodes

    from network_day_pairs
    group by tenant_id, network_key, request_date
    having count(*) > {{ max_pairs }}

)

select * from final
