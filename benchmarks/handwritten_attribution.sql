-- The yardstick for the attribution stage: one hand-written DuckDB query doing the same join
-- and the same five models as int_conversion_paths + fct_attribution_credits.
create or replace table bench.handwritten_credits as
with paths as (
    select
        c.tenant_id, c.conversion_id, c.revenue, t.touchpoint_id, t.campaign_id,
        (epoch(c.conversion_ts) - epoch(t.touch_ts)) / 86400.0 as days_before,
        row_number() over w as idx,
        count(*) over (partition by c.tenant_id, c.conversion_id) as n
    from intermediate.int_conversions as c
    join intermediate.int_touchpoints as t
        on t.tenant_id = c.tenant_id and t.household_id = c.household_id
    where t.touch_ts <= c.conversion_ts
      and epoch(c.conversion_ts) - epoch(t.touch_ts) <= 30 * 86400
    window w as (partition by c.tenant_id, c.conversion_id order by t.touch_ts, t.placement_id, t.touchpoint_id)
),
weighted as (
    select
        *,
        pow(2.0, -days_before / 7.0)
            / sum(pow(2.0, -days_before / 7.0)) over (partition by tenant_id, conversion_id)
            as w_decay
    from paths
)
select tenant_id, conversion_id, touchpoint_id, campaign_id, m.model,
       m.credit, m.credit * revenue as credited_revenue
from weighted,
lateral (
    select * from (values
        ('first_touch', case when idx = 1 then 1.0 else 0.0 end),
        ('last_touch', case when idx = n then 1.0 else 0.0 end),
        ('linear', 1.0 / n),
        ('time_decay', w_decay),
        ('position_based', case when n = 1 then 1.0 when n = 2 then 0.5
                                when idx = 1 or idx = n then 0.4 else 0.2 / (n - 2) end)
    ) as v(model, credit)
) as m
-- Like the mart, first and last touch keep only the credited touch.
where m.credit > 0 or m.model not in ('first_touch', 'last_touch')
