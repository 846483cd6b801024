{#- Pseudonymise a personal value (an IP network, an e-mail address) so it can be joined on but
    not read: lower-case hex HMAC-SHA256 (RFC 2104) of the value's UTF-8 text, keyed with the
    tenant's secret. Null in, null out.

    The key is not in this SQL: the session holds the two padded keys (K xor ipad, K xor opad),
    set from the environment of the tenant's dbt run (warehouse/pseudonymisation.py), so compiled
    SQL, dbt artefacts and logs never carry it. HMAC is then two SHA-256 calls:
        sha256(opad || sha256_raw(ipad || value))
    A session without the pads fails loudly instead of writing unkeyed values. -#}
{% macro pseudonymise(expr) -%}
    {{ return(adapter.dispatch('pseudonymise', 'earshot')(expr)) }}
{%- endmacro %}

{% macro default__pseudonymise(expr) -%}
    {{ exceptions.raise_compiler_error(
        "pseudonymise: no keyed HMAC for adapter '" ~ adapter.type() ~ "'; implement "
        ~ adapter.type() ~ "__pseudonymise with the session's pads (see macros/pseudonymise.sql)"
    ) }}
{%- endmacro %}

{% macro duckdb__pseudonymise(expr) -%}
    {%- set missing = "cast(error('no pseudonymisation key in this session: run dbt through earshot, or see docs/developer/dbt.md') as blob)" -%}
    sha256(
        coalesce(cast(getvariable('earshot_hmac_opad') as blob), {{ missing }})
        || unhex(sha256(
            coalesce(cast(getvariable('earshot_hmac_ipad') as blob), {{ missing }})
            || encode(cast({{ expr }} as varchar))
        ))
    )
{%- endmacro %}

{#- current_setting() without missing_ok raises "unrecognized configuration parameter
    earshot.hmac_ipad" when the session has no key. -#}
{% macro postgres__pseudonymise(expr) -%}
    encode(sha256(
        decode(current_setting('earshot.hmac_opad'), 'hex')
        || sha256(
            decode(current_setting('earshot.hmac_ipad'), 'hex')
            || convert_to(cast({{ expr }} as text), 'UTF8')
        )
    ), 'hex')
{%- endmacro %}
