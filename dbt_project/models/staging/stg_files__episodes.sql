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

    from latest
    where version_rank = 1

)

select * from final
