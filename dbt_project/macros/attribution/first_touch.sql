{#- First touch: the earliest touch of the path (touch_index 1, in (touch_ts, touchpoint_id)
    order) gets all the credit. Only the credited touch is emitted: a zero-credit row per other
    touch would add rows without adding information. -#}
{% macro attribution_first_touch(paths) -%}
    select
        {{ attribution_credit_columns('first_touch', '1') }}
    from {{ paths }}
    where touch_index = 1
{%- endmacro %}
