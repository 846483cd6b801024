{#- Path transforms (docs/user/attribution.md, "Path transforms"): which touches of a path, taken
    in time order with the campaign as the channel, stay on it before the models credit it.
    Applied alike to converting paths (int_conversion_paths) and non-converting journeys
    (int_non_converting_journeys), so the Markov chain learns from the paths it credits.

    none, unique  every touch stays (`unique` is the identity in Google's fractribution and in
                  DP6's marketing-attribution-models: each touch counts as its own event)
    exposure      a run of consecutive touches of the same campaign collapses to its first touch
    first         each campaign keeps only its first touch
    remove_if_not_all
                  the touches of var('path_transform_target') (a campaign id) are removed, unless
                  every touch of the path is of that campaign (then the path stays whole)

    Every transform keeps at least one touch of every path, so no conversion loses its path. -#}

{% macro attribution_path_transforms() -%}
    {{- return(['none', 'exposure', 'first', 'unique', 'remove_if_not_all']) -}}
{%- endmacro %}

{#- Returns {name, target}: the validated var path_transform and, for remove_if_not_all, the
    campaign id var path_transform_target. A bad value stops the build with the var's name. -#}
{% macro attribution_path_transform() -%}
    {%- set name = var('path_transform') -%}
    {%- if name is none or name is not string or name not in attribution_path_transforms() -%}
        {{- exceptions.raise_compiler_error(
            "var 'path_transform' must be one of " ~ attribution_path_transforms() | join(', ')
            ~ ", got: " ~ name) -}}
    {%- endif -%}
    {%- set target = var('path_transform_target') -%}
    {%- if name == 'remove_if_not_all' and (target is none or target is not string
            or target | trim == '') -%}
        {{- exceptions.raise_compiler_error(
            "var 'path_transform_target' must name the campaign id that path_transform "
            ~ "remove_if_not_all removes, got: " ~ target) -}}
    {%- endif -%}
    {{- return({'name': name, 'target': target}) -}}
{%- endmacro %}

{#- Window columns the keep rule needs, over a relation with campaign_id and raw_index (the
    touch's position before the transform), one path per `partition_by`. -#}
{% macro attribution_path_transform_columns(partition_by) -%}
    {%- set transform = attribution_path_transform() -%}
    lag(campaign_id) over (
        partition by {{ partition_by }} order by raw_index
    ) as previous_campaign_id,
    row_number() over (
        partition by {{ partition_by }}, campaign_id order by raw_index
    ) as campaign_occurrence,
    {%- if transform.name == 'remove_if_not_all' %}
    sum(
        case when campaign_id = {{ attribution_sql_string(transform.target) }} then 0 else 1 end
    ) over (partition by {{ partition_by }}) as other_campaign_touches
    {%- else %}
    cast(null as {{ dbt.type_bigint() }}) as other_campaign_touches
    {%- endif %}
{%- endmacro %}

{#- True when the touch stays on its path under var('path_transform'). A touch without a campaign
    is its own channel: two in a row are a repeat. -#}
{% macro attribution_path_transform_keep() -%}
    {%- set transform = attribution_path_transform() -%}
    {%- if transform.name in ('none', 'unique') -%}
    (1 = 1)
    {%- elif transform.name == 'exposure' -%}
    (
        raw_index = 1
        or not (
            (campaign_id is null and previous_campaign_id is null)
            or coalesce(campaign_id = previous_campaign_id, false)
        )
    )
    {%- elif transform.name == 'first' -%}
    (campaign_occurrence = 1)
    {%- elif transform.name == 'remove_if_not_all' -%}
    (
        campaign_id is null
        or campaign_id <> {{ attribution_sql_string(transform.target) }}
        or other_campaign_touches = 0
    )
    {%- endif -%}
{%- endmacro %}

{#- A var's text as a SQL string literal, quotes doubled. -#}
{% macro attribution_sql_string(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{#- The CTEs that turn `source_cte` (touches with campaign_id, placement_id, touchpoint_id and
    touch_ts, one path per `partition_by`) into the transformed path, ending in `numbered`:
    raw_index is the touch's place before the transform, touch_index/touch_count after it.
    Ties (one download carrying two placements) are broken by the tenant's own placement id
    before the hashed touchpoint id, so credits never depend on the pseudonymisation key:
    rotating it leaves every attribution number unchanged. Emits no trailing comma: the
    model's final select follows. -#}
{% macro attribution_transformed_path_ctes(source_cte, partition_by) %}
raw_numbered as (
    select
        {{ source_cte }}.*,
        row_number() over (
            partition by {{ partition_by }}
            order by
                touch_ts,
                {{ attribution_id_order('placement_id') }},
                {{ attribution_id_order('touchpoint_id') }}
        ) as raw_index
    from {{ source_cte }}
),

transform_columns as (
    select
        raw_numbered.*,
        {{ attribution_path_transform_columns(partition_by) }}
    from raw_numbered
),

kept as (
    select *
    from transform_columns
    where {{ attribution_path_transform_keep() }}
),

numbered as (
    -- raw_index is unique within a path, so the renumbering keeps the tie-breaking order.
    select
        kept.*,
        row_number() over (
            partition by {{ partition_by }} order by raw_index
        ) as touch_index,
        count(*) over (partition by {{ partition_by }}) as touch_count
    from kept
)
{% endmacro %}
