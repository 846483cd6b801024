{#- IAB-valid downloads (IAB Podcast Measurement Technical Guidelines v2.2, docs/user/counting.md).

    1. The requests that may count (int_download_requests_classified, exclusion_reason null).
    2. Each listener (network + user agent; IPv6 networks are /64s) and episode is split into
       counting windows, per var('download_window'):
         calendar_day       one window per UTC calendar day;
         rolling_24h_first  a window opens at a request and covers [t, t + 24 h); the first
                            request at or after its end opens the next one;
         rolling_24h_last   a window lasts while requests keep coming less than 24 h after the
                            previous one; a gap of 24 h or more opens a new one.
       Every window is half-open: a request exactly 24 h later (or at 00:00:00 the next day)
       starts a new download.
    3. A window's bytes (200 and 206 alike: partial requests reassembled by sum) must reach the
       episode's threshold: ID3 + one minute of audio (capped at the file), the whole file when
       the bitrate is unknown; when the file size is unknown too, a 200 response counts.
    Windows are formed over the valid requests before the threshold is applied: a window that
    stays below the threshold is not a download and does not merge into the next one. -#}

{%- set window = download_window() %}

with {% if window == 'rolling_24h_first' %}recursive{% endif %}

-- `not materialized` here and on valid_requests: both are read twice under the rolling windows
-- (the day totals and the long listener-episodes' requests); inlined, each read is a scan of the
-- classification view instead of a copy of every request.
classified as not materialized (

    select * from {{ ref('int_download_requests_classified') }}
    where {{ tenant_filter('tenant_id') }}

),

episodes as (

    select * from {{ ref('stg_files__episodes') }}
    where {{ tenant_filter('tenant_id') }}

),

valid_requests as not materialized (

    select
        tenant_id,
        request_id,
        network_key,
        user_agent,
        episode_id,
        ip_version,
        ip_class,
        http_status,
        bytes_sent,
        requested_at,
        request_date

    from classified
    where exclusion_reason is null

),

-- The valid requests summed per listener, episode and UTC day: every window's figures are sums,
-- minima and maxima of these, so the requests are grouped once and only the listener-episodes
-- whose requests span 24 h or more (a few per cent) are windowed request by request.
listener_episode_days as (

    select
        tenant_id,
        network_key,
        user_agent,
        episode_id,
        request_date,
        {{ download_request_figures() }}

    from valid_requests
    group by tenant_id, network_key, user_agent, episode_id, request_date

),

{% if window == 'calendar_day' %}

windows as (

    select
        *,
        request_date as window_key

    from listener_episode_days

),

{% else %}

-- Each listener-episode's figures over all its days: the one window of every listener-episode
-- whose requests lie less than 24 h apart from first to last (nearly all), under either
-- rolling rule.
listener_episodes as (

    select
        tenant_id,
        network_key,
        user_agent,
        episode_id,
        {{ download_window_figures(
            'first_requested_at', 'last_requested_at', 'bytes_delivered', 'request_count',
            'has_200_response', 'max_200_bytes', 'ip_version', 'ip_class'
        ) }}

    from listener_episode_days
    group by tenant_id, network_key, user_agent, episode_id

),

short_windows as (

    select
        tenant_id,
        network_key,
        user_agent,
        episode_id,
        1 as window_key,
        ip_version,
        ip_class,
        first_requested_at,
        last_requested_at,
        bytes_delivered,
        request_count,
        has_200_response,
        max_200_bytes

    from listener_episodes
    where {{ epoch_seconds_between('first_requested_at', 'last_requested_at') }} < 86400.0

),

-- The listener-episodes windowed request by request, numbered: the window functions and the
-- recursion below partition and join on this one integer instead of the four keys (at 100M
-- requests the recursion's hash table on the keys did not fit in memory).
long_listener_episodes as (

    select
        tenant_id,
        network_key,
        user_agent,
        episode_id,
        row_number() over (
            order by tenant_id, network_key, user_agent, episode_id
        ) as listener_episode_number

    from listener_episodes
    where {{ epoch_seconds_between('first_requested_at', 'last_requested_at') }} >= 86400.0

),

long_requests as (

    select
        valid_requests.*,
        long_listener_episodes.listener_episode_number

    from valid_requests
    inner join long_listener_episodes
        on {{ same_listener_episode('valid_requests', 'long_listener_episodes') }}

),

{% if window == 'rolling_24h_last' %}

with_previous as (

    select
        *,
        lag(requested_at) over (
            partition by listener_episode_number
            order by requested_at, request_id
        ) as previous_requested_at

    from long_requests

),

windowed as (

    select
        *,
        -- a new window when there is no previous request or the gap is 24 h or more
        sum(
            case
                when previous_requested_at is null then 1
                when {{ epoch_seconds_between('previous_requested_at', 'requested_at') }}
                    >= 86400.0 then 1
                else 0
            end
        ) over (
            partition by listener_episode_number
            order by requested_at, request_id
            rows between unbounded preceding and current row
        ) as window_key

    from with_previous

),

{% else %}

numbered as (

    select
        *,
        row_number() over (
            partition by listener_episode_number
            order by requested_at, request_id
        ) as request_number

    from long_requests

),

-- For every request r, the first request at or after r + 24 h (the one that would open the
-- next window if r opened one): the requests and their 24 h marks in one time order, marks
-- before requests at the same instant, and the smallest request number from each mark on.
marks_and_requests as (

    select
        listener_episode_number,
        {{ dbt.dateadd('hour', 24, 'requested_at') }} as event_at,
        0 as is_request,
        request_number

    from numbered

    union all

    select
        listener_episode_number,
        requested_at as event_at,
        1 as is_request,
        request_number

    from numbered

),

next_window as (

    select
        listener_episode_number,
        request_number,
        is_request,
        min(case when is_request = 1 then request_number end) over (
            partition by listener_episode_number
            order by event_at, is_request, request_number
            rows between current row and unbounded following
        ) as next_start_number

    from marks_and_requests

),

window_pointers as (

    select
        listener_episode_number,
        request_number,
        next_start_number

    from next_window
    where is_request = 0

),

-- Follow the pointers from the first request: each step is one more window of a group, so
-- the iteration ends after the largest number of windows of any listener-episode (the
-- pointers strictly increase, so it is bounded by the group's request count).
window_starts (listener_episode_number, request_number, next_start_number) as (

    select
        listener_episode_number,
        request_number,
        next_start_number

    from window_pointers
    where request_number = 1

    union all

    select
        window_pointers.listener_episode_number,
        window_pointers.request_number,
        window_pointers.next_start_number

    from window_starts
    inner join window_pointers
        on window_starts.listener_episode_number = window_pointers.listener_episode_number
        and window_starts.next_start_number = window_pointers.request_number

),

windowed as (

    select
        numbered.*,
        sum(
            case
                when numbered.request_number = 1 then 1
                when window_starts.request_number is not null then 1
                else 0
            end
        ) over (
            partition by numbered.listener_episode_number
            order by numbered.request_number
            rows between unbounded preceding and current row
        ) as window_key

    from numbered
    left join window_starts
        on numbered.listener_episode_number = window_starts.listener_episode_number
        and numbered.request_number = window_starts.request_number

),

{% endif %}

long_windows as (

    select
        tenant_id,
        network_key,
        user_agent,
        episode_id,
        window_key,
        {{ download_request_figures() }}

    from windowed
    group by tenant_id, network_key, user_agent, episode_id, window_key

),

windows as (

    select * from short_windows
    union all
    select * from long_windows

),

{% endif %}

windows_with_threshold as (

    select
        windows.*,
        episodes.show_id,
        episodes.file_bytes,
        {{ download_threshold_bytes(
            'episodes.id3_bytes', 'episodes.bitrate_kbps', 'episodes.file_bytes'
        ) }} as threshold_bytes

    from windows
    left join episodes
        on windows.tenant_id = episodes.tenant_id
        and windows.episode_id = episodes.episode_id

),

counted as (

    select *
    from windows_with_threshold
    where
        case
            when threshold_bytes is not null
                then cast(bytes_delivered as {{ type_double() }}) >= threshold_bytes
            else has_200_response = 1
        end

),

final as (

    -- No hashed ids here: int_ad_impressions hashes the download's key (download_id) and its
    -- network (household_id) for the downloads that carry an impression, a fraction of them.
    select
        tenant_id,
        episode_id,
        show_id,
        user_agent,
        cast(first_requested_at as date) as download_date,
        first_requested_at as downloaded_at,
        bytes_delivered,
        request_count,
        network_key,
        ip_version,
        ip_class,
        -- A 200 that sent the whole file delivered every ad in it. A 200 can be cut short by
        -- the client, so the bytes it sent must reach the file's size.
        coalesce(max_200_bytes >= file_bytes, false) as has_full_response,
        last_requested_at,
        threshold_bytes,
        cast('{{ window }}' as {{ dbt.type_string() }}) as count_window

    from counted

)

select * from final
