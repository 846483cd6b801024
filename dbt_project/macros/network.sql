{#- Network identity of an IP address, computed in SQL that runs unchanged on DuckDB and
    PostgreSQL (and any engine with split_part, lpad, repeat and replace).

    An address is reduced to its *network*: an IPv4 address is its own network (written
    canonically, so 010.0.0.1 and 10.0.0.1 agree); an IPv6 address is reduced to its /64 prefix,
    written as four full, lower-case, four-digit groups ("2001:0db8:0000:0001"), because one
    household's devices share a /64 and rotate the lower 64 bits (IAB: "IPv6 truncated to the
    first /64"). Staging hashes the network (see pseudonymise.sql); the address never leaves
    staging. -#}

{#- Lower-cased, trimmed address with an IPv6 zone id ("fe80::1%eth0") removed, and an
    IPv4-mapped IPv6 address ("::ffff:192.0.2.1") unwrapped to the IPv4 address it carries. -#}
{% macro normalise_ip(ip) -%}
    {%- set cleaned = dbt.split_part("lower(trim(" ~ ip ~ "))", "'%'", 1) -%}
    case
        when {{ cleaned }} like '::ffff:%.%' then substr({{ cleaned }}, 8)
        else {{ cleaned }}
    end
{%- endmacro %}

{#- 4, 6, or null when the (normalised) address is not a well-formed IPv4 or IPv6 address.
    IPv6: groups of one to four hex digits (the last two may be a dotted IPv4 tail), at most one
    "::" standing for one or more zero groups, and eight groups in all (at most seven written
    when there is a "::"). -#}
{% macro ip_version(ip) -%}
    {%- set octet = '(0*(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))' -%}
    {%- set v4 = '^' ~ octet ~ '(\\.' ~ octet ~ '){3}$' -%}
    {%- set v6_shape = '^(([0-9a-f]{1,4})?:)+([0-9a-f]{1,4}|[0-9]{1,3}(\\.[0-9]{1,3}){3})?$' -%}
    case
        when {{ regex_matches(ip, v4) }} then 4
        when {{ regex_matches(ip, v6_shape) }}
            and {{ ip }} not like '%:::%'
            and {{ ip }} not like '%::%::%'
            and ({{ ip }} not like ':%' or {{ ip }} like '::%')
            and ({{ ip }} not like '%:' or {{ ip }} like '%::')
            and (
                case
                    when {{ ip }} like '%::%' then
                        ({{ _ipv6_group_count(dbt.split_part(ip, "'::'", 1)) }})
                        + ({{ _ipv6_group_count(dbt.split_part(ip, "'::'", 2)) }}) <= 7
                    else ({{ _ipv6_group_count(ip) }}) = 8
                end
            )
            then 6
    end
{%- endmacro %}

{#- Canonical dotted quad of a well-formed IPv4 address (leading zeros dropped). -#}
{% macro ipv4_canonical(ip) -%}
    {%- set parts = [] -%}
    {%- for i in range(1, 5) -%}
        {%- do parts.append("cast(cast(" ~ dbt.split_part(ip, "'.'", i) ~ " as integer) as " ~ dbt.type_string() ~ ")") -%}
    {%- endfor -%}
    {{ parts | join(" || '.' || ") }}
{%- endmacro %}

{#- Number of 16-bit groups in a run of colon-separated IPv6 groups; an embedded IPv4 tail
    ("1.2.3.4") fills two groups. -#}
{% macro _ipv6_group_count(groups) -%}
    case
        when {{ groups }} = '' then 0
        else length({{ groups }}) - length(replace({{ groups }}, ':', '')) + 1
            + case when {{ groups }} like '%.%' then 1 else 0 end
    end
{%- endmacro %}

{#- The /64 prefix of a well-formed, lower-case IPv6 address as four full four-digit groups:
    2001:db8::1 -> 2001:0db8:0000:0000, 2600:1f00:abcd:12:3:4:5:6 -> 2600:1f00:abcd:0012.
    "::" is expanded to the number of zero groups the address leaves out (8 minus the groups
    written before and after it). Also accepts a bare prefix of four groups (the seed's bounds). -#}
{% macro ipv6_prefix64(ip) -%}
    {%- set head = dbt.split_part(ip, "'::'", 1) -%}
    {%- set tail = dbt.split_part(ip, "'::'", 2) -%}
    {%- set missing = "greatest(8 - (" ~ _ipv6_group_count(head) ~ ") - (" ~ _ipv6_group_count(tail) ~ "), 0)" -%}
    {%- set expanded -%}
        (case
            when {{ ip }} like '%::%' then
                {{ head }}
                || case when {{ head }} = '' then '' else ':' end
                || repeat('0:', {{ missing }})
                || {{ tail }}
            else {{ ip }}
        end)
    {%- endset -%}
    {%- set groups = [] -%}
    {%- for i in range(1, 5) -%}
        {%- do groups.append("lpad(" ~ dbt.split_part(expanded, "':'", i) ~ ", 4, '0')") -%}
    {%- endfor -%}
    {{ groups | join(" || ':' || ") }}
{%- endmacro %}

{#- The network an address belongs to (see the top of this file); null for a malformed one.
    `ip` must be normalised and `version` computed by ip_version(). -#}
{% macro ip_network(version, ip) -%}
    case
        when {{ version }} = 4 then {{ ipv4_canonical(ip) }}
        when {{ version }} = 6 then {{ ipv6_prefix64(ip) }}
    end
{%- endmacro %}

{#- Fixed-width key of a network that orders like the address: IPv4 as twelve decimal digits
    (three per octet), IPv6 as the sixteen hex digits of the /64. Both sides of a range
    comparison use it, so a plain string comparison classifies an address against the
    ip_class_ranges seed; it is only ever used inside staging. -#}
{% macro ip_sort_key(version, network) -%}
    {%- set octets = [] -%}
    {%- for i in range(1, 5) -%}
        {%- do octets.append("lpad(" ~ dbt.split_part(network, "'.'", i) ~ ", 3, '0')") -%}
    {%- endfor -%}
    case
        when {{ version }} = 4 then {{ octets | join(' || ') }}
        when {{ version }} = 6 then replace({{ network }}, ':', '')
    end
{%- endmacro %}

{#- The household a network stands for. Today one network is one household; a later household
    graph (IP + user agent over time) can change this one place. -#}
{% macro household_id_for_network(network_key) -%}
    {{ dbt.hash(network_key) }}
{%- endmacro %}
