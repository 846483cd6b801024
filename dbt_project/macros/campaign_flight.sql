{#- True when the UTC date `day` is in the flight of a campaign whose dates are
    `<relation>.start_date` and `<relation>.end_date`: both ends inclusive, a missing bound open.
    The one flight rule of impressions, incrementality and placement performance. -#}
{% macro in_campaign_flight(day, relation) -%}
    ({{ relation }}.start_date is null or {{ day }} >= {{ relation }}.start_date)
        and ({{ relation }}.end_date is null or {{ day }} <= {{ relation }}.end_date)
{%- endmacro %}
