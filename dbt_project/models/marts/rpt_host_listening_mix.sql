{#- Who listens how, as the hosting platform logged it: downloads per show and day split by
    listening app, device type, country and media type, with each group's share of the show's
    downloads that day. One row per tenant, platform, show, day, dimension and value; the
    host's unknowns are the value 'unknown', so the shares of a dimension add up to 1. -#}

with

events as (

    select * from {{ ref('stg_files__host_download_events') }}
    where {{ tenant_filter('tenant_id') }}

),

by_dimension as (

    {% for dimension in ['app', 'device_type', 'country_code', 'media_type'] %}
    select
        tenant_id,
        platform,
        show_id,
        report_date,
        cast('{{ dimension }}' as {{ dbt.type_string() }}) as dimension,
        coalesce({{ dimension }}, 'unknown') as dimension_value
    from events
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

counted as (

    select
        tenant_id,
        platform,
        show_id,
        report_date,
        dimension,
        dimension_value,
        count(*) as downloads

    from by_dimension
    group by tenant_id, platform, show_id, report_date, dimension, dimension_value

),

final as (

    select
        tenant_id,
        platform,
        show_id,
        cast(report_date as date) as download_date,
        dimension,
        dimension_value,
        cast(downloads as {{ dbt.type_bigint() }}) as downloads,
        cast(downloads as {{ type_double() }}) / sum(downloads) over (
            partition by tenant_id, platform, show_id, report_date, dimension
        ) as share_of_downloads

    from counted

)

select * from final
