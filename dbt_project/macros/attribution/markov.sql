{#- The Markov model's states (docs/user/attribution.md, "The sixth model: markov"): '#start',
    one per campaign ('campaign:' || campaign_id, so no campaign id can collide with the fixed
    states), '#no_campaign' for touches without one, and the absorbing '#conversion' and '#null'. -#}
{% macro markov_state(campaign_column) -%}
    case
        when {{ campaign_column }} is null then '#no_campaign'
        else {{ dbt.concat(["'campaign:'", campaign_column]) }}
    end
{%- endmacro %}

{#- var('markov_iterations'), validated: the number of value-iteration steps (1 to 1000). -#}
{% macro markov_iterations() -%}
    {%- set raw = var('markov_iterations') -%}
    {%- if raw is string and modules.re.fullmatch('[0-9]+', raw | trim) -%}
        {%- set raw = raw | trim | int -%}
    {%- endif -%}
    {%- if raw is not number or raw is boolean or raw != raw | int or raw < 1 or raw > 1000 -%}
        {{- exceptions.raise_compiler_error(
            "var 'markov_iterations' must be a whole number from 1 to 1000, got: " ~ raw) -}}
    {%- endif -%}
    {{- return(raw | int) -}}
{%- endmacro %}
