{#- True when `expr` matches the regular expression `pattern` (a Jinja string, POSIX/RE2
    syntax common to both engines: classes, alternation, anchors, {m,n}). Regex functions differ
    per engine, hence the dispatch. Null in, null out. -#}
{% macro regex_matches(expr, pattern, case_insensitive=false) -%}
    {{ return(adapter.dispatch('regex_matches', 'earshot')(expr, pattern, case_insensitive)) }}
{%- endmacro %}

{% macro _regex_literal(pattern) -%}
    '{{ pattern | replace("'", "''") }}'
{%- endmacro %}

{% macro default__regex_matches(expr, pattern, case_insensitive) -%}
    regexp_like({{ expr }}, {{ _regex_literal(('(?i)' if case_insensitive else '') ~ pattern) }})
{%- endmacro %}

{% macro duckdb__regex_matches(expr, pattern, case_insensitive) -%}
    regexp_matches({{ expr }}, {{ _regex_literal(pattern) }}{% if case_insensitive %}, 'i'{% endif %})
{%- endmacro %}

{% macro postgres__regex_matches(expr, pattern, case_insensitive) -%}
    ({{ expr }} {{ '~*' if case_insensitive else '~' }} {{ _regex_literal(pattern) }})
{%- endmacro %}

{% macro spark__regex_matches(expr, pattern, case_insensitive) -%}
    ({{ expr }} rlike {{ _regex_literal(('(?i)' if case_insensitive else '') ~ pattern) }})
{%- endmacro %}
