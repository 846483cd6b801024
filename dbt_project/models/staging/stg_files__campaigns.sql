with

source as (

    select * from {{ source('files', 'campaigns') }}
    where {{ tenant_filter('_tenant_id') }}

),

renamed as (

    select
        cast(_tenant_id as {{ dbt.type_string() }}) as tenant_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(advertiser as {{ dbt.type_string() }}) as advertiser,
        cast(name as {{ dbt.type_string() }}) as campaign_name,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(budget as {{ type_double() }}) as budget,
        upper(trim(cast(currency as {{ dbt.type_string() }}))) as currency,
        _extracted_at,
        _batch_id,
        _source_row

    from source

),

latest as (

    select
        *,
        {{ landing_version_rank('tenant_id, campaign_id') }} as version_rank

    from renamed

),

final as (

    select
        tenant_id,
        campaign_id,
        advertiser,
        campaign_name,
        start_date,
        end_date,
        budget,
        currency

    from latest
    where version_rank = 1

)

select * from final
