-- Conversion paths keep their promises: every touch at or before its conversion and within the
-- lookback window, touch_index running 1..touch_count without gaps or repeats, and indices
-- following (touch_ts, touchpoint_id). seconds_before_conversion is a float computed from
-- epochs, so the window edge gets a millisecond of slack; the join itself is exact.
{%- set settings = attribution_settings() %}

with

paths as (
    select
        tenant_id,
        conversion_id,
        touchpoint_id,
        touch_ts,
        conversion_ts,
        seconds_before_conversion,
        touch_index,
        touch_count,
        lag(touch_ts) over (
            partition by tenant_id, conversion_id order by touch_index
        ) as previous_touch_ts
    from {{ ref('int_conversion_paths') }}
    where {{ tenant_filter('tenant_id') }}
),

row_problems as (
    select
        tenant_id,
        conversion_id,
        touchpoint_id,
        case
            when touch_ts > conversion_ts then 'touch after the conversion'
            when seconds_before_conversion < 0 then 'negative seconds_before_conversion'
            when seconds_before_conversion > {{ settings.lookback_seconds }} + 0.001
                then 'touch outside the lookback window'
            when previous_touch_ts > touch_ts then 'touch_index out of touch_ts order'
        end as problem
    from paths
),

path_problems as (
    select
        tenant_id,
        conversion_id,
        cast(null as {{ dbt.type_string() }}) as touchpoint_id,
        'touch_index is not 1..touch_count' as problem
    from paths
    group by tenant_id, conversion_id
    having min(touch_index) <> 1
        or max(touch_index) <> count(*)
        or count(distinct touch_index) <> count(*)
        or min(touch_count) <> count(*)
        or max(touch_count) <> count(*)
)

select * from row_problems where problem is not null
union all
select * from path_problems
