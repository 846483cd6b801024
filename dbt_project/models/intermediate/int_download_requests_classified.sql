{#- Every distinct hosting log line with the reason it cannot count as (part of) a download,
    or a null exclusion_reason when it may. One reason per request: the first that applies in
    the order below (docs/user/counting.md explains each with its IAB reference):

      no_address, head_request, not_modified, unservable_status, range_probe,
      malformed_user_agent, apple_watch_duplicate, known_bot, self_declared_bot, http_library,
      data_centre_ip, unrealistic_volume

    User agents are classified once per distinct user agent against the user_agents seed and
    joined back by user agent, so the pattern join costs (distinct user agents x patterns),
    not (requests x patterns). -#}

with

requests as (

    select * from {{ ref('stg_files__download_requests') }}
    where {{ tenant_filter('tenant_id') }}

),

user_agent_patterns as (

    select
        position,
        kind,
        name,
        pattern,
        -- OPAWG order: bots, apps, libraries, browsers; the IAB Apple Watch rule before all
        cast(
            case kind
                when 'watch' then 0
                when 'bot' then 1
                when 'app' then 2
                when 'library' then 3
                when 'browser' then 4
            end as {{ dbt.type_bigint() }}
        ) * 1000000000 + position as match_order

    from {{ ref('user_agents') }}

),

distinct_user_agents as (

    select distinct user_agent
    from requests
    where user_agent is not null

),

user_agent_matches as (

    select
        distinct_user_agents.user_agent,
        min(user_agent_patterns.match_order) as match_order

    from distinct_user_agents
    inner join user_agent_patterns
        on {{ regex_matches_column('distinct_user_agents.user_agent', 'user_agent_patterns.pattern') }}
    group by distinct_user_agents.user_agent

),

user_agent_kinds as (

    select
        distinct_user_agents.user_agent,
        user_agent_patterns.kind as user_agent_kind,
        user_agent_patterns.name as user_agent_name,
        {{ regex_matches(
            'distinct_user_agents.user_agent', var('bot_user_agent_pattern'), case_insensitive=true
        ) }} as is_self_declared_bot

    from distinct_user_agents
    left join user_agent_matches
        on distinct_user_agents.user_agent = user_agent_matches.user_agent
    left join user_agent_patterns
        on user_agent_matches.match_order = user_agent_patterns.match_order

),

with_user_agent_kinds as (

    select
        requests.*,
        cast(requests.requested_at as date) as request_date,
        user_agent_kinds.user_agent_kind,
        user_agent_kinds.user_agent_name,
        case
            -- a listener is a network + user agent: no usable address, no listener
            when requests.network_key is null then 'no_address'
            -- HEAD and 304 deliver no audio; other statuses than 200/206 deliver none either
            when requests.http_method = 'HEAD' then 'head_request'
            when requests.http_status = 304 then 'not_modified'
            when requests.http_status is null or requests.http_status not in (200, 206)
                then 'unservable_status'
            -- players probe with a 2-byte range before streaming (any case or spacing)
            when coalesce(replace(lower(requests.range_header), ' ', ''), '') = 'bytes=0-1'
                then 'range_probe'
            when requests.user_agent is null or trim(requests.user_agent) = ''
                then 'malformed_user_agent'
            -- an Apple Watch re-fetches what its paired iPhone already downloaded
            when user_agent_kinds.user_agent_kind = 'watch' then 'apple_watch_duplicate'
            when user_agent_kinds.user_agent_kind = 'bot' then 'known_bot'
            when user_agent_kinds.is_self_declared_bot then 'self_declared_bot'
            when user_agent_kinds.user_agent_kind = 'library' then 'http_library'
            when requests.ip_class = 'data_centre' then 'data_centre_ip'
        end as filter_reason

    from requests
    left join user_agent_kinds
        on requests.user_agent = user_agent_kinds.user_agent

),

-- Unrealistic volume: a network that fetched more distinct (user agent, episode) pairs on one
-- UTC day than a household plausibly can. Counting pairs, not requests, keeps clients that
-- stream in many small ranges from looking busy.
network_day_pairs as (

    select distinct
        tenant_id,
        network_key,
        request_date,
        user_agent,
        episode_id

    from with_user_agent_kinds
    where filter_reason is null

),

busy_network_days as (

    select
        tenant_id,
        network_key,
        request_date

    from network_day_pairs
    group by tenant_id, network_key, request_date
    having count(*) > {{ var('max_listens_per_network_per_day') | int }}

),

final as (

    select
        with_user_agent_kinds.tenant_id,
        with_user_agent_kinds.request_id,
        with_user_agent_kinds.requested_at,
        with_user_agent_kinds.request_date,
        with_user_agent_kinds.ip_version,
        with_user_agent_kinds.network_key,
        with_user_agent_kinds.ip_class,
        with_user_agent_kinds.user_agent,
        with_user_agent_kinds.user_agent_kind,
        with_user_agent_kinds.user_agent_name,
        with_user_agent_kinds.episode_id,
        with_user_agent_kinds.http_method,
        with_user_agent_kinds.http_status,
        with_user_agent_kinds.bytes_sent,
        with_user_agent_kinds.range_header,
        coalesce(
            with_user_agent_kinds.filter_reason,
            case when busy_network_days.network_key is not null then 'unrealistic_volume' end
        ) as exclusion_reason

    from with_user_agent_kinds
    left join busy_network_days
        on with_user_agent_kinds.filter_reason is null
        and with_user_agent_kinds.tenant_id = busy_network_days.tenant_id
        and with_user_agent_kinds.network_key = busy_network_days.network_key
        and with_user_agent_kinds.request_date = busy_network_days.request_date

)

select * from final
