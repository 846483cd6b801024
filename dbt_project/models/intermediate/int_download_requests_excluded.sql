{#- The requests that cannot count, each with its reason (int_download_requests_classified):
    what explains the gap between the log and the download counts. -#}

with

classified as (

    select * from {{ ref('int_download_requests_classified') }}
    where {{ tenant_filter('tenant_id') }}

),

final as (

    select * from classified
    where exclusion_reason is not null

)

select * from final
