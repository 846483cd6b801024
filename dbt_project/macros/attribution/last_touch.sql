{#- Last touch: the latest touch of the path (touch_index = touch_count) gets all the credit.
    Only the credited touch is kept, as for first touch. -#}
{% macro attribution_last_touch_credit() -%}
    case when touch_index = touch_count then 1 else 0 end
{%- endmacro %}
