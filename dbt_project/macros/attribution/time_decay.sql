{#- Time decay: a touch t days before the conversion (fractional days) weighs 2^(-t / H), H the
    half-life in days; its credit is its weight over the path's total weight.

    The weights are taken relative to the path's most recent touch, 2^(-(t - t_min) / H): the
    common factor 2^(-t_min / H) cancels in the ratio, the latest touch weighs exactly 1 and the
    total is at least 1, so no weight underflows to 0 however long the window or short the
    half-life. A one-touch path gets 1 / 1 = 100%.

    Two steps, because the total is a window over the weights: `attribution_time_decay_weight`
    gives the weight (a column `decay_weight`), `attribution_time_decay_credit` the share. -#}
{% macro attribution_time_decay_weight(half_life_days) -%}
    {%- set float_type = type_double() -%}
    power(
        cast(2 as {{ float_type }}),
        -1 * (
            (
                seconds_before_conversion
                - min(seconds_before_conversion) over (partition by tenant_id, conversion_id)
            )
            / cast(86400 as {{ float_type }})
        )
        / cast({{ half_life_days }} as {{ float_type }})
    )
{%- endmacro %}

{% macro attribution_time_decay_credit() -%}
    decay_weight / sum(decay_weight) over (partition by tenant_id, conversion_id)
{%- endmacro %}
