{#- Listeners per show and period (UTC day, ISO week starting Monday, calendar month): the
    unique listeners (network + user agent, IAB) with at least one counted download of the
    show's episodes in the period, and those downloads. A listener counts once per show and
    period however many episodes or downloads; across shows they are not additive (one listener
    of two shows is one listener of each). Episodes missing from the catalogue have a null
    show_id and form their own group. -#}

with

downloads as (

    select * from {{ ref('int_downloads') }}
    where {{ tenant_filter('tenant_id') }}

),

download_periods as (

    {#- One copy of each download per period kind, stamped with the period's first day. -#}
    {%- set period_starts = {
        'day': 'download_date',
        'week': "cast(" ~ dbt.date_trunc('week', 'download_date') ~ " as date)",
        'month': "cast(" ~ dbt.date_trunc('month', 'download_date') ~ " as date)",
    } %}
    {%- for period, period_start in period_starts.items() %}
    {%- if not loop.first %}

    union all
    {% endif %}

    select
        tenant_id,
        show_id,
        count_window,
        '{{ period }}' as period,
        {{ period_start }} as period_start,
        network_key,
        user_agent
    from downloads
    {%- endfor %}

),

listener_periods as (

    select
        tenant_id,
        show_id,
        count_window,
        period,
        period_start,
        network_key,
        user_agent,
        count(*) as downloads

    from download_periods
    group by tenant_id, show_id, count_window, period, period_start, network_key, user_agent

),

final as (

    select
        tenant_id,
        show_id,
        cast(period as {{ dbt.type_string() }}) as period,
        period_start,
        cast(count(*) as {{ dbt.type_bigint() }}) as listeners,
        cast(sum(downloads) as {{ dbt.type_bigint() }}) as downloads,
        count_window

    from listener_periods
    group by tenant_id, show_id, count_window, period, period_start

)

select * from final
