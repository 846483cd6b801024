{#- A lower-case hex id derived from several columns (contracts.md: ids derived by hashing).
    Each value is cast to text and nulls get a marker, so a null column still yields an id and
    (null, 'a') differs from ('', 'a'); a separator keeps ('ab', 'c') apart from ('a', 'bc'). -#}
{% macro hashed_id(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_earshot_null_')") -%}
    {%- endfor -%}
    {{ dbt.hash(parts | join(" || '|' || ")) }}
{%- endmacro %}
