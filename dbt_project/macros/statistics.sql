{#- The standard normal distribution in portable SQL (only abs, exp, ln, sqrt, least and case,
    which every engine the project targets has), for the p-values, confidence intervals and
    power of rpt_incrementality. tests/integration/test_statistics_macros.py checks both
    against Python's statistics.NormalDist on DuckDB and PostgreSQL. -#}

{#- P(Z <= x). Phi(x) = (1 + erf(x / sqrt(2))) / 2, with erf from Abramowitz & Stegun 7.1.26
    (absolute error of erf at most 1.5e-7, so of Phi at most 7.5e-8), evaluated on |x| and
    mirrored for negative x. The square is capped at 700 before exp(): PostgreSQL raises an
    underflow error below exp(-745) where DuckDB returns 0, and exp(-700) is 0 for this
    purpose. -#}
{% macro normal_cdf(x) -%}
    {%- set u = "(abs(cast(" ~ x ~ " as " ~ type_double() ~ ")) / 1.4142135623730951)" -%}
    {%- set t = "(1.0 / (1.0 + 0.3275911 * " ~ u ~ "))" -%}
    {%- set erf_abs -%}
        (1.0 - ({{ t }} * (0.254829592 + {{ t }} * (-0.284496736 + {{ t }} * (1.421413741
        + {{ t }} * (-1.453152027 + {{ t }} * 1.061405429))))) * exp(-least({{ u }} * {{ u }}, 700.0)))
    {%- endset -%}
    (case
        when {{ x }} is null then null
        when {{ x }} >= 0 then 0.5 * (1.0 + {{ erf_abs }})
        else 0.5 * (1.0 - {{ erf_abs }})
    end)
{%- endmacro %}

{#- The p-quantile of the standard normal, Phi^-1(p) for 0 < p < 1 (null outside), by
    Acklam's rational approximation (relative error at most 1.15e-9): a central rational
    function for 0.02425 <= p <= 0.97575 and tail functions of sqrt(-2 ln p) beyond. -#}
{% macro normal_quantile(p) -%}
    {%- set pp = "cast(" ~ p ~ " as " ~ type_double() ~ ")" -%}
    {%- set a = [-39.69683028665376, 220.9460984245205, -275.9285104469687,
                 138.3577518672690, -30.66479806614716, 2.506628277459239] -%}
    {%- set b = [-54.47609879822406, 161.5858368580409, -155.6989798598866,
                 66.80131188771972, -13.28068155288572] -%}
    {%- set c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838,
                 -2.549732539343734, 4.374664141464968, 2.938163982698783] -%}
    {%- set d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996,
                 3.754408661907416] -%}
    {%- set q_low = "sqrt(-2.0 * ln(" ~ pp ~ "))" -%}
    {%- set q_high = "sqrt(-2.0 * ln(1.0 - " ~ pp ~ "))" -%}
    {%- set r = "((" ~ pp ~ " - 0.5) * (" ~ pp ~ " - 0.5))" -%}
    (case
        when {{ pp }} is null or {{ pp }} <= 0 or {{ pp }} >= 1 then null
        when {{ pp }} < 0.02425 then
            ({{ _normal_tail(c, d, q_low) }})
        when {{ pp }} > 0.97575 then
            -({{ _normal_tail(c, d, q_high) }})
        else
            ({{ pp }} - 0.5) * ((((({{ a[0] }} * {{ r }} + {{ a[1] }}) * {{ r }} + {{ a[2] }}) * {{ r }}
            + {{ a[3] }}) * {{ r }} + {{ a[4] }}) * {{ r }} + {{ a[5] }})
            / ((((({{ b[0] }} * {{ r }} + {{ b[1] }}) * {{ r }} + {{ b[2] }}) * {{ r }} + {{ b[3] }})
            * {{ r }} + {{ b[4] }}) * {{ r }} + 1.0)
    end)
{%- endmacro %}

{% macro _normal_tail(c, d, q) -%}
    ((((({{ c[0] }} * {{ q }} + {{ c[1] }}) * {{ q }} + {{ c[2] }}) * {{ q }} + {{ c[3] }}) * {{ q }}
    + {{ c[4] }}) * {{ q }} + {{ c[5] }})
    / (((({{ d[0] }} * {{ q }} + {{ d[1] }}) * {{ q }} + {{ d[2] }}) * {{ q }} + {{ d[3] }}) * {{ q }} + 1.0)
{%- endmacro %}

{#- Incrementality settings (dbt_project.yml, "# Incrementality"), validated once so that a
    bad override stops the build with the var's name. -#}
{% macro incrementality_settings() -%}
    {%- set s = {} -%}
    {%- for name in ['incrementality_conversion_window_days', 'incrementality_pre_period_days',
                     'incrementality_confidence', 'incrementality_power',
                     'incrementality_min_group_households', 'incrementality_min_relative_lift'] -%}
        {%- set raw = var(name) -%}
        {%- if raw is number and raw is not boolean -%}
            {%- do s.update({name: raw | float}) -%}
        {%- elif raw is string and modules.re.fullmatch('[0-9]+(\.[0-9]+)?', raw | trim) -%}
            {%- do s.update({name: raw | trim | float}) -%}
        {%- else -%}
            {{- exceptions.raise_compiler_error(
                "incrementality setting var '" ~ name ~ "' must be a number, got: " ~ raw) -}}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in ['incrementality_conversion_window_days', 'incrementality_min_relative_lift'] -%}
        {%- if s[name] <= 0 -%}
            {{- exceptions.raise_compiler_error(
                "var '" ~ name ~ "' must be greater than 0, got: " ~ s[name]) -}}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in ['incrementality_pre_period_days', 'incrementality_min_group_households'] -%}
        {%- if s[name] < 0 or s[name] != (s[name] | int) -%}
            {{- exceptions.raise_compiler_error(
                "var '" ~ name ~ "' must be a whole number >= 0, got: " ~ s[name]) -}}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in ['incrementality_confidence', 'incrementality_power'] -%}
        {%- if s[name] <= 0 or s[name] >= 1 -%}
            {{- exceptions.raise_compiler_error(
                "var '" ~ name ~ "' must be strictly between 0 and 1, got: " ~ s[name]) -}}
        {%- endif -%}
    {%- endfor -%}
    {%- set window_seconds = s['incrementality_conversion_window_days'] * 86400 -%}
    {%- if (window_seconds - (window_seconds | round(0))) | abs > 1e-6 -%}
        {{- exceptions.raise_compiler_error(
            "var 'incrementality_conversion_window_days' must be a whole number of seconds, got: "
            ~ s['incrementality_conversion_window_days']) -}}
    {%- endif -%}
    {%- set edges = var('incrementality_pre_period_buckets') -%}
    {%- set bad = [] -%}
    {%- if not (edges is iterable and edges is not string and edges | length > 0) -%}
        {%- do bad.append(edges) -%}
    {%- else -%}
        {%- for e in edges -%}
            {%- if not (e is number and e is not boolean and e == (e | int) and e >= 1) -%}
                {%- do bad.append(e) -%}
            {%- elif not loop.first and e <= edges[loop.index0 - 1] -%}
                {%- do bad.append(e) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if bad -%}
        {{- exceptions.raise_compiler_error(
            "var 'incrementality_pre_period_buckets' must be a non-empty list of increasing"
            ~ " whole numbers >= 1 (lower bounds of the activity buckets above 0), got: " ~ edges) -}}
    {%- endif -%}
    {{- return({
        'window_days': s['incrementality_conversion_window_days'],
        'window_seconds': window_seconds | round(0) | int,
        'pre_period_days': s['incrementality_pre_period_days'] | int,
        'pre_period_buckets': edges | map('int') | list,
        'confidence': s['incrementality_confidence'],
        'power': s['incrementality_power'],
        'min_group_households': s['incrementality_min_group_households'] | int,
        'min_relative_lift': s['incrementality_min_relative_lift'],
    }) -}}
{%- endmacro %}
