{#- Last touch: the latest touch of the path (touch_index = touch_count) gets all the credit.
    Only the credited touch is emitted, as for first touch. -#}
{% macro attribution_last_touch(paths) -%}
    select
        {{ attribution_credit_columns('last_touch', '1') }}
    from {{ paths }}
    where touch_index = touch_count
{%- endmacro %}
