{#- One row per segment of an episode's transcript (a speech-to-text export). A transcript is
    replaced as a whole: an episode's segments all come from its latest import (the latest
    _extracted_at among its landed rows; one import gives all its files the same time), so an
    episode transcribed again with fewer segments keeps none of the old ones. Within that
    import, a segment landed twice keeps its latest landing. -#}

with

source as (

    select * from {{ source('files', 'transcripts') }}
    where {{ tenant_filter('_tenant_id') }}

),

renamed as (

    select
        cast(_tenant_id as {{ dbt.type_string() }}) as tenant_id,
        cast(episode_id as {{ dbt.type_string() }}) as episode_id,
        cast(segment_index as {{ dbt.type_bigint() }}) as segment_index,
        cast(start_s as {{ type_double() }}) as start_s,
        cast(end_s as {{ type_double() }}) as end_s,
        -- Speaker labels are case-free (SPEAKER_1, host); blank is unknown.
        nullif(lower(trim(cast(speaker as {{ dbt.type_string() }}))), '') as speaker,
        cast({{ adapter.quote('text') }} as {{ dbt.type_string() }}) as segment_text,
        _extracted_at,
        _batch_id,
        _source_row

    from source

),

imports as (

    select
        *,
        dense_rank() over (
            partition by tenant_id, episode_id
            order by _extracted_at desc
        ) as import_rank

    from renamed

),

latest as (

    select
        *,
        {{ landing_version_rank('tenant_id, episode_id, segment_index') }} as version_rank

    from imports
    where import_rank = 1

),

final as (

    select
        tenant_id,
        episode_id,
        segment_index,
        start_s,
        end_s,
        speaker,
        segment_text

    from latest
    where version_rank = 1

)

select * from final
