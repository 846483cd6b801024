{#- Position based (U-shaped): one touch gets 100%; two touches 50/50; from three touches on the
    first gets first_weight, the last gets last_weight and the n - 2 middle touches share the
    rest equally. `1 - first - last` is computed by the database on the decimal literals (exact
    on both engines) before the cast to float, so 1 - 0.4 - 0.4 is 0.2 and not 0.19999999999999996. -#}
{% macro attribution_position_based_credit(first_weight, last_weight) -%}
    {%- set float_type = type_double() -%}
    case
        when touch_count = 1 then cast(1 as {{ float_type }})
        when touch_count = 2 then cast(0.5 as {{ float_type }})
        when touch_index = 1 then cast({{ first_weight }} as {{ float_type }})
        when touch_index = touch_count then cast({{ last_weight }} as {{ float_type }})
        else
            cast(1 - {{ first_weight }} - {{ last_weight }} as {{ float_type }})
            / cast(touch_count - 2 as {{ float_type }})
    end
{%- endmacro %}
