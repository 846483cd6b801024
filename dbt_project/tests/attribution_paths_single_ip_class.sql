-- A path belongs to one household and so to one IP class, the conversion's. Should upstream
-- ever break that, the marts stay consistent (the whole conversion counts as modelled), so this
-- only warns, with the touches whose class differs from their conversion's.
{{ config(severity='warn') }}

with

paths as (
    select
        tenant_id,
        conversion_id,
        touchpoint_id,
        ip_class
    from {{ ref('int_conversion_paths') }}
    where {{ tenant_filter('tenant_id') }}
),

conversions as (
    select
        tenant_id,
        conversion_id,
        ip_class
    from {{ ref('int_conversions') }}
    where {{ tenant_filter('tenant_id') }}
)

select
    paths.tenant_id,
    paths.conversion_id,
    paths.touchpoint_id,
    paths.ip_class as touch_ip_class,
    conversions.ip_class as conversion_ip_class
from paths
inner join conversions
    on conversions.tenant_id = paths.tenant_id
    and conversions.conversion_id = paths.conversion_id
where coalesce(paths.ip_class, '') <> coalesce(conversions.ip_class, '')
