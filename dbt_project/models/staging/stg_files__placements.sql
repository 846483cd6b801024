with

source as (

    select * from {{ source('files', 'placements') }}
    where {{ tenant_filter('_tenant_id') }}

),

renamed as (

    select
        cast(_tenant_id as {{ dbt.type_string() }}) as tenant_id,
        cast(placement_id as {{ dbt.type_string() }}) as placement_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(episode_id as {{ dbt.type_string() }}) as episode_id,
        lower(trim(cast(position as {{ dbt.type_string() }}))) as position,
        lower(trim(cast(read_type as {{ dbt.type_string() }}))) as read_type,
        -- Optional in the export (older files have no such column: the raw loader unions them
        -- with a null); a blank value is unknown too.
        nullif(lower(trim(cast(insertion_type as {{ dbt.type_string() }}))), '') as insertion_type,
        cast(ad_start_s as {{ type_double() }}) as ad_start_s,
        cast(ad_end_s as {{ type_double() }}) as ad_end_s,
        cast(cost as {{ type_double() }}) as cost,
        cast(promo_code as {{ dbt.type_string() }}) as promo_code,
        cast(vanity_url as {{ dbt.type_string() }}) as vanity_url,
        _extracted_at,
        _batch_id,
        _source_row

    from source

),

latest as (

    select
        *,
        {{ landing_version_rank('tenant_id, placement_id') }} as version_rank

    from renamed

),

final as (

    select
        tenant_id,
        placement_id,
        campaign_id,
        episode_id,
        position,
        read_type,
        insertion_type,
        ad_start_s,
        ad_end_s,
        cost,
        promo_code,
        vanity_url

    from latest
    where version_rank = 1

)

select * from final
