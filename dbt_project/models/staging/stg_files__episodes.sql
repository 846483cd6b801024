{#- One row per episode. Its catalogue facts (show, title, publication) come from the latest
    extraction of any source; its file facts (size, bitrate, and the duration they were measured
    with) from the latest extraction that has them. A hosting platform's API lists episodes
    without their file size, and its newer listing must not erase what a file export or the feed
    gave: the ID3 size, and with it every impression, depends on those bytes. -#}

with

source as (

    select * from {{ source('files', 'episodes') }}
    where {{ tenant_filter('_tenant_id') }}

),

renamed as (

    select
        cast(_tenant_id as {{ dbt.type_string() }}) as tenant_id,
        cast(episode_id as {{ dbt.type_string() }}) as episode_id,
        cast(show_id as {{ dbt.type_string() }}) as show_id,
        cast(show_name as {{ dbt.type_string() }}) as show_name,
        cast(title as {{ dbt.type_string() }}) as episode_title,
        cast(published_at as {{ dbt.type_timestamp() }}) as published_at,
        cast(duration_s as {{ type_double() }}) as duration_s,
        cast(file_bytes as {{ dbt.type_bigint() }}) as file_bytes,
        cast(bitrate_kbps as {{ type_double() }}) as bitrate_kbps,
        _extracted_at,
        _batch_id,
        _source_row

    from source

),

latest as (

    select
        *,
        {{ landing_version_rank('tenant_id, episode_id') }} as version_rank

    from renamed

),

latest_media as (

    select
        tenant_id,
        episode_id,
        duration_s,
        file_bytes,
        bitrate_kbps,
        {{ landing_version_rank('tenant_id, episode_id') }} as version_rank

    from renamed
    where file_bytes is not null

),

merged as (

    select
        latest.tenant_id,
        latest.episode_id,
        latest.show_id,
        latest.show_name,
        latest.episode_title,
        latest.published_at,
        coalesce(latest_media.duration_s, latest.duration_s) as duration_s,
        latest_media.file_bytes,
        latest_media.bitrate_kbps

    from latest
    left join latest_media
        on latest.tenant_id = latest_media.tenant_id
        and latest.episode_id = latest_media.episode_id
        and latest_media.version_rank = 1
    where latest.version_rank = 1

),

final as (

    select
        tenant_id,
        episode_id,
        show_id,
        show_name,
        episode_title,
        published_at,
        duration_s,
        file_bytes,
        bitrate_kbps,
        -- The export carries no ID3 size: it is what the file holds beyond its audio
        -- (duration x constant bitrate), never negative. Exact for CBR files with the tag up
        -- front; an estimate for VBR files or trailing tags.
        cast(
            greatest(
                round(file_bytes - duration_s * bitrate_kbps * 1000.0 / 8.0),
                0
            ) as {{ dbt.type_bigint() }}
        ) as id3_bytes

    from merged

)

select * from final
