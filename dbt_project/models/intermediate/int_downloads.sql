{#- IAB-valid downloads, first cut (IAB Podcast Measurement Technical Guidelines): requests
    that cannot deliver audio or come from self-declared bots are dropped, then every request of
    one listener (network + user agent) for one episode on one UTC calendar day is one download.
    Not yet applied (the counting issue): the one-minute byte threshold for 206s, data-centre and
    high-volume IP filters, Apple Watch duplicates. -#}

with

requests as (

    select * from {{ ref('stg_files__download_requests') }}
    where {{ tenant_filter('tenant_id') }}

),

episodes as (

    select * from {{ ref('stg_files__episodes') }}
    where {{ tenant_filter('tenant_id') }}

),

valid_requests as (

    select
        *,
        cast(requested_at as date) as download_date

    from requests
    where
        -- a listener is a network + user agent: a request without a usable address has none
        network_key is not null
        -- HEAD delivers no audio; 304 and errors deliver none either
        and http_method <> 'HEAD'
        and http_status in (200, 206)
        -- players probe with a 2-byte range before streaming
        and coalesce(replace(lower(range_header), ' ', ''), '') <> 'bytes=0-1'
        and not {{ regex_matches(
            "coalesce(user_agent, '')", var('bot_user_agent_pattern'), case_insensitive=true
        ) }}

),

requests_with_files as (

    select
        valid_requests.*,
        episodes.file_bytes

    from valid_requests
    left join episodes
        on valid_requests.tenant_id = episodes.tenant_id
        and valid_requests.episode_id = episodes.episode_id

),

downloads as (

    select
        tenant_id,
        network_key,
        user_agent,
        episode_id,
        download_date,
        min(ip_version) as ip_version,
        min(ip_class) as ip_class,
        min(requested_at) as downloaded_at,
        cast(sum(bytes_sent) as {{ dbt.type_bigint() }}) as bytes_delivered,
        cast(count(*) as {{ dbt.type_bigint() }}) as request_count,
        -- A 200 that sent the whole file delivered every ad in it. A 200 can be cut short by
        -- the client, so the bytes it sent must reach the file's size.
        max(
            case when http_status = 200 and bytes_sent >= file_bytes then 1 else 0 end
        ) = 1 as has_full_response

    from requests_with_files
    group by tenant_id, network_key, user_agent, episode_id, download_date

),

final as (

    select
        downloads.tenant_id,
        {{ hashed_id([
            'downloads.tenant_id', 'downloads.network_key', 'downloads.user_agent',
            'downloads.episode_id', 'downloads.download_date',
        ]) }} as download_id,
        downloads.episode_id,
        episodes.show_id,
        {{ household_id_for_network('downloads.network_key') }} as household_id,
        downloads.user_agent,
        downloads.download_date,
        downloads.downloaded_at,
        downloads.bytes_delivered,
        downloads.request_count,
        downloads.network_key,
        downloads.ip_version,
        downloads.ip_class,
        downloads.has_full_response

    from downloads
    left join episodes
        on downloads.tenant_id = episodes.tenant_id
        and downloads.episode_id = episodes.episode_id

)

select * from final
