{#- An ad impression: a placement's ad delivered inside a valid download of its episode
    (IAB guidelines, docs/user/counting.md "Impressions"). The download must fall within the
    campaign's flight (UTC dates, both ends inclusive; a missing bound leaves that side open)
    and must either have delivered the placement's required bytes or have been answered with
    the whole file (a 200 that sent all of it delivers every ad). The required bytes depend on
    how the ad is in the file:
      dynamic_full_ad         dynamically inserted: 100% of the ad, the bytes up to its end;
      baked_in_first_quarter  baked in and starting in the first 25% of the episode: 25% of the
                              episode, ID3 header + 25% of the audio (25% of the file when the
                              bitrate is unknown);
      baked_in_to_ad_end      any other baked-in ad: the bytes up to its end;
      unknown_to_ad_end       no insertion type in the export (older exports): the bytes up
                              to the ad's end, as for a dynamic ad. Whatever the ad really
                              is, its bytes were delivered, and the count stays what it was
                              before the export carried the type.
    One row per (download, placement). -#}

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
        placements.insertion_type,
        campaigns.start_date,
        campaigns.end_date,
        -- byte offset where the ad ends in the file
        {{ audio_byte_offset('episodes.id3_bytes', 'placements.ad_end_s', 'episodes.bitrate_kbps') }}
            as ad_end_byte,
        -- A quarter of the episode: the ID3 header and a quarter of the audio, or a quarter of
        -- the file when the bitrate (and so the header size) is unknown.
        case
            when episodes.bitrate_kbps is null
                then 0.25 * cast(episodes.file_bytes as {{ type_double() }})
            else {{ audio_byte_offset(
                'episodes.id3_bytes', '0.25 * episodes.duration_s', 'episodes.bitrate_kbps'
            ) }}
        end as first_quarter_byte,
        case
            when placements.insertion_type = 'dynamic' then 'dynamic_full_ad'
            when placements.insertion_type = 'baked_in'
                and placements.ad_start_s < 0.25 * episodes.duration_s
                then 'baked_in_first_quarter'
            when placements.insertion_type = 'baked_in' then 'baked_in_to_ad_end'
            else 'unknown_to_ad_end'
        end as delivery_rule

    from placements
    inner join campaigns
        on placements.tenant_id = campaigns.tenant_id
        and placements.campaign_id = campaigns.campaign_id
    left join episodes
        on placements.tenant_id = episodes.tenant_id
        and placements.episode_id = episodes.episode_id

),

placements_with_rule as (

    select
        *,
        case
            when delivery_rule = 'baked_in_first_quarter' then first_quarter_byte
            else ad_end_byte
        end as required_bytes

    from placements_in_flight

),

delivered as (

    select
        downloads.tenant_id,
        {{ download_id('downloads') }} as download_id,
        placements_with_rule.placement_id,
        placements_with_rule.campaign_id,
        downloads.episode_id,
        downloads.show_id,
        {{ household_id_for_network('downloads.network_key') }} as household_id,
        downloads.ip_class,
        downloads.downloaded_at as impressed_at,
        downloads.count_window,
        placements_with_rule.position,
        placements_with_rule.read_type,
        placements_with_rule.insertion_type,
        placements_with_rule.delivery_rule,
        placements_with_rule.required_bytes

    from downloads
    inner join placements_with_rule
        on downloads.tenant_id = placements_with_rule.tenant_id
        and downloads.episode_id = placements_with_rule.episode_id
    where
        {{ in_campaign_flight('downloads.download_date', 'placements_with_rule') }}
        and (
            downloads.has_full_response
            or cast(downloads.bytes_delivered as {{ type_double() }})
                >= placements_with_rule.required_bytes
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
        read_type,
        insertion_type,
        delivery_rule,
        required_bytes,
        count_window

    from delivered

)

select * from final
