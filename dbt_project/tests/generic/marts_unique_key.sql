{#- Fails with the duplicated keys when a combination of columns is not unique (dbt's own
    `unique` takes one column). Nulls group together, so a repeated null key is a duplicate too. -#}
{% test marts_unique_key(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as duplicate_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
