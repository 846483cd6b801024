{#- An ad impression: a placement's ad delivered inside a valid download of its episode
    (IAB: ads count only inside valid downloads; a dynamically inserted ad needs all its bytes).
    The download must fall within the campaign's flight (UTC dates, both ends inclusive; a
    missing bound leaves that side open) and must either have delivered the bytes up to the
    ad's end or have been answered with the whole file (a 200 that sent all of it). One row
    per (download, placement). -#}

with

downloads as (

    select * from {{ ref('int_downloads') }}
    where {{ tenant_filter('tenant_id') }}

),

placements as (

    select * from {{ ref('stg_files__placements') }}
    where {{ tenant_filter('tenant_id') }}

),

campaigns as (

    select * from {{ ref('stg_files__campaigns') }}
    where {{ tenant_filter('tenant_id') }}

),

episodes as (

    select * from {{ ref('stg_files__episodes') }}
    where {{ tenant_filter('tenant_id') }}

),

placements_in_flight as (

    select
        placements.tenant_id,
        placements.placement_id,
        placements.campaign_id,
        placements.episode_id,
        placements.position,
        placements.read_type,
        campaigns.start_date,
        campaigns.end_date,
        -- Byte offset where the ad ends in the file: the ID3 header, then the audio at the
        -- episode's constant bitrate. In doubles on every engine: integer division would cut the
        -- fraction and move the edge.
        cast(episodes.id3_bytes as {{ type_double() }})
            + cast(placements.ad_end_s as {{ type_double() }})
            * cast(episodes.bitrate_kbps as {{ type_double() }})
            * 1000.0 / 8.0 as ad_end_byte

    from placements
    inner join campaigns
        on placements.tenant_id = campaigns.tenant_id
        and placements.campaign_id = campaigns.campaign_id
    left join episodes
        on placements.tenant_id = episodes.tenant_id
        and placements.episode_id = episodes.episode_id

),

delivered as (

    select
        downloads.tenant_id,
        downloads.download_id,
        placements_in_flight.placement_id,
        placements_in_flight.campaign_id,
        downloads.episode_id,
        downloads.show_id,
        downloads.household_id,
        downloads.ip_class,
        downloads.downloaded_at as impressed_at,
        placements_in_flight.position,
        placements_in_flight.read_type

    from downloads
    inner join placements_in_flight
        on downloads.tenant_id = placements_in_flight.tenant_id
        and downloads.episode_id = placements_in_flight.episode_id
    where
        (placements_in_flight.start_date is null
            or downloads.download_date >= placements_in_flight.start_date)
        and (placements_in_flight.end_date is null
            or downloads.download_date <= placements_in_flight.end_date)
        and (
            downloads.has_full_response
            or cast(downloads.bytes_delivered as {{ type_double() }})
                >= placements_in_flight.ad_end_byte
        )

),

final as (

    select
        tenant_id,
        {{ hashed_id(['download_id', 'placement_id']) }} as impression_id,
        download_id,
        placement_id,
        campaign_id,
        episode_id,
        show_id,
        household_id,
        ip_class,
        impressed_at,
        position,
        read_type

    from delivered

)

select * from final
