{#- First touch: the earliest touch of the path (touch_index 1, in (touch_ts, touchpoint_id)
    order) gets all the credit. fct_attribution_credits keeps only the credited touch: a
    zero-credit row per other touch would add rows without adding information. -#}
{% macro attribution_first_touch_credit() -%}
    case when touch_index = 1 then 1 else 0 end
{%- endmacro %}
