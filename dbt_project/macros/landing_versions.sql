{#- Rank of a landed row among the versions of one record: 1 for the latest landing (the latest
    extraction, then the latest batch, then the last row of the batch). Staging keeps rank 1,
    so a record landed again (a corrected export, a re-synced page) replaces the earlier one.
    `key` is the record's key columns, comma-separated. -#}
{% macro landing_version_rank(key) -%}
    row_number() over (
            partition by {{ key }}
            order by _extracted_at desc, _batch_id desc, _source_row desc
        )
{%- endmacro %}
