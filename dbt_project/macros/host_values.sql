{#- A host's text value, trimmed, with the words hosts write for "not known" ("Unknown",
    "Unknown Device", an empty string) as null: a count by app then has one unknown group, not
    three spellings of it. -#}
{% macro host_known_value(column) -%}
    case
        when lower(trim(cast({{ column }} as {{ dbt.type_string() }})))
            in ('', 'unknown', 'unknown device', 'n/a')
            then null
        else trim(cast({{ column }} as {{ dbt.type_string() }}))
    end
{%- endmacro %}


{#- Whether a host platform's daily figures are views, not downloads (var view_platforms). -#}
{% macro is_view_platform(column) -%}
    {%- set platforms = var('view_platforms', []) -%}
    {%- if platforms | length == 0 -%}
        (1 = 0)
    {%- else -%}
        ({{ column }} in (
            {%- for platform in platforms -%}
                '{{ platform | lower | replace("'", "''") }}'{{ ', ' if not loop.last }}
            {%- endfor -%}
        ))
    {%- endif -%}
{%- endmacro %}
