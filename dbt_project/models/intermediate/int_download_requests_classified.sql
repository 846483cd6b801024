{#- Every distinct hosting log line with the reason it cannot count as (part of) a download, or a
    null exclusion_reason when it may: the request-level reason of int_download_requests_screened,
    else unrealistic_volume when the request's network and UTC day are in
    int_unrealistic_network_days. One reason per request, in this order (docs/user/counting.md):

      no_address, head_request, not_modified, unservable_status, range_probe,
      malformed_user_agent, apple_watch_duplicate, known_bot, self_declared_bot, http_library,
      data_centre_ip, unrealistic_volume

    A view holding every tenant's rows (its readers filter): int_download_requests_excluded keeps
    the excluded requests, int_downloads counts the rest, and neither needs every request written
    to a table first; that write cost more than all the counting. -#}

{{ config(materialized='view') }}

with

screened as (

    select * from {{ ref('int_download_requests_screened') }}

),

unrealistic_network_days as (

    select * from {{ ref('int_unrealistic_network_days') }}

),

final as (

    select
        screened.tenant_id,
        screened.request_id,
        screened.requested_at,
        screened.request_date,
        screened.ip_version,
        screened.network_key,
        screened.ip_class,
        screened.user_agent,
        screened.user_agent_kind,
        screened.user_agent_name,
        screened.episode_id,
        screened.http_method,
        screened.http_status,
        screened.bytes_sent,
        screened.range_header,
        coalesce(
            screened.exclusion_reason,
            case
                when unrealistic_network_days.network_key is not null then 'unrealistic_volume'
            end
        ) as exclusion_reason

    from screened
    left join unrealistic_network_days
        on screened.exclusion_reason is null
        and screened.tenant_id = unrealistic_network_days.tenant_id
        and screened.network_key = unrealistic_network_days.network_key
        and screened.request_date = unrealistic_network_days.request_date

)

select * from final
