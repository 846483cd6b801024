{#- Every distinct hosting log line with the first request-level reason it cannot count as (part
    of) a download, or a null exclusion_reason when it may. The reasons, in order
    (docs/user/counting.md explains each with its IAB reference):

      no_address, head_request, not_modified, unservable_status, range_probe,
      malformed_user_agent, apple_watch_duplicate, known_bot, self_declared_bot, http_library,
      data_centre_ip

    The last reason, unrealistic_volume, needs every request of a network's day and is added by
    int_download_requests_classified (int_unrealistic_network_days counts the days).

    A view: the screen is a scan, a join with the classified distinct user agents and a case
    expression, cheaper to recompute for its two readers (int_unrealistic_network_days and
    int_download_requests_classified) than to write every request to a table. It holds every
    tenant's rows (no tenant filter inside a view, which is shared); its readers filter.

    User agents are classified once per distinct user agent against the user_agents seed and
    joined back by user agent, so the pattern join costs (distinct user agents x patterns), not
    (requests x patterns). `not materialized`: `requests` is read twice (the distinct user
    agents and the screen); inlined, each read is a plain scan, where materialising it would
    copy every request first. -#}

{{ config(materialized='view') }}

with

requests as not materialized (

    select * from {{ ref('stg_files__download_requests') }}

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

final as (

    select
        requests.tenant_id,
        requests.request_id,
        requests.requested_at,
        cast(requests.requested_at as date) as request_date,
        requests.ip_version,
        requests.network_key,
        requests.ip_class,
        requests.user_agent,
        user_agent_kinds.user_agent_kind,
        user_agent_kinds.user_agent_name,
        requests.episode_id,
        requests.http_method,
        requests.http_status,
        requests.bytes_sent,
        requests.range_header,
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
        end as exclusion_reason

    from requests
    left join user_agent_kinds
        on requests.user_agent = user_agent_kinds.user_agent

)

select * from final
