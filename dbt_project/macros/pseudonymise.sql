{#- Pseudonymise a personal value (an IP network, later e-mails) so it can be joined on but not
    read. First cut: a tenant-salted SHA-256, lower-case hex, so the same network gets different
    keys in different tenants. It is NOT keyed: anyone holding the salt (the tenant id) can test
    guesses, and the IPv4 space is small. The keyed HMAC with a per-tenant secret from the
    environment (DESIGN.md, Tenancy and security) replaces this macro's body in a later issue;
    every caller goes through here so that change is one place. Null in, null out. -#}
{% macro pseudonymise(expr, salt='tenant_id') -%}
    {{ return(adapter.dispatch('pseudonymise', 'earshot')(expr, salt)) }}
{%- endmacro %}

{#- Engines without a SHA-256 function fall back to dbt's MD5 hash. -#}
{% macro default__pseudonymise(expr, salt) -%}
    {{ dbt.hash(_pseudonymise_input(expr, salt)) }}
{%- endmacro %}

{% macro duckdb__pseudonymise(expr, salt) -%}
    sha256({{ _pseudonymise_input(expr, salt) }})
{%- endmacro %}

{% macro postgres__pseudonymise(expr, salt) -%}
    encode(sha256(convert_to({{ _pseudonymise_input(expr, salt) }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro _pseudonymise_input(expr, salt) -%}
    (cast({{ salt }} as {{ dbt.type_string() }}) || '|' || cast({{ expr }} as {{ dbt.type_string() }}))
{%- endmacro %}
